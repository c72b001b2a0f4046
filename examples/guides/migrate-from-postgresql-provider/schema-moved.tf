# Terraform 1.8+: the schema moves with its owner; nothing is created, dropped
# or re-owned.
moved {
  from = postgresql_schema.sales
  to   = azurepg_schema.sales
}

resource "azurepg_schema" "sales" {
  database = "orders"
  name     = "sales"
  owner    = "orders_owner"
}
