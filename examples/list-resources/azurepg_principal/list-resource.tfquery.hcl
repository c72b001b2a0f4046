# principals.tfquery.hcl, next to the configuration's provider "azurepg" block.
# terraform query                                  # lists them
# terraform query -generate-config-out=generated.tf  # writes import + resource blocks
list "azurepg_principal" "contoso_users" {
  provider = azurepg

  config {
    type      = "user"
    name_like = "%@contoso.com"
  }
}

list "azurepg_principal" "admins" {
  provider = azurepg

  config {
    admins_only = true
  }
}
