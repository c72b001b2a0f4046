# Adopt the settings that a database already has: the id is the database name.
import {
  to = azurepg_ai_settings.orders
  id = "orders"
}

resource "azurepg_ai_settings" "orders" {
  database = "orders"

  azure_openai {
    endpoint  = "https://orders-openai.openai.azure.com"
    auth_type = "managed-identity"
  }
}
