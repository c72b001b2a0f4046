package provider_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// Destroying a role leaves nothing behind: its privileges are revoked in
// every database, what it owns goes to reassign_owned_to, and without it a
// role that owns objects is not dropped and nothing changes.

// destroyDatabase creates a database as the Entra admin (who then owns it,
// as on Azure) with a schema "sales" owned by owner, and drops it after
// the test.
func destroyDatabase(t *testing.T, prefix, owner string) string {
	t.Helper()
	db := acctest.Name(prefix)
	acctest.SuperExec(t, "postgres", "CREATE DATABASE "+quoteIdent(db)+" OWNER "+quoteIdent(acctest.Emulator(t).AdminName()))
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+quoteIdent(db)+" WITH (FORCE)") })
	acctest.SuperExec(t, db, "CREATE SCHEMA sales AUTHORIZATION "+quoteIdent(owner))
	return db
}

// ownerRole creates an owner role as the superuser, the admin a member of
// it (as an app's owner role is), dropped after the test.
func ownerRole(t *testing.T, prefix string) string {
	t.Helper()
	owner := acctest.Name(prefix)
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+quoteIdent(owner))
	acctest.SuperExec(t, "postgres", "GRANT "+quoteIdent(owner)+" TO "+quoteIdent(acctest.Emulator(t).AdminName()))
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+quoteIdent(owner)) })
	return owner
}

// asRole runs sql in db as role (SET ROLE by the superuser).
func asRole(t *testing.T, db, role, sql string) {
	t.Helper()
	acctest.SuperExec(t, db, "SET ROLE "+quoteIdent(role)+"; "+sql+"; RESET ROLE")
}

