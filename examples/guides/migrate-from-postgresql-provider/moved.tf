# Terraform 1.8+: the role's state moves to azurepg_principal; the provider
# reads its type, object id, admin and mfa from the server while planning.
moved {
  from = postgresql_role.orders_api
  to   = azurepg_principal.orders_api
}

# The label is part of the principal now: forget its resource, never destroy
# it (destroying it would remove the label and with it the Entra login).
removed {
  from = postgresql_security_label.orders_api
  lifecycle {
    destroy = false
  }
}

resource "azurepg_principal" "orders_api" {
  name = "orders-api"
}
