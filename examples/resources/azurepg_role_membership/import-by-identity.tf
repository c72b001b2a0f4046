# Terraform 1.12+: import by identity (the names as they are, nothing escaped).
import {
  to = azurepg_role_membership.support_readers
  identity = {
    role   = "orders_readers"
    member = "Orders Support"
  }
}

resource "azurepg_role_membership" "support_readers" {
  role   = "orders_readers"
  member = "Orders Support"
}
