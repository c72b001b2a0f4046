# Import blocks without resource blocks: Terraform writes the resource blocks.
#   terraform plan -generate-config-out=generated.tf
import {
  to = azurepg_principal.dba_team
  id = "DBA Team"
}

import {
  to = azurepg_principal.obrien
  id = "O'Brien's Team"
}
