# Run psql as the provider's own identity (the pipeline's managed identity)
# from a provisioner: the token is handed over in the environment and is in
# neither the plan nor the state.
ephemeral "azurepg_access_token" "own_identity" {}

resource "terraform_data" "vacuum" {
  provisioner "local-exec" {
    command = "psql -c 'VACUUM ANALYZE'"
    environment = {
      PGHOST        = "myserver.postgres.database.azure.com"
      PGDATABASE    = "orders"
      PGUSER        = "ci-pipeline-mi"
      PGSSLMODE     = "verify-full" # verify the server before handing it the token
      PGSSLROOTCERT = "system"      # the system trust store (libpq 16 and later)
      PGPASSWORD    = ephemeral.azurepg_access_token.own_identity.token
    }
  }
}
