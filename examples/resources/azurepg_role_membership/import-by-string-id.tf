# Adopt a membership that already exists: the id is <role>/<member>, written
# as the names are, except that "%" becomes %25 and "/" becomes %2F.
import {
  to = azurepg_role_membership.alice_readers
  id = "orders_readers/alice@contoso.com"
}

resource "azurepg_role_membership" "alice_readers" {
  role   = "orders_readers"
  member = "alice@contoso.com"
}
