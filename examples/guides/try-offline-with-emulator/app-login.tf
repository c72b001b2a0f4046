# The orders API's managed identity gets a role, then logs in with a token of
# its own from the emulator's endpoint (client_id selects it in the fake
# tenant). psql writes who it is to app-login.txt: Terraform hides the output
# of a provisioner that uses an ephemeral value.
resource "azurepg_principal" "orders_api" {
  name = "orders-api"
  type = "service"
}

ephemeral "azurepg_access_token" "orders_api" {
  client_id  = "0c5c6a8e-3c2b-4a57-8d2f-6b1e2f3a4b02" # orders-api in the fake tenant
  depends_on = [azurepg_principal.orders_api]
}

resource "terraform_data" "app_login" {
  provisioner "local-exec" {
    command = "psql -X -c 'SELECT current_user' >app-login.txt 2>&1"
    environment = {
      PGHOST     = "localhost"
      PGPORT     = "15432"
      PGDATABASE = "postgres"
      PGUSER     = azurepg_principal.orders_api.name
      PGSSLMODE  = "verify-full"
      PGPASSWORD = ephemeral.azurepg_access_token.orders_api.token
    }
  }
}
