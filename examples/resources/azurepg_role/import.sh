# The import ID is the role name exactly as it is (case-sensitive), quoted for the shell.
terraform import azurepg_role.orders_owner 'orders_owner'
terraform import azurepg_role.reporting 'Reporting "RO"'
