# Adopt an extension that is already installed: the id is <database>/<name>.
import {
  to = azurepg_extension.azure_ai
  id = "orders/azure_ai"
}

resource "azurepg_extension" "azure_ai" {
  database = "orders"
  name     = "azure_ai"
}
