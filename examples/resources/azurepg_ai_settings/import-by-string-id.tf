# Adopt the settings that a database already has: the id is the database name.
import {
  to = azurepg_ai_settings.inventory
  id = "inventory"
}

resource "azurepg_ai_settings" "inventory" {
  database = "inventory"

  azure_openai {
    endpoint  = "https://inventory-openai.openai.azure.com"
    auth_type = "managed-identity"
  }
}
