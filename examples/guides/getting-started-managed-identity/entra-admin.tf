# In the configuration that manages the server (applied by someone with
# rights on it, before the pipeline runs): the pipeline's user-assigned
# managed identity, made a Microsoft Entra admin of the server. The server
# must have Entra authentication enabled (in its authentication block:
# active_directory_auth_enabled = true).
resource "azurerm_user_assigned_identity" "pipeline" {
  name                = "ci-pipeline-mi"
  location            = "westeurope"
  resource_group_name = "rg-ci"
}

resource "azurerm_postgresql_flexible_server_active_directory_administrator" "pipeline" {
  server_name         = "orders-pg"
  resource_group_name = "rg-data"
  tenant_id           = azurerm_user_assigned_identity.pipeline.tenant_id
  object_id           = azurerm_user_assigned_identity.pipeline.principal_id
  principal_name      = azurerm_user_assigned_identity.pipeline.name # the role name on the server
  principal_type      = "ServicePrincipal"
}

output "pipeline_identity_client_id" {
  value = azurerm_user_assigned_identity.pipeline.client_id # the provider's client_id
}
