# Terraform 1.12+: import by identity.
import {
  to = azurepg_ai_settings.inventory_ai
  identity = {
    database = "inventory"
  }
}

resource "azurepg_ai_settings" "inventory_ai" {
  database = "inventory"

  azure_openai {
    endpoint  = "https://inventory-openai.openai.azure.com"
    auth_type = "managed-identity"
  }
}
