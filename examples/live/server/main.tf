# The server of the live suite (`make testacc-live`, CONTRIBUTING.md "Live
# suite"). Apply it once, by hand, as someone with rights on the
# subscription; the nightly workflow only logs in to it. Keep the server for
# the suite alone: the suite drops any role named like its test identities.
#
# Before applying: an app registration (or user-assigned identity) with a
# federated credential for the repository's GitHub workflow, whose service
# principal is the CI identity below, and a test user and group in the
# tenant (the suite looks them up by name).

variable "location" {
  type    = string
  default = "westeurope"
}

variable "ci_principal_name" {
  description = "Display name of the CI identity's service principal: AZUREPG_LIVE_ADMIN."
  type        = string
}

variable "ci_principal_object_id" {
  description = "Object id of the CI identity's service principal."
  type        = string
}

variable "maintainer_ip" {
  description = "A maintainer's public IP address, to run the suite by hand (CI adds its runner's address for the run)."
  type        = string
}

variable "password_admin_password" {
  description = "Password of the password admin (AZUREPG_LIVE_PASSWORD): the suite checks what Azure refuses it."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "with_replica" {
  description = "Also create a read replica (AZUREPG_LIVE_REPLICA_HOST). Replicas need a General Purpose server."
  type        = bool
  default     = false
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "live" {
  name     = "rg-azurepg-live"
  location = var.location
}

# PostgreSQL 15, as the emulator. Both Entra and password authentication:
# the password admin is part of what the suite checks.
resource "azurerm_postgresql_flexible_server" "live" {
  name                              = "azurepg-live"
  resource_group_name               = azurerm_resource_group.live.name
  location                          = azurerm_resource_group.live.location
  version                           = "15"
  sku_name                          = var.with_replica ? "GP_Standard_D2ds_v5" : "B_Standard_B1ms"
  storage_mb                        = 32768
  zone                              = "1"
  administrator_login               = "liveadmin"
  administrator_password_wo         = var.password_admin_password
  administrator_password_wo_version = 1
  public_network_access_enabled     = true

  authentication {
    active_directory_auth_enabled = true
    password_auth_enabled         = true
    tenant_id                     = data.azurerm_client_config.current.tenant_id
  }
}

# The Entra admin is the CI identity: its display name is the role name the
# suite logs in as.
resource "azurerm_postgresql_flexible_server_active_directory_administrator" "ci" {
  server_name         = azurerm_postgresql_flexible_server.live.name
  resource_group_name = azurerm_resource_group.live.name
  tenant_id           = data.azurerm_client_config.current.tenant_id
  object_id           = var.ci_principal_object_id
  principal_name      = var.ci_principal_name
  principal_type      = "ServicePrincipal"
}

# azure_ai only: TestLiveExtensionNotAllowListed needs tablefunc NOT listed.
resource "azurerm_postgresql_flexible_server_configuration" "extensions" {
  name      = "azure.extensions"
  server_id = azurerm_postgresql_flexible_server.live.id
  value     = "AZURE_AI"
}

resource "azurerm_postgresql_flexible_server_firewall_rule" "maintainer" {
  name             = "maintainer"
  server_id        = azurerm_postgresql_flexible_server.live.id
  start_ip_address = var.maintainer_ip
  end_ip_address   = var.maintainer_ip
}

# A database created through ARM: TestLiveDatabaseOwner looks at its owner.
# (The suite creates, and drops, a database of its own for each test.)
resource "azurerm_postgresql_flexible_server_database" "live" {
  name      = "live"
  server_id = azurerm_postgresql_flexible_server.live.id
}

# The identity that the by-name and by-object-id tests create principals for.
resource "azurerm_user_assigned_identity" "test" {
  name                = "azurepg-live-test-mi"
  location            = azurerm_resource_group.live.location
  resource_group_name = azurerm_resource_group.live.name
}

resource "azurerm_postgresql_flexible_server" "replica" {
  count               = var.with_replica ? 1 : 0
  name                = "azurepg-live-replica"
  resource_group_name = azurerm_resource_group.live.name
  location            = azurerm_resource_group.live.location
  create_mode         = "Replica"
  source_server_id    = azurerm_postgresql_flexible_server.live.id
  version             = "15"
  sku_name            = "GP_Standard_D2ds_v5"
  zone                = "1"
}

# The suite's variables (set the same names as repository variables for the
# workflow: none of them is a secret).
output "AZUREPG_LIVE_HOST" {
  value = azurerm_postgresql_flexible_server.live.fqdn
}

output "AZUREPG_LIVE_ADMIN" {
  value = var.ci_principal_name
}

output "AZUREPG_LIVE_PASSWORD_ADMIN" {
  value = azurerm_postgresql_flexible_server.live.administrator_login
}

output "AZUREPG_LIVE_DATABASE" {
  value = azurerm_postgresql_flexible_server_database.live.name
}

output "AZUREPG_LIVE_MI_NAME" {
  value = azurerm_user_assigned_identity.test.name
}

output "AZUREPG_LIVE_MI_OBJECT_ID" {
  value = azurerm_user_assigned_identity.test.principal_id
}

output "AZUREPG_LIVE_REPLICA_HOST" {
  value = var.with_replica ? azurerm_postgresql_flexible_server.replica[0].fqdn : ""
}
