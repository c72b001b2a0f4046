package provider_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

func qi(s string) string { return pgx.Identifier{s}.Sanitize() }

// name63 is a unique name of exactly 63 bytes (PostgreSQL's limit) that
// starts with prefix.
func name63(prefix string) string {
	n := acctest.Name(prefix)
	for len(n) < 63 {
		n += "x"
	}
	if len(n) > 63 {
		panic(fmt.Sprintf("prefix %q too long for 63 bytes", prefix))
	}
	return n
}

// accessDB is a database as an Entra admin has it on Azure: created by the
// admin (so it owns it), a schema and objects owned by a role the admin is
// a member of (GRANT owner TO admin), and a role to grant to. Every name is
// hostile: '@', spaces, both quotes, ';', '/', non-ASCII, 63 bytes.
type accessDB struct {
	db, schema, owner, grantee string
	tables                     []string // owned by owner
	function, sequence         string
}

func newAccessDB(t *testing.T) accessDB {
	t.Helper()
	ctx := context.Background()
	a := accessDB{
		db:       acctest.Name(`acc/db "x"; é @`),
		schema:   name63(`sales "s"; ü 'q' @`),
		owner:    name63(`a-owner "o"; ñ@`),
		grantee:  name63(`app@contoso.com "g"; 'ß' /`),
		tables:   []string{name63(`orders "t"; 表 @`), acctest.Name(`lines 't'`)},
		function: acctest.Name(`total "f"; ö`),
		sequence: acctest.Name(`seq "s"; ø`),
	}
	admin := acctest.AdminConn(t, "postgres")
	for _, sql := range []string{
		"CREATE DATABASE " + qi(a.db),
		"CREATE ROLE " + qi(a.owner),
		"CREATE ROLE " + qi(a.grantee),
		"GRANT " + qi(a.owner) + " TO CURRENT_USER",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	s := qi(a.schema)
	acctest.SuperExec(t, a.db, "CREATE SCHEMA "+s+" AUTHORIZATION "+qi(a.owner))
	acctest.SuperExec(t, a.db, "SET ROLE "+qi(a.owner)+"; "+
		"CREATE TABLE "+s+"."+qi(a.tables[0])+" (id int); "+
		"CREATE TABLE "+s+"."+qi(a.tables[1])+" (id int); "+
		"CREATE SEQUENCE "+s+"."+qi(a.sequence)+"; "+
		"CREATE FUNCTION "+s+"."+qi(a.function)+"(int) RETURNS int LANGUAGE sql AS 'SELECT 1'; "+
		"CREATE FUNCTION "+s+"."+qi(a.function)+"(text) RETURNS int LANGUAGE sql AS 'SELECT 2'")
	return a
}

// privilegesOn is what the server says role holds on an object, from
// aclexplode, read as superuser. kind is the catalog: class, proc, namespace, database.
func privilegesOn(t *testing.T, db, query string, args ...any) []string {
	t.Helper()
	var out []string
	acctest.SuperQueryRow(t, db, `SELECT coalesce(array_agg(DISTINCT x.privilege_type || CASE WHEN x.is_grantable THEN '+' ELSE '' END
		ORDER BY x.privilege_type || CASE WHEN x.is_grantable THEN '+' ELSE '' END), '{}') FROM (`+query+`) o(acl, grantee), aclexplode(o.acl) x
		WHERE x.grantee = CASE WHEN o.grantee = 'public' THEN 0 ELSE (SELECT oid FROM pg_roles WHERE rolname = o.grantee) END`, args, &out)
	return out
}

func tablePrivs(t *testing.T, a accessDB, table, role string) []string {
	return privilegesOn(t, a.db, `SELECT c.relacl, $3::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2`, a.schema, table, role)
}

func checkPrivs(what string, got func() []string, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		g := got()
		if g == nil {
			g = []string{}
		}
		slices.Sort(want)
		if !slices.Equal(g, want) {
			return fmt.Errorf("%s: the server has %v, want %v", what, g, want)
		}
		return nil
	}
}

func (a accessDB) config(blocks ...string) string {
	return "provider \"azurepg\" {}\n\n" + fmt.Sprintf(`locals {
  db      = %s
  schema  = %s
  owner   = %s
  grantee = %s
}
`, hclquote.String(a.db), hclquote.String(a.schema), hclquote.String(a.owner), hclquote.String(a.grantee)) + strings.Join(blocks, "\n")
}

