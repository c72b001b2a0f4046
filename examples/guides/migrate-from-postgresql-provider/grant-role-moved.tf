# Terraform 1.8+: the membership's state moves as it is; nothing is revoked
# or granted again. postgresql_grant_role's grant_role is azurepg's role, and
# its role is azurepg's member.
moved {
  from = postgresql_grant_role.orders_api_readers
  to   = azurepg_role_membership.orders_api_readers
}

resource "azurepg_role_membership" "orders_api_readers" {
  role   = "orders_readers"                  # was grant_role
  member = azurepg_principal.orders_api.name # was role
}
