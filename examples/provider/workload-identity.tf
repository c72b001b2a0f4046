# In Kubernetes (AKS workload identity): the pod's service account is federated
# with a user-assigned identity; the webhook sets AZURE_CLIENT_ID,
# AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE, which the provider reads.
provider "azurepg" {
  alias       = "workload_identity"
  host        = "orders-pg.postgres.database.azure.com"
  username    = "orders-deployer-mi"
  auth_method = "workload_identity"
}
