# Before a principal that did real work can be destroyed, hand what it owns
# to another role and revoke what it still holds, in every database it used:
#
#   terraform apply -invoke=action.azurepg_reassign_owned.leaving
#
# then remove its azurepg_principal and apply.
action "azurepg_reassign_owned" "leaving" {
  config {
    principal = "alice@contoso.com"
    new_owner = "app_owner"
    databases = ["orders", "inventory"]
  }
}
