# Every Microsoft Entra principal on the server, read while Terraform plans.
data "azurepg_principals" "existing" {}

locals {
  # Users and groups; not the identity this configuration logs in as.
  adopted = {
    for p in data.azurepg_principals.existing.principals : p.name => p
    if p.type != "service"
  }
}

import {
  for_each = local.adopted
  to       = azurepg_principal.adopted[each.key]
  id       = each.key
}

resource "azurepg_principal" "adopted" {
  for_each = local.adopted
  name     = each.key
  admin    = each.value.admin # as the role is: a difference would change it in place
  mfa      = each.value.mfa
}
