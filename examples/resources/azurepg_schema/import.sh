# The import ID is <database>/<schema>, quoted for the shell. Names are written
# as they are (@, spaces, quotes, non-ASCII); only "%" (as %25) and "/" (as %2F)
# are escaped inside a name.
terraform import azurepg_schema.sales orders/sales
terraform import azurepg_schema.reports 'team%2Fapp/Monthly Reports' # database: team/app
