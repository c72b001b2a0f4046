# On a laptop, after `az login`: the token comes from `az account get-access-token`.
# username is your UPN when you are a principal of the server yourself, or the
# name of a group principal you are a member of.
provider "azurepg" {
  alias       = "azure_cli"
  host        = "orders-pg.postgres.database.azure.com"
  username    = "alice@contoso.com"
  auth_method = "azure_cli"
}
