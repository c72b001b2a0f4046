# The schema of an application, owned by the role its migrations run as. The
# login (an Entra admin, not a superuser) must be able to act as that role, so
# it is made a member first (with SET ROLE, the default).
resource "azurepg_role_membership" "deployer_orders_owner" {
  role   = "orders_owner"
  member = "ci-pipeline-mi" # the Entra admin the provider logs in as
}

resource "azurepg_schema" "sales" {
  database = "orders"
  name     = "sales"
  owner    = azurepg_role_membership.deployer_orders_owner.role
}

# Owned by the login itself. A scratch schema whose tables may go with it:
# destroy drops it with CASCADE (tables and data included).
resource "azurepg_schema" "staging" {
  database     = "orders"
  name         = "staging"
  drop_cascade = true
}

# Its privileges are grants of their own.
resource "azurepg_grant" "api_sales_usage" {
  role        = "orders-api"
  database    = azurepg_schema.sales.database
  object_type = "schema"
  schema      = azurepg_schema.sales.name
  privileges  = ["USAGE"]
}
