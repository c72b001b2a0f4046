# The app's owner role: it owns the schema and its tables. NOLOGIN (the
# default): nobody logs in as it; the provider's login can act as it.
resource "azurepg_role" "orders_owner" {
  name = "orders_owner"
}

# A group role for read access; Entra principals become its members.
resource "azurepg_role" "orders_readers" {
  name = "orders_readers"
}

resource "azurepg_principal" "analysts" {
  name = "Data Analysts"
}

resource "azurepg_role_membership" "analysts_read" {
  role   = azurepg_role.orders_readers.name
  member = azurepg_principal.analysts.name
}

# A local login for a tool that cannot use Microsoft Entra ID. The password is
# write-only (Terraform 1.11+): never in the state or the plan. Bump
# password_wo_version to send a new one.
variable "legacy_report_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "azurepg_role" "legacy_report" {
  name                = "legacy_report"
  login               = true
  connection_limit    = 5
  valid_until         = "2027-12-31T23:59:59Z"
  password_wo         = var.legacy_report_password
  password_wo_version = 1
  # What the tool created stays, owned by the app, when this role is destroyed.
  reassign_owned_to = azurepg_role.orders_owner.name
}
