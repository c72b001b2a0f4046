# Adopt privileges that were granted by hand: the id names the role, the
# database, the object type, the schema and (when objects is set) the objects.
import {
  to = azurepg_grant.reports
  id = "Reporting Team/orders/table/sales"
}

resource "azurepg_grant" "reports" {
  role        = "Reporting Team"
  database    = "orders"
  object_type = "table"
  schema      = "sales"
  privileges  = ["SELECT"] # the plan shows an update when the role holds more or less
}
