# The demo that `make demo` applies to the local emulator. The provider reads
# its settings from the environment the emulator prints (AZUREPG_HOST,
# PGPORT, AZUREPG_USERNAME, AZUREPG_AUTH_METHOD=managed_identity, ...), as a
# pipeline running with a managed identity would.
terraform {
  required_version = ">= 1.11"
  required_providers {
    azurepg = {
      source = "azurepg/azurepg"
    }
  }
}

provider "azurepg" {}

# People, by UPN.
resource "azurepg_principal" "people" {
  for_each = toset(["alice@contoso.com", "bob@contoso.com", "josé.núñez@contoso.com"])
  name     = each.value
  mfa      = true
}

# A group of DBAs administers the server.
resource "azurepg_principal" "dbas" {
  name  = "DBA Team"
  admin = true
}

# A read-only analysts group.
resource "azurepg_principal" "analysts" {
  name = "Data Analysts"
}

# Applications: a managed identity by name and a service principal by object id.
resource "azurepg_principal" "orders_api" {
  name = "orders-api"
}

# A service principal created by object id, as when its app registration is
# made in the same apply.
resource "azurepg_principal" "reporting_app" {
  name      = "reporting-app"
  type      = "service"
  object_id = "6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a04"
}

# Access (story 4): the app's managed identity gets exactly what it needs in
# "app". The schema "sales" belongs to the role orders_owner, which the app's
# migrations run as (make demo creates the tables after the apply, as
# orders_owner); the provider's login, an Entra admin but not a superuser,
# can act as the roles it creates.
resource "azurepg_role" "orders_owner" {
  name = "orders_owner"
}

resource "azurepg_role" "orders_readers" {
  name = "orders_readers"
}

resource "azurepg_schema" "sales" {
  database = "app"
  name     = "sales"
  owner    = azurepg_role.orders_owner.name
  # The demo's tables are throwaway: destroy drops them with the schema.
  drop_cascade = true
}

resource "azurepg_grant" "orders_api_connect" {
  role        = azurepg_principal.orders_api.name
  database    = "app"
  object_type = "database"
  privileges  = ["CONNECT"]
}

resource "azurepg_grant" "orders_api_sales" {
  role        = azurepg_principal.orders_api.name
  database    = "app"
  object_type = "schema"
  schema      = azurepg_schema.sales.name
  privileges  = ["USAGE"]
}

# Every table of the schema that exists now...
resource "azurepg_grant" "orders_api_tables" {
  role        = azurepg_principal.orders_api.name
  database    = "app"
  object_type = "table"
  schema      = azurepg_schema.sales.name
  privileges  = ["SELECT", "INSERT", "UPDATE"]
}

# ...and the tables orders_owner creates later.
resource "azurepg_default_privileges" "orders_api_future_tables" {
  role        = azurepg_principal.orders_api.name
  database    = "app"
  owner       = azurepg_role.orders_owner.name
  schema      = azurepg_schema.sales.name
  object_type = "table"
  privileges  = ["SELECT", "INSERT", "UPDATE"]
}

# The analysts group reads through an application role.
resource "azurepg_role_membership" "analysts_readers" {
  role   = azurepg_role.orders_readers.name
  member = azurepg_principal.analysts.name
}

data "azurepg_principal" "orders_api" {
  name = azurepg_principal.orders_api.name
}

data "azurepg_principals" "admins" {
  admins_only = true
  depends_on  = [azurepg_principal.dbas]
}

# azure_ai in the app database "app" (made by the emulator, as azurerm would
# on Azure): the extension, then its settings. OpenAI through the server's
# managed identity; Azure ML with a key that is sent but never stored.
resource "azurepg_extension" "azure_ai" {
  database = "app"
  name     = "azure_ai"
}

resource "azurepg_ai_settings" "app" {
  database = azurepg_extension.azure_ai.database

  azure_openai {
    endpoint  = "https://demo-openai.openai.azure.com"
    auth_type = "managed-identity"
  }

  azure_ml {
    scoring_endpoint        = "https://demo-ml.westeurope.inference.ml.azure.com/score"
    auth_type               = "subscription-key"
    endpoint_key_wo         = var.ml_key
    endpoint_key_wo_version = 1
  }
}

variable "ml_key" {
  description = "The Azure ML endpoint key (write-only: in neither plan nor state)."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = "demo-ml-key-not-a-secret"
}

data "azurepg_ai_settings" "app" {
  database = azurepg_ai_settings.app.database
}

output "azure_ai" {
  value = {
    extension_version = azurepg_extension.azure_ai.version
    openai_auth       = data.azurepg_ai_settings.app.azure_openai.auth_type
    ml_auth           = data.azurepg_ai_settings.app.azure_ml.auth_type
    ml_key_set        = data.azurepg_ai_settings.app.azure_ml.endpoint_key_set
  }
}

output "principals" {
  value = merge(
    { for k, p in azurepg_principal.people : k => p.type },
    { (azurepg_principal.dbas.name) = "${azurepg_principal.dbas.type} (admin)" },
    { (azurepg_principal.analysts.name) = azurepg_principal.analysts.type },
    { (azurepg_principal.orders_api.name) = azurepg_principal.orders_api.type },
    { (azurepg_principal.reporting_app.name) = azurepg_principal.reporting_app.type },
  )
}

output "admins" {
  value = [for p in data.azurepg_principals.admins.principals : p.name]
}

output "orders_api_object_id" {
  value = data.azurepg_principal.orders_api.object_id
}
