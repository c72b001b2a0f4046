# An app registration (service principal) with a client secret. Keep the
# secret out of the configuration: ARM_CLIENT_SECRET (or AZURE_CLIENT_SECRET)
# in the environment, or an ephemeral variable as here.
variable "client_secret" {
  type      = string
  ephemeral = true
}

provider "azurepg" {
  alias         = "client_secret"
  host          = "orders-pg.postgres.database.azure.com"
  username      = "orders-deployer" # the app's display name
  auth_method   = "client_secret"
  tenant_id     = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
  client_id     = "0b5e7c2a-3d4f-4a6b-8c9d-0e1f2a3b4c5d"
  client_secret = var.client_secret
}
