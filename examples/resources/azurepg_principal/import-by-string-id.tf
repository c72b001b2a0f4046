# Adopt roles that already exist: the id is the role name exactly as it is.
import {
  to = azurepg_principal.dbas
  id = "DBA Team"
}

resource "azurepg_principal" "dbas" {
  name  = "DBA Team"
  admin = true # must match the existing role, or the plan replaces it
}
