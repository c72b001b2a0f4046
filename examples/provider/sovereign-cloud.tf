# Azure China (21Vianet): tokens for https://ossrdbms-aad.database.chinacloudapi.cn.
# Use cloud = "usgovernment" for Azure Government
# (https://ossrdbms-aad.database.usgovcloudapi.net), or set ARM_ENVIRONMENT.
provider "azurepg" {
  alias       = "china"
  host        = "orders-pg.postgres.database.chinacloudapi.cn"
  username    = "ci-pipeline-mi"
  auth_method = "managed_identity"
  client_id   = "8f0a3c1e-5b7d-4e2a-9c6f-1d2e3f4a5b6c"
  cloud       = "china"
}
