# Adopt a role that already exists: the id is the role name exactly as it is.
# A Microsoft Entra principal is refused: import it as azurepg_principal.
import {
  to = azurepg_role.owner_imported
  id = "orders_owner"
}

resource "azurepg_role" "owner_imported" {
  name = "orders_owner"
}
