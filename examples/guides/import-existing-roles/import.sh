# The resource block must exist first; the ID is the role name exactly as it is,
# quoted for the shell (a quote inside single quotes is written '\'').
terraform import 'azurepg_principal.adopted["alice@contoso.com"]' 'alice@contoso.com'
terraform import azurepg_principal.obrien 'O'\''Brien'\''s Team'
