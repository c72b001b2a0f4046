# The app's user-assigned managed identity, created in the same apply, and
# its role on the server, created by object id (no name lookup, which could
# not find an identity that is seconds old).
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
