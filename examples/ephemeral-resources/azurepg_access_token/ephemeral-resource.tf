# The provider's own identity (here the pipeline's managed identity, the
# server's Entra admin) creates a principal, and the general PostgreSQL
# provider, logged in as the same identity with an ephemeral token as its
# password, does what azurepg does not: here, privileges on procedures. The
# token is in neither the plan nor the state.
provider "azurepg" {
  host        = "myserver.postgres.database.azure.com"
  username    = "ci-pipeline-mi"
  auth_method = "managed_identity"
}

ephemeral "azurepg_access_token" "admin" {}

provider "postgresql" {
  host      = "myserver.postgres.database.azure.com"
  port      = 5432
  database  = "postgres"
  username  = "ci-pipeline-mi"
  password  = ephemeral.azurepg_access_token.admin.token
  sslmode   = "verify-full" # verify the server before handing it the token
  superuser = false         # the Entra admin is not a superuser on Azure
}

resource "azurepg_principal" "app" {
  name = "orders-api"
  type = "service"
}

resource "postgresql_grant" "app_procedures" {
  role        = azurepg_principal.app.name
  database    = "orders"
  schema      = "public"
  object_type = "procedure"
  privileges  = ["EXECUTE"]
}

# A user-assigned managed identity other than the provider's: its token logs
# psql in as that identity, in a local-exec provisioner.
ephemeral "azurepg_access_token" "reporting" {
  auth_method = "managed_identity"
  client_id   = "8c5b5e1a-3f1d-4f0e-9a43-2d6a2c1f7b90"
}

resource "terraform_data" "refresh_reports" {
  provisioner "local-exec" {
    command = "psql -c 'REFRESH MATERIALIZED VIEW reporting.daily_orders'"
    environment = {
      PGHOST        = "myserver.postgres.database.azure.com"
      PGDATABASE    = "orders"
      PGUSER        = "reporting-mi"
      PGSSLMODE     = "verify-full" # verify the server before handing it the token
      PGSSLROOTCERT = "system"      # the system trust store (libpq 16 and later)
      PGPASSWORD    = ephemeral.azurepg_access_token.reporting.token
    }
  }
}
