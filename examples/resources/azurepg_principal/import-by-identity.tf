# Terraform 1.12+: import by identity. host is optional (it defaults to the
# provider's host, and another host is an error).
import {
  to = azurepg_principal.reporting_team
  identity = {
    name = "Reporting Team"
  }
}

resource "azurepg_principal" "reporting_team" {
  name = "Reporting Team"
}
