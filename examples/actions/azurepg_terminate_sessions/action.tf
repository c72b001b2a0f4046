# The kill switch for a compromised identity: its Entra tokens stay valid
# until they expire, and open sessions outlive them. End every session now:
#
#   terraform apply -invoke=action.azurepg_terminate_sessions.compromised
#
# and disable the identity in Entra ID (or destroy its azurepg_principal) so
# that it cannot log in again.
action "azurepg_terminate_sessions" "compromised" {
  config {
    principal = "ci-deployer"
  }
}
