# People: the Entra group "Orders Support" gets the rights of the application
# role orders_readers (which holds its own grants). Members of the group log
# in with the group's name and their own token.
resource "azurepg_principal" "support" {
  name = "Orders Support"
  type = "group"
}

resource "azurepg_role_membership" "support_readers" {
  role   = "orders_readers"
  member = azurepg_principal.support.name
}
