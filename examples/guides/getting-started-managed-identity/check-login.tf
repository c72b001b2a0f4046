# Check the login: psql logs in as the provider's identity with a token from
# the provider's own credential (in neither the plan nor the state), and
# writes who it is and the Entra principals to login-check.txt. Terraform
# hides the output of a provisioner that uses an ephemeral value, so the
# file is where to look; the apply fails if psql cannot log in. It runs when
# terraform_data.check_login is created; run it again with
#   terraform apply -replace=terraform_data.check_login
ephemeral "azurepg_access_token" "pipeline" {}

resource "terraform_data" "check_login" {
  provisioner "local-exec" {
    command = "psql -X -c 'SELECT current_user' -c 'SELECT * FROM pgaadauth_list_principals(false)' >login-check.txt 2>&1"
    environment = {
      PGHOST        = "orders-pg.postgres.database.azure.com"
      PGDATABASE    = "postgres"
      PGUSER        = "ci-pipeline-mi"
      PGSSLMODE     = "verify-full" # verify the server before handing it the token
      PGSSLROOTCERT = "system"      # the system trust store (libpq 16 and later)
      PGPASSWORD    = ephemeral.azurepg_access_token.pipeline.token
    }
  }
}
