package provider_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// serverRole is a role's attributes as the superuser reads them:
// "login=t inherit=t createdb=f createrole=f limit=-1 until=none password=none" or
// "" when it does not exist.
func serverRole(t *testing.T, name string) string {
	t.Helper()
	var s string
	acctest.SuperQueryRow(t, "postgres", `SELECT coalesce((SELECT format('login=%s inherit=%s createdb=%s createrole=%s limit=%s until=%s password=%s',
		rolcanlogin, rolinherit, rolcreatedb, rolcreaterole, rolconnlimit,
		coalesce(to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'), 'none'),
		CASE WHEN rolpassword IS NULL THEN 'none' WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram' ELSE 'other' END)
		FROM pg_authid WHERE rolname = $1), '')`, []any{name}, &s)
	return s
}

func checkServerRole(t *testing.T, name, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := serverRole(t, name); got != want {
			return fmt.Errorf("server: role %q is %q, want %q", name, got, want)
		}
		return nil
	}
}

func roleConfig(name string, lines ...string) string {
	s := fmt.Sprintf("provider \"azurepg\" {}\n\nresource \"azurepg_role\" \"r\" {\n  name = %q\n", name)
	for _, l := range lines {
		s += "  " + l + "\n"
	}
	return s + "}\n"
}

// TestAccRole: a 63-byte name with "@", spaces, quotes, a semicolon and
// non-ASCII; create with defaults, empty second plan, import, attributes and
// password changed in place, drift after hand changes (update) and a hand
// DROP (create), destroy drops.
func TestAccRole(t *testing.T) {
	acctest.Emulator(t)
	name := acctest.LongName(`orders_owner "x"; @ é'`, 63)
	q := pgx.Identifier{name}.Sanitize()
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+q) })
	const addr = "azurepg_role.r"
	group := roleConfig(name)
	login := roleConfig(name, "login = true", "inherit = false", "create_database = true", "connection_limit = 5",
		`valid_until = "2031-05-06T07:08:09+02:00"`, `password_wo = "first 'pw'"`, "password_wo_version = 1")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkServerRole(t, name, ""),
		Steps: []resource.TestStep{
			{
				Config: group,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(name)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("login"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("inherit"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("connection_limit"), knownvalue.Int64Exact(-1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("valid_until"), knownvalue.Null()),
				},
				Check: checkServerRole(t, name, "login=f inherit=t createdb=f createrole=f limit=-1 until=none password=none"),
			},
			{Config: group, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{ResourceName: addr, ImportState: true, ImportStateId: name, ImportStateVerify: true},
			{
				Config: login,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("valid_until"), knownvalue.StringExact("2031-05-06T07:08:09+02:00")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("password_wo"), knownvalue.Null()),
				},
				Check: checkServerRole(t, name, "login=t inherit=f createdb=t createrole=f limit=5 until=2031-05-06T05:08:09 password=scram"),
			},
			{Config: login, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{
				// Changed by hand: put back in place.
				PreConfig: func() {
					acctest.SuperExec(t, "postgres", "ALTER ROLE "+q+" NOLOGIN CREATEROLE CONNECTION LIMIT 9 VALID UNTIL 'infinity'")
				},
				Config: login,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: checkServerRole(t, name, "login=t inherit=f createdb=t createrole=f limit=5 until=2031-05-06T05:08:09 password=scram"),
			},
			{
				// A new version with no password removes it.
				Config: roleConfig(name, "login = true", "inherit = false", "create_database = true", "connection_limit = 5",
					`valid_until = "2031-05-06T07:08:09+02:00"`, "password_wo_version = 2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: checkServerRole(t, name, "login=t inherit=f createdb=t createrole=f limit=5 until=2031-05-06T05:08:09 password=none"),
			},
			{
				// Dropped by hand: created again.
				PreConfig: func() { acctest.SuperExec(t, "postgres", "DROP ROLE "+q) },
				Config:    group,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				Check: checkServerRole(t, name, "login=f inherit=t createdb=f createrole=f limit=-1 until=none password=none"),
			},
		},
	})
}

// TestAccRolePlanTimeErrors: a password without login, a bad valid_until,
// a role that would receive its own objects: refused at plan time.
func TestAccRolePlanTimeErrors(t *testing.T) {
	acctest.Emulator(t)
	name := acctest.Name("role-plan-errors")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      roleConfig(name, `password_wo = "x"`, "password_wo_version = 1"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)A password needs login = true.*Set login = true`),
			},
			{
				Config:      roleConfig(name, `valid_until = "2027-01-31"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid valid_until.*RFC 3339`),
			},
			{
				Config:      roleConfig(name, fmt.Sprintf("reassign_owned_to = %q", name)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`A role cannot receive its own objects`),
			},
		},
	})
	if got := serverRole(t, name); got != "" {
		t.Fatalf("a refused plan created the role: %s", got)
	}
}

// TestAccRoleImportRefusesEntraPrincipal: an Entra principal is not a
// plain role; the error says how to import it.
func TestAccRoleImportRefusesEntraPrincipal(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "user", "role-import-entra")
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, false)", o.Name)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{o.Name}.Sanitize()) })
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config:        roleConfig(o.Name),
			ResourceName:  "azurepg_role.r",
			ImportState:   true,
			ImportStateId: o.Name,
			ExpectError:   regexp.MustCompile(`(?s)Role is a Microsoft Entra principal.*manage it with\s+azurepg_principal.*terraform\s+import\s+'azurepg_principal.<name>'`),
		}},
	})
}

// TestRoleMoveFromPostgresqlRole: a plain role of the general provider
// moves to azurepg_role with a moved block: the plan is a move and nothing
// else, the role keeps its oid and attributes, and the next plan is empty.
func TestRoleMoveFromPostgresqlRole(t *testing.T) {
	acctest.Emulator(t)
	name := acctest.LongName(`app "tool"; ø @ x'`, 63)
	q := pgx.Identifier{name}.Sanitize()
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+q+" LOGIN NOINHERIT CONNECTION LIMIT 3")
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+q) })
	oid, attrs := roleOID(t, name), serverRole(t, name)
	before := fmt.Sprintf("resource \"postgresql_role\" \"tool\" {\n  name = %q\n}\n", name)
	after := fmt.Sprintf(`
provider "azurepg" {}

moved {
  from = postgresql_role.tool
  to   = azurepg_role.tool
}
resource "azurepg_role" "tool" {
  name             = %q
  login            = true
  inherit          = false
  connection_limit = 3
}
`, name)
	unchanged := func(*terraform.State) error {
		if got := roleOID(t, name); got != oid {
			return fmt.Errorf("role %q has oid %d, was %d: dropped and created again", name, got, oid)
		}
		return checkServerRole(t, name, attrs)(nil)
	}
	const addr = "azurepg_role.tool"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: moveFactories(),
		CheckDestroy:             checkServerRole(t, name, ""),
		Steps: []resource.TestStep{
			{Config: before, Check: unchanged},
			{
				Config: after,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectMoved{from: "postgresql_role.tool", to: addr},
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("login"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("inherit"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("connection_limit"), knownvalue.Int64Exact(3)),
				},
				Check: unchanged,
			},
			{Config: after, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}
