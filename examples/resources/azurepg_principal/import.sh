# The import ID is the role name exactly as it is (case-sensitive), quoted for the shell.
terraform import azurepg_principal.alice 'alice@contoso.com'
terraform import azurepg_principal.dbas 'DBA Team'
terraform import 'azurepg_principal.teams["obrien"]' 'O'\''Brien'\''s Team'
