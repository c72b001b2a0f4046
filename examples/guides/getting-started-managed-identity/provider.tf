terraform {
  required_version = ">= 1.11"
  required_providers {
    azurepg = {
      source = "azurepg/azurepg"
    }
  }
}

# The pipeline's agent runs on Azure compute that has the user-assigned
# managed identity "ci-pipeline-mi" assigned to it. No secret: the provider
# asks the machine's identity endpoint for a token when it first connects.
provider "azurepg" {
  host        = "orders-pg.postgres.database.azure.com"
  username    = "ci-pipeline-mi" # the identity's display name, exactly (case-sensitive)
  auth_method = "managed_identity"
  client_id   = "0c5c6a8e-3c2b-4a57-8d2f-6b1e2f3a4b01" # the identity's client id, not its object id
}
