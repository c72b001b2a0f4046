# A token obtained elsewhere, for example
#   export AZUREPG_ACCESS_TOKEN=$(az account get-access-token --resource-type oss-rdbms --query accessToken -o tsv)
# It is used as is and never refreshed: it must outlive the run.
provider "azurepg" {
  alias       = "access_token"
  host        = "orders-pg.postgres.database.azure.com"
  username    = "alice@contoso.com"
  auth_method = "access_token"
}
