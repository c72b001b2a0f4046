# Names that the fake tenant knows are looked up as Azure looks them up in
# Entra ID: users by UPN, groups and identities by display name.
resource "azurepg_principal" "alice" {
  name = "alice@contoso.com"
  mfa  = true
}

resource "azurepg_principal" "dbas" {
  name  = "DBA Team"
  admin = true
}

# Any other name needs its object id and type (no lookup), as on Azure for an
# identity created in the same apply.
resource "azurepg_principal" "nightly_job" {
  name      = "nightly-job-mi"
  type      = "service"
  object_id = "3b7e4c1d-9a2f-4e6b-8c5d-1f0a2b3c4d5e"
}
