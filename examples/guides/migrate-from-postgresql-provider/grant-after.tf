# Privileges on procedures stay with the general provider; the reference to
# the old role now names the principal.
resource "postgresql_grant" "orders_api_procedures" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  schema      = "sales"
  object_type = "procedure"
  privileges  = ["EXECUTE"]
}
