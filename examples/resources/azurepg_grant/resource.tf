# The app's managed identity, as an Entra principal.
resource "azurepg_principal" "orders_api" {
  name = "orders-api"
  type = "service"
}

# CONNECT on the database.
resource "azurepg_grant" "connect" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "database"
  privileges  = ["CONNECT"]
}

# USAGE on the schema (needed to reach anything in it).
resource "azurepg_grant" "usage" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "schema"
  schema      = "sales"
  privileges  = ["USAGE"]
}

# SELECT and INSERT on every table of the schema that exists at apply time.
# The schema's tables belong to "orders_owner"; the Entra admin that applies
# this must be a member of it (GRANT orders_owner TO <admin>): it grants as
# the owner. Tables created later get nothing from this resource: give them
# default privileges (azurepg_default_privileges). A later plan shows an
# update when some table lacks one of these privileges.
resource "azurepg_grant" "tables" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "table"
  schema      = "sales"
  privileges  = ["SELECT", "INSERT"]
}

# Only the listed objects: EXECUTE on one function (all its overloads).
resource "azurepg_grant" "refresh" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "function"
  schema      = "sales"
  objects     = ["refresh_totals"]
  privileges  = ["EXECUTE"]
}

# PUBLIC is written "public". This takes TEMPORARY away from every role that
# has it only through PUBLIC, and leaves PUBLIC its CONNECT.
resource "azurepg_grant" "public_connect_only" {
  role        = "public"
  database    = "orders"
  object_type = "database"
  privileges  = ["CONNECT"]
}
