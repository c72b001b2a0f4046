# Azure lets Entra admins create only the extensions listed in the server
# parameter azure.extensions. That is an ARM setting: set it with azurerm and
# create the extensions after it. Keep every extension already allowed in the
# list: the value replaces the whole list.
data "azurerm_postgresql_flexible_server" "main" {
  name                = "orders-pg"
  resource_group_name = "rg-orders"
}

resource "azurerm_postgresql_flexible_server_configuration" "extensions" {
  name      = "azure.extensions"
  server_id = data.azurerm_postgresql_flexible_server.main.id
  value     = "AZURE_AI,PG_TRGM,HSTORE"
}

resource "azurerm_postgresql_flexible_server_database" "orders" {
  name      = "orders"
  server_id = data.azurerm_postgresql_flexible_server.main.id
}

# azure_ai in the database "orders" (the provider connects to that database
# itself), at the one version Azure ships for the server's PostgreSQL major
# (1.3.1 on 12-17, 2.0.0 on 18): leave version unset and the state shows what
# was installed. Pin version only to a value that
# SELECT version FROM pg_available_extension_versions WHERE name = 'azure_ai'
# lists on every server the configuration meets; a change runs
# ALTER EXTENSION azure_ai UPDATE TO '...' in place, for example after a major
# version upgrade. azure_ai always lives in the schema azure_ai.
resource "azurepg_extension" "azure_ai" {
  database = azurerm_postgresql_flexible_server_database.orders.name
  name     = "azure_ai"

  depends_on = [azurerm_postgresql_flexible_server_configuration.extensions]
}

# pg_trgm at the server's default version (shown in the version attribute
# after apply) in a schema of its own, which must exist already (this provider
# does not create schemas). Changing schema drops the extension and creates
# it again.
resource "azurepg_extension" "pg_trgm" {
  database = azurerm_postgresql_flexible_server_database.orders.name
  name     = "pg_trgm"
  schema   = "extensions"

  depends_on = [azurerm_postgresql_flexible_server_configuration.extensions]
}

# The same extension in several databases.
resource "azurepg_extension" "hstore" {
  for_each = toset(["orders", "billing"])
  database = each.value
  name     = "hstore"

  depends_on = [azurerm_postgresql_flexible_server_configuration.extensions]
}

# Destroying an extension runs DROP EXTENSION without CASCADE: while a table
# column uses one of its types, the destroy fails and names the column.
