# Before: Entra principals made with the general PostgreSQL provider, as a plain
# role plus the security label that pgaadauth reads, with their access.
terraform {
  required_providers {
    postgresql = {
      source = "cyrilgdn/postgresql"
    }
  }
}

resource "postgresql_role" "alice" {
  name  = "alice@contoso.com"
  login = true

  # postgresql_grant_role grants this role its memberships: without this, the
  # role's own roles attribute (empty here) plans to revoke them at every plan.
  lifecycle {
    ignore_changes = [roles]
  }
}

resource "postgresql_security_label" "alice" {
  object_type    = "role"
  object_name    = postgresql_role.alice.name
  label_provider = "pgaadauth"
  label          = "aadauth,oid=6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05,type=user"
}

resource "postgresql_role" "orders_api" {
  name  = "orders-api"
  login = true

  lifecycle {
    ignore_changes = [roles]
  }
}

resource "postgresql_security_label" "orders_api" {
  object_type    = "role"
  object_name    = postgresql_role.orders_api.name
  label_provider = "pgaadauth"
  label          = "aadauth,oid=6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a02,type=service"
}

# The application's schema, owned by the role its migrations run as.
resource "postgresql_schema" "sales" {
  name     = "sales"
  database = "orders"
  owner    = "orders_owner"
}

resource "postgresql_grant" "orders_api_connect" {
  role        = postgresql_role.orders_api.name
  database    = "orders"
  object_type = "database"
  privileges  = ["CONNECT"]
}

resource "postgresql_default_privileges" "orders_api_future_tables" {
  role        = postgresql_role.orders_api.name
  database    = "orders"
  owner       = "orders_owner"
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT", "INSERT", "UPDATE", "DELETE"]
}

resource "postgresql_grant" "orders_api_procedures" {
  role        = postgresql_role.orders_api.name
  database    = "orders"
  schema      = "sales"
  object_type = "procedure"
  privileges  = ["EXECUTE"]
}

# Role memberships. Beware the names: role is the member, grant_role the
# role it receives.
resource "postgresql_grant_role" "orders_api_readers" {
  role       = postgresql_role.orders_api.name
  grant_role = "orders_readers"
}

resource "postgresql_grant_role" "alice_dbas" {
  role              = postgresql_role.alice.name
  grant_role        = "dba_team"
  with_admin_option = true
}
