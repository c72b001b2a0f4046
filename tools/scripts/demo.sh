#!/usr/bin/env bash
# make demo: build the provider, start the local emulator, install the
# provider through a throwaway Terraform CLI config (dev_overrides), apply
# examples/demo, show what it made, show that a second plan is empty, stop.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck source=emulator-lib.sh
source tools/scripts/emulator-lib.sh

echo "==> building the provider and the emulator"
go build -o "$work/bin/terraform-provider-azurepg" .

echo "==> starting the emulator"
start_emulator
# What make emulator prints: the environment, the server admin's password, the server log.
sed -n '/^# The emulator is running/,/^# Press Ctrl-C/p' "$work/emulator.log"
# shellcheck disable=SC1091
source "$work/env.sh" # AZUREPG_HOST=localhost and PGSSLROOTCERT: the provider runs on its default, sslmode = verify-full

# The Entra admin's token, from the (fake) managed identity endpoint, for
# what an app's migrations do by hand (psql, as on Azure).
token=$(curl -fsS -H "X-IDENTITY-HEADER: $IDENTITY_HEADER" \
  "$IDENTITY_ENDPOINT?resource=https://ossrdbms-aad.database.windows.net&api-version=2019-08-01" |
  sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "no token from the emulator's managed identity endpoint" >&2; exit 1; }
as_admin() {
  PGPASSWORD="$token" PGSSLMODE=verify-full PGSSLROOTCERT="$PGSSLROOTCERT" \
    psql -X -q -v ON_ERROR_STOP=1 -h "$AZUREPG_HOST" -p "$PGPORT" -U "$AZUREPG_USERNAME" -d app -P pager=off "$@"
}

cat >"$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/azurepg/azurepg" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
cp -r "$root/examples/demo" "$work/demo"
cd "$work/demo"

echo "==> terraform apply (examples/demo)"
terraform apply -auto-approve -input=false -compact-warnings

echo "==> what Terraform manages now"
terraform state list

echo "==> as the Entra admin: the app's migrations create its tables, as orders_owner"
as_admin -c "SET ROLE orders_owner" -c "CREATE TABLE sales.orders (id int PRIMARY KEY, total numeric)" \
  -c "CREATE TABLE sales.customers (id int PRIMARY KEY, name text)" -c "RESET ROLE"

echo "==> on the server, as the server admin sees it"
admin_pw=$(server_admin_password)
PGPASSWORD="$admin_pw" PGSSLMODE=verify-full PGSSLROOTCERT="$PGSSLROOTCERT" \
  psql -X -h "$AZUREPG_HOST" -p "$PGPORT" -U pgadmin -d postgres -P pager=off \
  -c "SELECT rolname AS principal, principaltype AS type, isadmin AS admin, ismfa AS mfa FROM pgaadauth_list_principals(false) ORDER BY 1" \
  -c "\\connect app" \
  -c "SELECT extname, extversion FROM pg_extension WHERE extname = 'azure_ai'" \
  -c "SELECT c.relname AS \"table in sales\", string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type) AS \"orders-api may\"
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) x
       WHERE n.nspname = 'sales' AND c.relkind = 'r' AND x.grantee = 'orders-api'::regrole GROUP BY 1 ORDER BY 1" || true

echo "==> as the Entra admin: orders_owner creates a table after the apply (the default privileges cover it)"
as_admin -c "SET ROLE orders_owner" -c "CREATE TABLE sales.refunds (id int)" -c "RESET ROLE" \
  -c "SELECT string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type) AS \"on sales.refunds, orders-api may\"
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) x
       WHERE n.nspname = 'sales' AND c.relname = 'refunds' AND x.grantee = 'orders-api'::regrole"

echo "==> a second plan must be empty"
set +e
terraform plan -detailed-exitcode -input=false -compact-warnings >"$work/plan2.txt" 2>&1
code=$?
set -e
tail -n 3 "$work/plan2.txt"
if [ "$code" -ne 0 ]; then
  cat "$work/plan2.txt"; echo "the second plan is not empty (exit $code)" >&2; exit 1
fi
echo "==> second plan empty; terraform destroy"
terraform destroy -auto-approve -input=false -compact-warnings -no-color | grep "^Destroy complete"

echo "==> nothing of the demo is left on the server"
left=$(PGPASSWORD="$admin_pw" PGSSLMODE=verify-full PGSSLROOTCERT="$PGSSLROOTCERT" \
  psql -X -q -t -A -v ON_ERROR_STOP=1 -h "$AZUREPG_HOST" -p "$PGPORT" -U pgadmin -d app -c "
  SELECT concat_ws(', ',
    (SELECT 'roles: ' || string_agg(rolname, ' ') FROM pg_roles WHERE rolname IN ('orders_owner', 'orders_readers',
       'alice@contoso.com', 'bob@contoso.com', 'josé.núñez@contoso.com', 'DBA Team', 'Data Analysts', 'orders-api', 'reporting-app')),
    (SELECT 'schema sales' FROM pg_namespace WHERE nspname = 'sales'),
    (SELECT 'extension azure_ai' FROM pg_extension WHERE extname = 'azure_ai'),
    (SELECT 'default privileges' FROM pg_default_acl LIMIT 1),
    (SELECT 'privileges on app: ' || datacl::text FROM pg_database WHERE datname = 'app' AND datacl::text LIKE '%orders%'))")
if [ -n "$left" ]; then
  echo "the destroy left: $left" >&2; exit 1
fi
echo "none: no role, schema, extension, privilege or default privilege of the demo"
echo "==> stopping the emulator"
