# Terraform 1.8+: grants and default privileges move too. The arguments keep
# their names; privileges are written in upper case; a grant on a database
# names no schema; objects is left out for "all tables".
moved {
  from = postgresql_grant.reporting_tables
  to   = azurepg_grant.reporting_tables
}

resource "azurepg_grant" "reporting_tables" {
  role        = "Reporting Team"
  database    = "orders"
  object_type = "table"
  schema      = "sales"
  privileges  = ["SELECT"]
}

moved {
  from = postgresql_default_privileges.reporting_future_tables
  to   = azurepg_default_privileges.reporting_future_tables
}

resource "azurepg_default_privileges" "reporting_future_tables" {
  role        = "Reporting Team"
  database    = "orders"
  owner       = "orders_owner"
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT"]
}
