# What azure_ai is configured to do in a database: endpoints, authentication
# types, region and translator resource id, and which keys are set. Key values
# are never read.
data "azurepg_ai_settings" "orders" {
  database = "orders"
}

output "openai_auth" {
  value = data.azurepg_ai_settings.orders.azure_openai.auth_type
}

# For example, check that no key is left behind after the switch to managed identity.
check "no_openai_key" {
  assert {
    condition     = !data.azurepg_ai_settings.orders.azure_openai.subscription_key_set
    error_message = "azure_openai.subscription_key is still set in the orders database."
  }
}
