# In the configuration that manages the server (applied by someone with
# rights on it, before any pipeline runs): the pipelines' user-assigned
# managed identity, an Entra admin of the server, and one federated
# credential per CI system that may log in as it. No secret exists anywhere:
# Entra trusts a token that the CI system signs for this repository,
# service connection or workspace.
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
  principal_name      = azurerm_user_assigned_identity.pipeline.name # the provider's username
  principal_type      = "ServicePrincipal"
}

# GitHub Actions: jobs of the repository contoso/orders-db that run in the
# "production" environment.
resource "azurerm_federated_identity_credential" "github" {
  name                = "github-orders-db-production"
  resource_group_name = "rg-ci"
  parent_id           = azurerm_user_assigned_identity.pipeline.id
  issuer              = "https://token.actions.githubusercontent.com"
  subject             = "repo:contoso/orders-db:environment:production"
  audience            = ["api://AzureADTokenExchange"]
}

# Azure DevOps: the workload-identity service connection "orders-pg-oidc" of
# the project "orders" in the organization "contoso". Azure DevOps shows the
# exact issuer and subject on the service connection's page.
resource "azurerm_federated_identity_credential" "azure_devops" {
  name                = "ado-orders-pg-oidc"
  resource_group_name = "rg-ci"
  parent_id           = azurerm_user_assigned_identity.pipeline.id
  issuer              = "https://vstoken.dev.azure.com/00000000-0000-0000-0000-00000000c0de" # the organization's id
  subject             = "sc://contoso/orders/orders-pg-oidc"
  audience            = ["api://AzureADTokenExchange"]
}

# HCP Terraform: plan and apply runs of the workspace "orders-db" (project
# "data", organization "contoso"); one credential per run phase.
resource "azurerm_federated_identity_credential" "hcp_terraform" {
  for_each            = toset(["plan", "apply"])
  name                = "hcp-orders-db-${each.key}"
  resource_group_name = "rg-ci"
  parent_id           = azurerm_user_assigned_identity.pipeline.id
  issuer              = "https://app.terraform.io"
  subject             = "organization:contoso:project:data:workspace:orders-db:run_phase:${each.key}"
  audience            = ["api://AzureADTokenExchange"]
}

output "pipeline_identity_client_id" {
  value = azurerm_user_assigned_identity.pipeline.client_id # ARM_CLIENT_ID in the pipelines
}
