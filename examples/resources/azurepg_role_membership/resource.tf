# Everybody in the Entra group "Orders Analysts" gets the rights of the
# application role orders_readers: they log in with the group's name and
# their own token.
resource "azurepg_principal" "analysts" {
  name = "Orders Analysts"
  type = "group"
}

resource "azurepg_role_membership" "analysts_read" {
  role   = "orders_readers" # an application role that holds the grants
  member = azurepg_principal.analysts.name
}

# The DBA team may also grant orders_readers to others.
resource "azurepg_principal" "dbas" {
  name  = "DBA Team"
  admin = true
}

resource "azurepg_role_membership" "dbas_read" {
  role              = "orders_readers"
  member            = azurepg_principal.dbas.name
  with_admin_option = true
}

# PostgreSQL 16 and later: the login itself may act as orders_owner (SET
# ROLE, to create its tables in a migration) without holding its privileges
# all the time. On PostgreSQL 15 these two options are a plan-time error.
resource "azurepg_role_membership" "deployer_owner" {
  role           = "orders_owner"
  member         = "ci-pipeline-mi" # the Entra admin the provider logs in as
  set_option     = true
  inherit_option = false
}
