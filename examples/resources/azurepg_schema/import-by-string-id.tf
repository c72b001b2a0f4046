# Adopt a schema that already exists: the id is <database>/<schema>, written as
# the names are, except that "%" becomes %25 and "/" becomes %2F.
import {
  to = azurepg_schema.ledger
  id = "billing/ledger"
}

resource "azurepg_schema" "ledger" {
  database = "billing"
  name     = "ledger"
  owner    = "billing_owner"
}
