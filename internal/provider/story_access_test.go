package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/provider"
)

// missingResourceTypes lists which of the given resource types the provider
// does not serve.
func missingResourceTypes(names ...string) []string {
	ctx := context.Background()
	have := map[string]bool{}
	for _, newResource := range provider.New("test")().Resources(ctx) {
		var resp fwresource.MetadataResponse
		newResource().Metadata(ctx, fwresource.MetadataRequest{ProviderTypeName: "azurepg"}, &resp)
		have[resp.TypeName] = true
	}
	var missing []string
	for _, n := range names {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	return missing
}

// TestStoryAppIdentityAccess: story 4 and the guide "Give an app's managed
// identity access", with the real CLI. The admin that applies is the
// emulator's Entra admin (not a superuser); the database, the schema and
// its tables belong to an owner role of which the admin is a member. The
// app's managed identity then logs in with its own token and reads and
// writes the tables, including one created after the apply; an Entra group
// is a member of an application role; a second plan is empty; destroy
// takes everything back.
func TestStoryAppIdentityAccess(t *testing.T) {
	if missing := missingResourceTypes("azurepg_grant", "azurepg_default_privileges"); len(missing) > 0 {
		t.Skipf("story 4 needs %s, not in this build of the provider", strings.Join(missing, " and "))
	}
	e := acctest.Emulator(t)
	q := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	owner := acctest.Name(`orders_owner "x"`)
	readers := acctest.Name("orders_readers")
	db := acctest.Name(`orders "db"; ö`)
	const schema = "sales"
	app := acctest.NewObject(t, "managed_identity", `orders-api "mi"`)
	support := acctest.NewObject(t, "group", `Orders Support @ ñ`)

	acctest.SuperExec(t, "postgres", "CREATE ROLE "+q(owner))
	acctest.SuperExec(t, "postgres", "GRANT "+q(owner)+" TO "+q(e.AdminName()))
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+q(readers))
	acctest.SuperExec(t, "postgres", "CREATE DATABASE "+q(db)+" OWNER "+q(owner))
	t.Cleanup(func() {
		acctest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+q(db)+" WITH (FORCE)")
		for _, r := range []string{app.Name, support.Name, readers, owner} {
			acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+q(r))
		}
	})
	acctest.SuperExec(t, db, "CREATE SCHEMA "+schema+" AUTHORIZATION "+q(owner))
	asOwner := func(sql string) { acctest.SuperExec(t, db, "SET ROLE "+q(owner)+"; "+sql+"; RESET ROLE") }
	asOwner("CREATE TABLE sales.orders (id int); CREATE TABLE sales.\"line items\" (id int)")

	config := providerRequirements + fmt.Sprintf(`
provider "azurepg" {}

resource "azurepg_principal" "orders_api" {
  name      = %[1]q
  type      = "service"
  object_id = %[2]q
}

resource "azurepg_grant" "connect" {
  role        = azurepg_principal.orders_api.name
  database    = %[3]q
  object_type = "database"
  privileges  = ["CONNECT"]
}

resource "azurepg_grant" "sales_usage" {
  role        = azurepg_principal.orders_api.name
  database    = %[3]q
  object_type = "schema"
  schema      = "sales"
  privileges  = ["USAGE"]
}

resource "azurepg_grant" "sales_tables" {
  role        = azurepg_principal.orders_api.name
  database    = %[3]q
  object_type = "table"
  schema      = "sales"
  privileges  = ["SELECT", "INSERT"]
}

resource "azurepg_default_privileges" "sales_future_tables" {
  role        = azurepg_principal.orders_api.name
  database    = %[3]q
  owner       = %[4]q
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT", "INSERT"]
}

resource "azurepg_principal" "support" {
  name = %[5]q
  type = "group"
}

resource "azurepg_role_membership" "support_readers" {
  role   = %[6]q
  member = azurepg_principal.support.name
}
`, app.Name, app.ObjectID, db, owner, support.Name, readers)

	w := acctest.NewWorkdir(t, config, nil)
	w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")

	// The app logs in with its own token and uses the tables.
	tok, err := e.IssueToken(context.Background(), "https://ossrdbms-aad.database.windows.net", app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), e.URL(app.Name, tok.Value, db))
	if err != nil {
		t.Fatalf("the app cannot log in to its database: %v", err)
	}
	defer conn.Close(context.Background())
	use := func(table string) {
		t.Helper()
		ctx := context.Background()
		if _, err := conn.Exec(ctx, "INSERT INTO sales."+q(table)+" VALUES (1)"); err != nil {
			t.Fatalf("the app cannot insert into %s: %v", table, err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM sales."+q(table)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("the app reads %d rows from %s: %v", n, table, err)
		}
		if _, err := conn.Exec(ctx, "DELETE FROM sales."+q(table)); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("the app may delete from %s (%v): more than it was granted", table, err)
		}
	}
	use("orders")
	use("line items")
	// A table the owner creates afterwards: the default privileges cover it.
	asOwner("CREATE TABLE sales.refunds (id int)")
	use("refunds")

	var member bool
	acctest.SuperQueryRow(t, "postgres", "SELECT pg_has_role($1, $2, 'MEMBER')", []any{support.Name, readers}, &member)
	if !member {
		t.Fatalf("%q is not a member of %q", support.Name, readers)
	}

	// Tables came and went: the second plan is still empty (exit code 0).
	w.MustRun("plan", "-detailed-exitcode", "-input=false", "-no-color")

	w.MustRun("destroy", "-auto-approve", "-input=false", "-no-color")
	if err := checkRolesGone(t, app.Name, support.Name)(nil); err != nil {
		t.Fatal(err)
	}
	var defaults int
	acctest.SuperQueryRow(t, db, "SELECT count(*) FROM pg_default_acl WHERE defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1)",
		[]any{owner}, &defaults)
	if defaults != 0 {
		t.Fatalf("%d default privileges of %q remain after destroy", defaults, owner)
	}
}
