# Tables that "orders_owner" creates in the schema "sales" from now on give
# SELECT and INSERT to the app. Tables that exist already are not touched:
# grant on them with azurepg_grant. The Entra admin that applies this must be
# a member of orders_owner (GRANT orders_owner TO <admin>).
resource "azurepg_default_privileges" "future_tables" {
  role        = "orders-api"
  database    = "orders"
  owner       = "orders_owner"
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT", "INSERT"]
}

# Sequences created by the same owner in any schema of the database.
resource "azurepg_default_privileges" "future_sequences" {
  role        = "orders-api"
  database    = "orders"
  owner       = "orders_owner"
  object_type = "sequence"
  privileges  = ["USAGE", "SELECT"]
}
