terraform {
  required_version = ">= 1.11"
  required_providers {
    azurepg = {
      source = "azurepg/azurepg"
    }
  }
}

# GitHub Actions and Azure Pipelines: the provider block names the server
# and the role; the identity and the federated token come from the
# pipeline's environment (ARM_USE_OIDC, ARM_CLIENT_ID, ARM_TENANT_ID and the
# CI system's own variables), the same ones azurerm reads.
provider "azurepg" {
  host     = "orders-pg.postgres.database.azure.com"
  username = "ci-pipeline-mi" # the identity's display name, exactly
}

resource "azurepg_principal" "orders_api" {
  name = "orders-api"
  type = "service"
}
