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

# A role name that is not the object's name needs its object id and type: no
# name lookup, but the object must exist in the tenant and be of that type
# (here the tenant's billing-worker identity).
resource "azurepg_principal" "nightly_job" {
  name      = "nightly-job"
  type      = "service"
  object_id = "6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a03"
}
