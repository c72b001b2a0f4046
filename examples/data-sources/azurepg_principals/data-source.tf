# Every Entra principal of the server.
data "azurepg_principals" "all" {}

# Only the Entra admins.
data "azurepg_principals" "admins" {
  admins_only = true
}

output "admin_names" {
  value = [for p in data.azurepg_principals.admins.principals : p.name]
}

# Adopt every existing user into Terraform. Import blocks with for_each need Terraform 1.7+;
# Terraform 1.11 accepts this data source there (it is read during plan). The other route is
# one import block per role and `terraform plan -generate-config-out=principals.tf`.
locals {
  existing_users = { for p in data.azurepg_principals.all.principals : p.name => p if p.type == "user" }
}

import {
  for_each = local.existing_users
  to       = azurepg_principal.users[each.key]
  id       = each.key
}

resource "azurepg_principal" "users" {
  for_each = local.existing_users
  name     = each.key
  mfa      = each.value.mfa
  admin    = each.value.admin
}
