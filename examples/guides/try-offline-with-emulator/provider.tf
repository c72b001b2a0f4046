terraform {
  required_version = ">= 1.11"
  required_providers {
    azurepg = {
      source = "azurepg/azurepg"
    }
  }
}

# The emulator, started with -port 15432. Its token endpoint and CA come from
# the environment it prints (IDENTITY_ENDPOINT, IDENTITY_HEADER and
# PGSSLROOTCERT); everything else is here.
provider "azurepg" {
  host        = "localhost" # the name in the emulator's certificate
  port        = 15432
  username    = "ci-pipeline-mi" # the emulator's Entra admin, a managed identity of its fake tenant
  auth_method = "managed_identity"
  client_id   = "0c5c6a8e-3c2b-4a57-8d2f-6b1e2f3a4b01" # ci-pipeline-mi's client id in the fake tenant
  # sslmode is verify-full (the default), against the emulator's own CA (PGSSLROOTCERT).
}
