# Log in to the database "orders"...
resource "azurepg_grant" "connect" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "database"
  privileges  = ["CONNECT"]
}

# ...see what the schema "sales" holds...
resource "azurepg_grant" "sales_usage" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "schema"
  schema      = "sales"
  privileges  = ["USAGE"]
}

# ...read and add rows in every table of the schema (objects not set: all
# the tables there are when Terraform applies or refreshes).
resource "azurepg_grant" "sales_tables" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "table"
  schema      = "sales"
  privileges  = ["SELECT", "INSERT"]
}

# ...and in the tables that orders_owner creates there later.
resource "azurepg_default_privileges" "sales_future_tables" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  owner       = "orders_owner"
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT", "INSERT"]
}
