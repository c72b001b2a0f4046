# The first principal: the orders API's managed identity, looked up by its
# display name in the server's Entra tenant. type = "service" makes the
# apply fail, instead of creating a role, if the name is a user or a group.
resource "azurepg_principal" "orders_api" {
  name = "orders-api"
  type = "service"
}