// dependencies is how many shared dependencies the role has (privileges,
// ownerships, default privileges) and whether it exists.
func dependencies(t *testing.T, role string) (deps int, exists bool) {
	t.Helper()
	acctest.SuperQueryRow(t, "postgres", `SELECT (SELECT count(*) FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid WHERE r.rolname = $1),
		EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, []any{role}, &deps, &exists)
	return deps, exists
}

// tableOwners is "table=owner, ..." for the tables of schema sales, in order.
func tableOwners(t *testing.T, db string) string {
	t.Helper()
	var s string
	acctest.SuperQueryRow(t, db, `SELECT coalesce(string_agg(c.relname || '=' || c.relowner::regrole::text, ', ' ORDER BY c.relname), '')
		FROM pg_class c WHERE c.relnamespace = 'sales'::regnamespace AND c.relkind = 'r'`, nil, &s)
	return s
}

func checkGone(t *testing.T, role string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if deps, exists := dependencies(t, role); deps != 0 || exists {
			return fmt.Errorf("role %q: exists %v, %d dependencies left", role, exists, deps)
		}
		return nil
	}
}

func checkTables(t *testing.T, db, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := tableOwners(t, db); got != want {
			return fmt.Errorf("database %q: tables %s, want %s", db, got, want)
		}
		return nil
	}
}

// TestAccDestroyRevokesDefaultPrivilegeGrants is the sequence a new user
// follows: a principal, grants (CONNECT, USAGE, SELECT on every table),
// default privileges for tables an owner role creates later, a table
// created later, destroy. The destroy revokes the SELECT that the default
// privileges gave on the later table, drops the role, and every table stays.
func TestAccDestroyRevokesDefaultPrivilegeGrants(t *testing.T) {
	acctest.Emulator(t)
	owner := ownerRole(t, `orders_owner "d"`)
	db := destroyDatabase(t, `app db; "é"`, owner)
	asRole(t, db, owner, "CREATE TABLE sales.orders (id int)")
	user := acctest.NewObject(t, "user", `alice "a"; @ ü`)
	config := fmt.Sprintf(`
provider "azurepg" {}

resource "azurepg_principal" "alice" {
  name = %[1]q
}
resource "azurepg_grant" "connect" {
  role        = azurepg_principal.alice.name
  database    = %[2]q
  object_type = "database"
  privileges  = ["CONNECT"]
}
resource "azurepg_grant" "usage" {
  role        = azurepg_principal.alice.name
  database    = %[2]q
  object_type = "schema"
  schema      = "sales"
  privileges  = ["USAGE"]
}
resource "azurepg_grant" "tables" {
  role        = azurepg_principal.alice.name
  database    = %[2]q
  object_type = "table"
  schema      = "sales"
  privileges  = ["SELECT"]
}
resource "azurepg_default_privileges" "later" {
  role        = azurepg_principal.alice.name
  database    = %[2]q
  owner       = %[3]q
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT"]
}
`, user.Name, db, owner)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkGone(t, user.Name),
			checkTables(t, db, fmt.Sprintf("later=%s, orders=%s", quoteIdent(owner), quoteIdent(owner))),
		),
		Steps: []resource.TestStep{
			{Config: config},
			{
				// The owner creates a table: the default privileges give alice SELECT on it.
				PreConfig: func() { asRole(t, db, owner, "CREATE TABLE sales.later (id int)") },
				Config:    config,
				Check: func(*terraform.State) error {
					var ok bool
					acctest.SuperQueryRow(t, db, "SELECT has_table_privilege($1, 'sales.later', 'SELECT')", []any{user.Name}, &ok)
					if !ok {
						return fmt.Errorf("premise: %q cannot read the later table", user.Name)
					}
					return nil
				},
			},
		},
	})
}

// TestAccDestroyReassignsAcrossDatabases: a contractor's principal owns
// tables in two databases; destroying it with reassign_owned_to hands them
// to the app's owner role (an azurepg_role) and drops the principal. The
// owner role, destroyed last, hands them on to the admin.
func TestAccDestroyReassignsAcrossDatabases(t *testing.T) {
	e := acctest.Emulator(t)
	owner := acctest.LongName(`orders_owner "r"; ö @`, 63)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+quoteIdent(owner)) })
	pat := acctest.NewObject(t, "user", `pat 'o'; ñ`)
	dbs := []string{acctest.Name(`first "db"`), acctest.Name("second db é")}
	both := fmt.Sprintf(`
provider "azurepg" {}

resource "azurepg_role" "owner" {
  name              = %[1]q
  reassign_owned_to = %[3]q
}
resource "azurepg_principal" "pat" {
  name              = %[2]q
  reassign_owned_to = azurepg_role.owner.name
}
`, owner, pat.Name, e.AdminName())
	ownerOnly, _, _ := strings.Cut(both, `resource "azurepg_principal"`)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkGone(t, owner),
			checkTables(t, dbs[0], "pats="+quoteIdent(e.AdminName())),
			checkTables(t, dbs[1], "pats="+quoteIdent(e.AdminName())),
		),
		Steps: []resource.TestStep{
			{
				Config: both,
				Check: func(*terraform.State) error {
					// pat makes tables in two databases (the schema is the owner role's).
					for _, db := range dbs {
						acctest.SuperExec(t, "postgres", "CREATE DATABASE "+quoteIdent(db)+" OWNER "+quoteIdent(e.AdminName()))
						t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+quoteIdent(db)+" WITH (FORCE)") })
						acctest.SuperExec(t, db, "CREATE SCHEMA sales AUTHORIZATION "+quoteIdent(owner)+
							"; GRANT CREATE, USAGE ON SCHEMA sales TO "+quoteIdent(pat.Name))
						asRole(t, db, pat.Name, "CREATE TABLE sales.pats (id int)")
					}
					return nil
				},
			},
			{
				Config: ownerOnly,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_principal.pat", plancheck.ResourceActionDestroy),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkGone(t, pat.Name),
					checkTables(t, dbs[0], "pats="+quoteIdent(owner)),
					checkTables(t, dbs[1], "pats="+quoteIdent(owner)),
				),
			},
		},
	})
}

// TestAccDestroyOwningRoleFailsAndChangesNothing: without
// reassign_owned_to, destroying a principal that owns a table fails naming
// it, and nothing changes on the server. Setting reassign_owned_to is an
// update that changes nothing on the server; the destroy then succeeds.
func TestAccDestroyOwningRoleFailsAndChangesNothing(t *testing.T) {
	e := acctest.Emulator(t)
	owner := ownerRole(t, "owner-fails")
	db := destroyDatabase(t, `owning "db"; é`, owner)
	pat := acctest.NewObject(t, "user", `pat "owns"`)
	const addr = "azurepg_principal.pat"
	principal := func(extra string) string {
		return fmt.Sprintf("provider \"azurepg\" {}\n\nresource \"azurepg_principal\" \"pat\" {\n  name = %q\n  %s\n}\n", pat.Name, extra)
	}
	var before int
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkGone(t, pat.Name),
			checkTables(t, db, "mine="+quoteIdent(e.AdminName())),
		),
		Steps: []resource.TestStep{
			{
				Config: principal(""),
				Check: func(*terraform.State) error {
					acctest.SuperExec(t, db, "GRANT CREATE, USAGE ON SCHEMA sales TO "+quoteIdent(pat.Name))
					asRole(t, db, pat.Name, "CREATE TABLE sales.mine (id int)")
					before, _ = dependencies(t, pat.Name)
					return nil
				},
			},
			{
				Config: "provider \"azurepg\" {}\n",
				ExpectError: regexp.MustCompile(`(?s)Role owns objects that need a new owner.*table sales\.mine \(database "owning \\"db\\"; é.*` +
					`Nothing was changed\. Set reassign_owned_to on this resource`),
			},
			{
				// Nothing changed: the same dependencies, the role still there.
				Config:           principal(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(*terraform.State) error {
					if after, exists := dependencies(t, pat.Name); after != before || !exists {
						return fmt.Errorf("the failed destroy changed the server: %d dependencies before, %d after, exists %v", before, after, exists)
					}
					return checkTables(t, db, "mine="+quoteIdent(pat.Name))(nil)
				},
			},
			{
				Config: principal(fmt.Sprintf("reassign_owned_to = %q", e.AdminName())),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if after, _ := dependencies(t, pat.Name); after != before {
						return fmt.Errorf("setting reassign_owned_to changed the server: %d dependencies, want %d", after, before)
					}
					return nil
				},
			},
		},
	})
}
