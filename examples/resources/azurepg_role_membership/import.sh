# The import ID is <role>/<member>, quoted for the shell. Names are written as
# they are (@, spaces, quotes, non-ASCII); only "%" (as %25) and "/" (as %2F)
# are escaped inside a name.
terraform import azurepg_role_membership.analysts_read 'orders_readers/Orders Analysts'
terraform import azurepg_role_membership.ops 'app%2Fops/DBA Team' # role: app/ops
