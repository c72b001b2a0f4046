# Adopt an extension that is already installed: the id is <database>/<name>.
import {
  to = azurepg_extension.vector
  id = "orders/vector"
}

resource "azurepg_extension" "vector" {
  database = "orders"
  name     = "vector"
}
