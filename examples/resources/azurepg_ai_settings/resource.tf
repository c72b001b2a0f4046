# azure_ai settings of the database "orders". The extension must be installed
# there first (azurepg_extension), and the provider must log in as an Entra
# admin (a member of azure_ai_settings_manager).
resource "azurepg_extension" "azure_ai" {
  database = "orders"
  name     = "azure_ai"
}

# Keys are best left out entirely: with auth_type = "managed-identity" the
# server's system-assigned identity calls the AI service (see the guide
# "Switch azure_ai to managed identity" for the role assignments).
resource "azurepg_ai_settings" "orders" {
  database = azurepg_extension.azure_ai.database

  azure_openai {
    endpoint  = "https://orders-openai.openai.azure.com"
    auth_type = "managed-identity"
  }

  azure_cognitive {
    endpoint               = "https://orders-language.cognitiveservices.azure.com"
    auth_type              = "managed-identity"
    region                 = "westeurope"
    translator_resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-orders/providers/Microsoft.CognitiveServices/accounts/orders-translator"
  }

  # Where a key is needed, give it write-only: it is sent to the server but
  # never stored in the plan or the state. Bump the version to send a rotated
  # key; changing only the value sends nothing.
  azure_ml {
    scoring_endpoint        = "https://orders-ml.westeurope.inference.ml.azure.com/score"
    auth_type               = "subscription-key"
    endpoint_key_wo         = var.ml_key
    endpoint_key_wo_version = 3
  }

  depends_on = [azurepg_extension.azure_ai]
}

# An ephemeral variable (Terraform 1.10+) keeps the key out of the plan too.
variable "ml_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

# The other way to give a key: a sensitive attribute. It is stored in the
# state (encrypt your state backend) and read back on refresh, so a key
# changed outside Terraform shows as drift and is set back.
resource "azurepg_ai_settings" "billing" {
  database = "billing"

  azure_openai {
    endpoint         = "https://billing-openai.openai.azure.com"
    auth_type        = "subscription-key"
    subscription_key = var.openai_key
  }
}

variable "openai_key" {
  type      = string
  sensitive = true
}
