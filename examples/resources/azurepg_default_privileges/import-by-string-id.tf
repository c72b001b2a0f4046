# Adopt default privileges set by hand (ALTER DEFAULT PRIVILEGES).
import {
  to = azurepg_default_privileges.reports
  id = "Reporting Team/orders/orders_owner/table/sales"
}

resource "azurepg_default_privileges" "reports" {
  role        = "Reporting Team"
  database    = "orders"
  owner       = "orders_owner"
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT"]
}
