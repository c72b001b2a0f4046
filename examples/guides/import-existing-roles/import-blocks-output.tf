# Writes one import block per principal, to paste into a file (imports.tf):
#   terraform apply -refresh-only -auto-approve   (reads the data source, changes nothing)
#   terraform output -raw import_blocks > imports.tf
data "azurepg_principals" "all" {}

output "import_blocks" {
  value = join("\n", [
    for p in data.azurepg_principals.all.principals : <<-EOT
      import {
        to = azurepg_principal.${p.type}_${trim(replace(lower(p.name), "/[^a-z0-9]+/", "_"), "_")}
        id = ${replace(replace(jsonencode(p.name), "$${", "$$$${"), "%%{", "%%%%{")}
      }
    EOT
  ])
}
