# Terraform 1.12+: import by identity. A grant's identity is its import ID
# (fields joined by "/"; "%" and "/" inside a name written %25 and %2F).
import {
  to = azurepg_grant.sales_readers
  identity = {
    id = "Sales Readers/orders/table/sales"
  }
}

resource "azurepg_grant" "sales_readers" {
  role        = "Sales Readers"
  database    = "orders"
  object_type = "table"
  schema      = "sales"
  privileges  = ["SELECT"]
}
