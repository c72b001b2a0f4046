# A user, looked up by UPN in the server's Microsoft Entra tenant.
resource "azurepg_principal" "alice" {
  name = "alice@contoso.com"
  mfa  = true
}

# A group that administers the server (member of azure_pg_admin).
# Changing admin or mfa later changes the role in place (relabel, azure_pg_admin,
# CREATEROLE/CREATEDB): it keeps what it owns and its grants.
resource "azurepg_principal" "dbas" {
  name  = "DBA Team"
  admin = true
}

# An app's managed identity created in the same apply: its object id is known,
# so no name lookup is needed (pgaadauth_create_principal_with_oid). Azure still
# checks the object in Entra ID, and an identity created seconds earlier may
# not be visible there yet: a retry of the apply then succeeds.
resource "azurerm_user_assigned_identity" "orders_api" {
  name                = "orders-api"
  location            = "westeurope"
  resource_group_name = "rg-orders"
}

resource "azurepg_principal" "orders_api" {
  name      = azurerm_user_assigned_identity.orders_api.name
  type      = "service"
  object_id = azurerm_user_assigned_identity.orders_api.principal_id
}

# Several people at once.
variable "analyst_upns" {
  type    = set(string)
  default = ["bob@contoso.com", "josé.núñez@contoso.com"]
}

resource "azurepg_principal" "analysts" {
  for_each = var.analyst_upns
  name     = each.value
  mfa      = true
}
