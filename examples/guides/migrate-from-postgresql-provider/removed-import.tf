# Forget the old resources without dropping the role or its label...
removed {
  from = postgresql_role.alice
  lifecycle {
    destroy = false
  }
}

removed {
  from = postgresql_security_label.alice
  lifecycle {
    destroy = false
  }
}

# ...and import the same role: the ID is the role name exactly as it is.
import {
  to = azurepg_principal.alice
  id = "alice@contoso.com"
}

resource "azurepg_principal" "alice" {
  name = "alice@contoso.com"
}
