# Terraform 1.8+: grants and default privileges move too. The arguments keep
# their names; privileges are written in upper case; a grant on a database
# names no schema; objects is left out for "all tables".
moved {
  from = postgresql_grant.orders_api_connect
  to   = azurepg_grant.orders_api_connect
}

resource "azurepg_grant" "orders_api_connect" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "database"
  privileges  = ["CONNECT"]
}

moved {
  from = postgresql_default_privileges.orders_api_future_tables
  to   = azurepg_default_privileges.orders_api_future_tables
}

resource "azurepg_default_privileges" "orders_api_future_tables" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  owner       = "orders_owner"
  schema      = "sales"
  object_type = "table"
  privileges  = ["DELETE", "INSERT", "SELECT", "UPDATE"]
}