// TestAccGrantLifecycle creates a grant of each object type and
// default privileges on hostile names, on objects owned by a role the admin
// is a member of (granted through SET ROLE), reads them back (empty second
// plan), imports each, sees a hand REVOKE as drift and repairs it with an
// update (not a replacement), and shows default privileges reaching a table
// the owner creates afterwards.
func TestAccGrantLifecycle(t *testing.T) {
	acctest.Emulator(t)
	a := newAccessDB(t)
	blocks := func(tablePrivileges string) []string {
		return []string{
			`resource "azurepg_grant" "db" {
  role        = local.grantee
  database    = local.db
  object_type = "database"
  privileges  = ["CONNECT", "TEMPORARY"]
}`,
			`resource "azurepg_grant" "schema" {
  role        = local.grantee
  database    = local.db
  object_type = "schema"
  schema      = local.schema
  privileges  = ["USAGE"]
}`,
			fmt.Sprintf(`resource "azurepg_grant" "tables" {
  role        = local.grantee
  database    = local.db
  object_type = "table"
  schema      = local.schema
  privileges  = %s
}`, tablePrivileges),
			fmt.Sprintf(`resource "azurepg_grant" "one" {
  role              = local.grantee
  database          = local.db
  object_type       = "function"
  schema            = local.schema
  objects           = [%s]
  privileges        = ["EXECUTE"]
  with_grant_option = true
}`, hclquote.String(a.function)),
			`resource "azurepg_grant" "seq" {
  role        = local.grantee
  database    = local.db
  object_type = "sequence"
  schema      = local.schema
  privileges  = ["ALL"]
}`,
			`resource "azurepg_default_privileges" "future" {
  role        = local.grantee
  database    = local.db
  owner       = local.owner
  schema      = local.schema
  object_type = "table"
  privileges  = ["SELECT", "INSERT"]
}`,
		}
	}
	t0, t1 := a.tables[0], a.tables[1]
	dbPrivs := func() []string {
		return privilegesOn(t, a.db, `SELECT datacl, $2::text FROM pg_database WHERE datname = $1`, a.db, a.grantee)
	}
	publicDBPrivs := func() []string {
		return privilegesOn(t, a.db, `SELECT coalesce(datacl, acldefault('d', datdba)), 'public'::text FROM pg_database WHERE datname = $1`, a.db)
	}
	funcPrivs := func() []string {
		return privilegesOn(t, a.db, `SELECT p.proacl, $3::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname = $1 AND p.proname = $2`, a.schema, a.function, a.grantee)
	}
	later := acctest.Name(`later "t"; 後`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkPrivs("database after destroy", dbPrivs),
			checkPrivs("PUBLIC on the database after destroy", publicDBPrivs, "CONNECT", "TEMPORARY"),
			checkPrivs("table after destroy", func() []string { return tablePrivs(t, a, t0, a.grantee) }),
			checkPrivs("functions after destroy", funcPrivs),
		),
		Steps: []resource.TestStep{
			{
				Config: a.config(blocks(`["SELECT", "INSERT"]`)...),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_grant.db", tfjsonpath.New("id"),
						knownvalue.StringExact(strings.ReplaceAll(a.grantee, "/", "%2F")+"/"+strings.ReplaceAll(a.db, "/", "%2F")+"/database")),
					statecheck.ExpectKnownValue("azurepg_grant.tables", tfjsonpath.New("privileges"), knownvalue.SetSizeExact(2)),
					statecheck.ExpectKnownValue("azurepg_grant.tables", tfjsonpath.New("privileges"),
						knownvalue.SetPartial([]knownvalue.Check{knownvalue.StringExact("INSERT")})),
					statecheck.ExpectKnownValue("azurepg_grant.tables", tfjsonpath.New("objects"), knownvalue.Null()),
					statecheck.ExpectKnownValue("azurepg_grant.one", tfjsonpath.New("with_grant_option"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_grant.seq", tfjsonpath.New("privileges"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("ALL")})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkPrivs("database", dbPrivs, "CONNECT", "TEMPORARY"),
					checkPrivs("PUBLIC on the database", publicDBPrivs, "CONNECT", "TEMPORARY"),
					checkPrivs("schema", func() []string {
						return privilegesOn(t, a.db, `SELECT nspacl, $2::text FROM pg_namespace WHERE nspname = $1`, a.schema, a.grantee)
					}, "USAGE"),
					checkPrivs("table 0", func() []string { return tablePrivs(t, a, t0, a.grantee) }, "INSERT", "SELECT"),
					checkPrivs("table 1", func() []string { return tablePrivs(t, a, t1, a.grantee) }, "INSERT", "SELECT"),
					checkPrivs("both overloads", funcPrivs, "EXECUTE+"),
					checkPrivs("sequence", func() []string { return tablePrivs(t, a, a.sequence, a.grantee) }, "SELECT", "UPDATE", "USAGE"),
					checkGrantor(t, a, t0),
				),
			},
			{ResourceName: "azurepg_grant.db", ImportState: true, ImportStateVerify: true},
			{ResourceName: "azurepg_grant.schema", ImportState: true, ImportStateVerify: true},
			{ResourceName: "azurepg_grant.tables", ImportState: true, ImportStateVerify: true},
			{ResourceName: "azurepg_grant.one", ImportState: true, ImportStateVerify: true},
			// Import reads the privileges as listed, not ALL.
			{ResourceName: "azurepg_grant.seq", ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"privileges"}},
			{ResourceName: "azurepg_default_privileges.future", ImportState: true, ImportStateVerify: true},
			{
				// A hand REVOKE on one table: drift, repaired in place.
				PreConfig: func() {
					acctest.SuperExec(t, a.db, "REVOKE INSERT ON "+qi(a.schema)+"."+qi(t1)+" FROM "+qi(a.grantee))
					acctest.SuperExec(t, a.db, "ALTER DEFAULT PRIVILEGES FOR ROLE "+qi(a.owner)+" IN SCHEMA "+qi(a.schema)+
						" REVOKE INSERT ON TABLES FROM "+qi(a.grantee))
					acctest.SuperExec(t, a.db, "GRANT CREATE ON DATABASE "+qi(a.db)+" TO "+qi(a.grantee))
				},
				Config: a.config(blocks(`["SELECT", "INSERT"]`)...),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_grant.tables", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("azurepg_grant.db", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("azurepg_default_privileges.future", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("azurepg_grant.schema", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkPrivs("table 1 repaired", func() []string { return tablePrivs(t, a, t1, a.grantee) }, "INSERT", "SELECT"),
					checkPrivs("database repaired", dbPrivs, "CONNECT", "TEMPORARY"),
				),
			},
			{
				// Fewer privileges: an update. Then the owner creates a
				// table: default privileges give it SELECT and INSERT, and
				// the "all tables" grant shows it lacks nothing it manages
				// (SELECT), so the plan stays empty.
				Config: a.config(blocks(`["SELECT"]`)...),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_grant.tables", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkPrivs("table 0 reduced", func() []string { return tablePrivs(t, a, t0, a.grantee) }, "SELECT"),
					func(*terraform.State) error {
						acctest.SuperExec(t, a.db, "SET ROLE "+qi(a.owner)+"; CREATE TABLE "+qi(a.schema)+"."+qi(later)+" (id int)")
						return nil
					},
					checkPrivs("the later table", func() []string { return tablePrivs(t, a, later, a.grantee) }, "INSERT", "SELECT"),
				),
			},
			{
				// The later table holds INSERT too, but not every table
				// does: state keeps SELECT and the plan is empty.
				Config:   a.config(blocks(`["SELECT"]`)...),
				PlanOnly: true,
			},
			{
				// A table created by someone without default privileges
				// lacks SELECT: the "all tables" grant shows an update.
				PreConfig: func() {
					bare := qi(a.schema) + "." + qi(acctest.Name(`bare "t"`))
					acctest.SuperExec(t, a.db, "CREATE TABLE "+bare+" (id int); ALTER TABLE "+bare+" OWNER TO "+qi(a.owner))
				},
				Config:             a.config(blocks(`["SELECT"]`)...),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// checkGrantor: the grant was made as the owner (SET ROLE), not by the admin.
func checkGrantor(t *testing.T, a accessDB, table string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var grantors []string
		acctest.SuperQueryRow(t, a.db, `SELECT coalesce(array_agg(DISTINCT x.grantor::regrole::text), '{}')
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) x
			WHERE n.nspname = $1 AND c.relname = $2 AND x.grantee = (SELECT oid FROM pg_roles WHERE rolname = $3)`,
			[]any{a.schema, table, a.grantee}, &grantors)
		if !slices.Equal(grantors, []string{qi(a.owner)}) {
			return fmt.Errorf("grantors %v, want the owner %s", grantors, qi(a.owner))
		}
		return nil
	}
}
