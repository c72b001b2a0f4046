# Adopt roles that already exist: the id is the role name exactly as it is.
import {
  to = azurepg_principal.reporting
  id = "Reporting Team"
}

resource "azurepg_principal" "reporting" {
  name  = "Reporting Team"
  admin = false # admin and mfa must match the existing role, or the plan replaces it
}
