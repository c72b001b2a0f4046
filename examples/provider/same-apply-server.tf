# A server created in the same apply: its fqdn is unknown while planning.
# The plan still works (principals to create need no connection); the
# provider connects during apply, once the server exists.
resource "azurerm_postgresql_flexible_server" "reports" {
  name                = "reports-pg"
  resource_group_name = "rg-data"
  location            = "westeurope"
  version             = "16"
  sku_name            = "GP_Standard_D2ds_v5"

  authentication {
    active_directory_auth_enabled = true
    password_auth_enabled         = false
    tenant_id                     = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
  }
}

resource "azurerm_postgresql_flexible_server_active_directory_administrator" "reports_pipeline" {
  server_name         = azurerm_postgresql_flexible_server.reports.name
  resource_group_name = "rg-data"
  tenant_id           = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
  object_id           = "3c2b1a09-8f7e-4d6c-b5a4-93827160f5e4"
  principal_name      = "ci-pipeline-mi"
  principal_type      = "ServicePrincipal"
}

provider "azurepg" {
  alias       = "reports"
  host        = azurerm_postgresql_flexible_server.reports.fqdn
  username    = "ci-pipeline-mi"
  auth_method = "managed_identity"
}

resource "azurepg_principal" "reports_dbas" {
  provider = azurepg.reports
  name     = "DBA Team"
  admin    = true

  # The login needs the Entra admin, which Terraform cannot infer.
  depends_on = [azurerm_postgresql_flexible_server_active_directory_administrator.reports_pipeline]
}
