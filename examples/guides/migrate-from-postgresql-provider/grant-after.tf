# References to the old role now name the principal.
resource "postgresql_grant" "orders_api_connect" {
  role        = azurepg_principal.orders_api.name
  database    = "orders"
  object_type = "database"
  privileges  = ["CONNECT"]
}
