# A deployment pipeline whose agent runs on Azure compute (a VM scale set of
# self-hosted agents, a container app, ...) with a user-assigned managed
# identity. The identity is the server's Microsoft Entra admin, so it can
# create the other principals. No secret anywhere: the provider asks the
# machine's identity endpoint for a token when it opens a connection, and
# again shortly before that token expires.
resource "azurerm_user_assigned_identity" "pipeline" {
  name                = "ci-pipeline-mi"
  location            = "westeurope"
  resource_group_name = "rg-data"
}

resource "azurerm_postgresql_flexible_server_active_directory_administrator" "pipeline" {
  server_name         = "orders-pg"
  resource_group_name = "rg-data"
  tenant_id           = azurerm_user_assigned_identity.pipeline.tenant_id
  object_id           = azurerm_user_assigned_identity.pipeline.principal_id
  principal_name      = azurerm_user_assigned_identity.pipeline.name
  principal_type      = "ServicePrincipal"
}

provider "azurepg" {
  host        = "orders-pg.postgres.database.azure.com"
  username    = "ci-pipeline-mi" # the identity's display name, exactly
  auth_method = "managed_identity"
  client_id   = "8f0a3c1e-5b7d-4e2a-9c6f-1d2e3f4a5b6c" # which of the machine's user-assigned identities
}

resource "azurepg_principal" "dbas" {
  name  = "DBA Team"
  admin = true
}
