terraform {
  required_version = ">= 1.11"
  required_providers {
    azurepg = {
      source = "azurepg/azurepg"
    }
    azurerm = {
      source = "hashicorp/azurerm"
    }
  }
}

# The pipeline logs in as an Entra admin of the server: a member of
# azure_pg_admin, not a superuser. The owner of the schema and its tables,
# orders_owner, has been granted to it (GRANT orders_owner TO "ci-pipeline-mi").
provider "azurepg" {
  host        = "orders-pg.postgres.database.azure.com"
  username    = "ci-pipeline-mi"
  auth_method = "managed_identity"
}

# For the app's identity, created in the same apply.
provider "azurerm" {
  features {}
}
