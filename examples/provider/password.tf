# A local server, or the server's password administrator as a break-glass
# login (it is a member of azure_pg_admin, so it can create principals).
# The password comes from PGPASSWORD.
provider "azurepg" {
  alias       = "local"
  host        = "localhost"
  port        = 5432
  username    = "pgadmin"
  auth_method = "password"
  sslmode     = "require"
}
