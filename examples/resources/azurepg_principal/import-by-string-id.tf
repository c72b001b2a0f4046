# Adopt roles that already exist: the id is the role name exactly as it is.
import {
  to = azurepg_principal.reporting
  id = "Reporting Team"
}

resource "azurepg_principal" "reporting" {
  name  = "Reporting Team"
  admin = false # as the role is: a difference in admin or mfa would change it in place
}
