terraform {
  required_version = ">= 1.11"
  required_providers {
    azurepg = {
      source = "azurepg/azurepg"
    }
    postgresql = {
      source = "cyrilgdn/postgresql"
    }
  }
}

provider "azurepg" {
  host        = "myserver.postgres.database.azure.com"
  username    = "ci-pipeline-mi"
  auth_method = "managed_identity"
}

# The general provider stays for what azurepg does not manage (schemas,
# privileges on procedures), logged in with the same identity.
ephemeral "azurepg_access_token" "admin" {}

provider "postgresql" {
  host      = "myserver.postgres.database.azure.com"
  database  = "postgres"
  username  = "ci-pipeline-mi"
  password  = ephemeral.azurepg_access_token.admin.token
  sslmode   = "verify-full"
  superuser = false
}
