# Or: forget the old resource without revoking, and import the membership by
# <role>/<member> (only "%" and "/" are escaped inside a name, as %25 and %2F).
removed {
  from = postgresql_grant_role.alice_dbas
  lifecycle {
    destroy = false
  }
}

import {
  to = azurepg_role_membership.alice_dbas
  id = "dba_team/alice@contoso.com"
}

resource "azurepg_role_membership" "alice_dbas" {
  role              = "dba_team"
  member            = azurepg_principal.alice.name
  with_admin_option = true
}
