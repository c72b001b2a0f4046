# extensions.tfquery.hcl: the extensions installed in one database.
list "azurepg_extension" "orders" {
  provider = azurepg

  config {
    database = "orders"
  }
}
