# The import ID is <database>/<extension name>, quoted for the shell. It is split
# at the last '/': extension names never contain '/', database names may.
terraform import azurepg_extension.azure_ai orders/azure_ai
terraform import 'azurepg_extension.hstore["billing"]' billing/hstore
terraform import azurepg_extension.legacy 'team/app "db"/uuid-ossp' # database: team/app "db"
