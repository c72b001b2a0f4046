# The import ID is <role>/<database>/<object_type>[/<schema>[/<object>...]], quoted
# for the shell. Inside a field "%" is written %25 and "/" is written %2F;
# everything else (@, spaces, quotes) as it is.
terraform import azurepg_grant.connect 'orders-api/orders/database'
terraform import azurepg_grant.usage 'orders-api/orders/schema/sales'
terraform import azurepg_grant.tables 'orders-api/orders/table/sales'                 # all tables of sales
terraform import azurepg_grant.refresh 'orders-api/orders/function/sales/refresh_totals' # listed objects, sorted
terraform import azurepg_grant.reports 'Reporting Team/team%2Fapp "db"/table/public/a/b' # database team/app "db"
