terraform {
  required_version = ">= 1.11"
  required_providers {
    azurepg = {
      source = "azurepg/azurepg"
    }
  }
}

# HCP Terraform with Azure dynamic credentials (workspace variables
# TFC_AZURE_PROVIDER_AUTH = true and TFC_AZURE_RUN_CLIENT_ID = the identity's
# client id). HCP Terraform writes a fresh federated token to a file for
# each run and passes its path in this variable; the provider re-reads the
# file whenever it needs a new Entra token.
variable "tfc_azure_dynamic_credentials" {
  description = "Set by HCP Terraform: the paths of the run's client id and federated token files."
  type = object({
    default = object({
      client_id_file_path  = string
      oidc_token_file_path = string
    })
    aliases = map(object({
      client_id_file_path  = string
      oidc_token_file_path = string
    }))
  })
}

provider "azurepg" {
  host                 = "orders-pg.postgres.database.azure.com"
  username             = "ci-pipeline-mi"
  auth_method          = "oidc"
  tenant_id            = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
  client_id            = trimspace(file(var.tfc_azure_dynamic_credentials.default.client_id_file_path))
  oidc_token_file_path = var.tfc_azure_dynamic_credentials.default.oidc_token_file_path
}

resource "azurepg_principal" "orders_api" {
  name = "orders-api"
  type = "service"
}
