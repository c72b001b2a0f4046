# The import ID is the database name. Import reads every azure_ai setting
# present in that database; the next plan shows any that your configuration
# does not mention as removed (applying clears them), and keys given as
# write-only attributes as changed (applying sends them).
terraform import azurepg_ai_settings.orders orders
terraform import azurepg_ai_settings.reports 'Reports DB'
