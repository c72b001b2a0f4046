# The import ID is <role>/<database>/<owner>/<object_type>[/<schema>], quoted for
# the shell. Inside a field "%" is written %25 and "/" is written %2F.
terraform import azurepg_default_privileges.future_tables 'orders-api/orders/orders_owner/table/sales'
terraform import azurepg_default_privileges.future_sequences 'orders-api/orders/orders_owner/sequence' # whole database
