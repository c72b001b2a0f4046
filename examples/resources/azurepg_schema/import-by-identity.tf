# Terraform 1.12+: import by identity (the names as they are, nothing escaped).
import {
  to = azurepg_schema.reports
  identity = {
    database = "team/app"
    name     = "Monthly Reports"
  }
}

resource "azurepg_schema" "reports" {
  database = "team/app"
  name     = "Monthly Reports"
}
