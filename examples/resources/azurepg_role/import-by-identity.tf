# Terraform 1.12+: import by identity. host is optional (it defaults to the
# provider's host, and another host is an error).
import {
  to = azurepg_role.owner_by_identity
  identity = {
    name = "orders_owner"
  }
}

resource "azurepg_role" "owner_by_identity" {
  name = "orders_owner"
}
