# Terraform 1.12+: import by identity, the import ID as its id.
import {
  to = azurepg_default_privileges.sales_readers
  identity = {
    id = "Sales Readers/orders/orders_owner/table/sales"
  }
}

resource "azurepg_default_privileges" "sales_readers" {
  role        = "Sales Readers"
  database    = "orders"
  owner       = "orders_owner"
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT"]
}
