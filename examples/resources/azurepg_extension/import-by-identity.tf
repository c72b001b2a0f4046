# Terraform 1.12+: import by identity (no <database>/<name> string to split).
import {
  to = azurepg_extension.orders_vector
  identity = {
    database = "orders"
    name     = "vector"
  }
}

resource "azurepg_extension" "orders_vector" {
  database = "orders"
  name     = "vector"
}
