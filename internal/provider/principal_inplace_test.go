package provider_test

import (
	"encoding/json"
	"fmt"
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
)

// roleRights is what the server says about a role's identity and rights.
type roleRights struct {
	oid                  uint32
	createRole, createDB bool
	member               bool // direct member of azure_pg_admin
}

func readRoleRights(t *testing.T, name string) roleRights {
	t.Helper()
	var r roleRights
	acctest.SuperQueryRow(t, "postgres", `SELECT r.oid, r.rolcreaterole, r.rolcreatedb,
		EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid AND m.roleid = 'azure_pg_admin'::regrole)
		FROM pg_roles r WHERE r.rolname = $1`, []any{name}, &r.oid, &r.createRole, &r.createDB, &r.member)
	return r
}

// checkRights checks the admin rights on the server and that the role is
// still the one with oid *oid (not replaced).
func checkRights(t *testing.T, name string, oid *uint32, admin bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := readRoleRights(t, name)
		want := roleRights{oid: *oid, createRole: admin, createDB: admin, member: admin}
		if got != want {
			return fmt.Errorf("role %q: got %+v, want %+v (a different oid means it was replaced)", name, got, want)
		}
		return nil
	}
}

// TestPrincipalAdminInPlace turns admin on, then off with mfa on: each an
// in-place update (relabel + azure_pg_admin + CREATEROLE/CREATEDB in one
// transaction). The role keeps its oid and a table it owns survives, which
// a replacement could not (DROP ROLE fails with 2BP01).
func TestPrincipalAdminInPlace(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "user", "acc in'place é")
	role := pgx.Identifier{o.Name}.Sanitize()
	table := pgx.Identifier{acctest.Name("owned_inplace")}.Sanitize()
	var oid uint32
	config := func(admin, mfa bool) string {
		return onePrincipal(o.Name, fmt.Sprintf("admin = %t\n  mfa = %t", admin, mfa))
	}
	update := resource.ConfigPlanChecks{
		PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.p", plancheck.ResourceActionUpdate)},
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
	tableOwned := func(*terraform.State) error {
		var owner string
		acctest.SuperQueryRow(t, "postgres", "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = $1",
			[]any{strings.Trim(table, `"`)}, &owner)
		if owner != o.Name {
			return fmt.Errorf("table %s is owned by %q, want %q", table, owner, o.Name)
		}
		return nil
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{
			{
				Config: config(false, false),
				Check: func(*terraform.State) error {
					acctest.SuperExec(t, "postgres", "CREATE TABLE public."+table+" (id int); ALTER TABLE public."+table+" OWNER TO "+role)
					oid = readRoleRights(t, o.Name).oid
					return nil
				},
			},
			{
				Config:           config(true, false),
				ConfigPlanChecks: update,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.p", tfjsonpath.New("admin"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_principal.p", tfjsonpath.New("mfa"), knownvalue.Bool(false)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkServerPrincipal(t, o.Name, "user", o.ObjectID, true, false),
					checkRights(t, o.Name, &oid, true),
					tableOwned,
				),
			},
			{
				Config:           config(false, true),
				ConfigPlanChecks: update,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.p", tfjsonpath.New("admin"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_principal.p", tfjsonpath.New("mfa"), knownvalue.Bool(true)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkServerPrincipal(t, o.Name, "user", o.ObjectID, false, true),
					checkRights(t, o.Name, &oid, false),
					tableOwned,
				),
			},
			{
				// The table goes before destroy drops the role.
				PreConfig: func() { acctest.SuperExec(t, "postgres", "DROP TABLE public."+table) },
				Config:    config(false, true),
			},
		},
	})
}

// TestAccPrincipalInPlaceKeepsComputed: an in-place change of admin and mfa
// plans type, object_id and tenant_id with the values in state, not as
// "(known after apply)": the same role keeps them. A principal created by
// name (type and object_id read from the tenant) and one created from an
// older server's single label (no tenant id: tenant_id stays ""). A new
// name still replaces the principal and reads the new role's facts.
func TestAccPrincipalInPlaceKeepsComputed(t *testing.T) {
	acctest.Emulator(t)
	byName := acctest.NewObject(t, "user", "acc known; in'place")
	other := acctest.NewObject(t, "group", "acc known; replaced")
	old := acctest.NewObject(t, "group", "acc known \"old label\"")
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{old.Name}.Sanitize()+" LOGIN")
	acctest.SuperExec(t, "postgres", fmt.Sprintf("SECURITY LABEL FOR pgaadauth ON ROLE %s IS 'aadauth,oid=%s,type=group'",
		pgx.Identifier{old.Name}.Sanitize(), old.ObjectID))
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{old.Name}.Sanitize()) })
	tenant := acctest.Emulator(t).TenantID()
	config := func(name string, admin, mfa bool) string {
		return principalConfig(
			fmt.Sprintf(`resource "azurepg_principal" "by_name" {
  name  = %q
  admin = %t
  mfa   = %t
}`, name, admin, mfa),
			fmt.Sprintf(`import {
  to = azurepg_principal.old
  id = %q
}
resource "azurepg_principal" "old" {
  name  = %q
  admin = %t
}`, old.Name, old.Name, admin))
	}
	known := func(addr, name, typ, objectID, tenantID string) []plancheck.PlanCheck {
		return []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
			plancheck.ExpectKnownValue(addr, tfjsonpath.New("type"), knownvalue.StringExact(typ)),
			plancheck.ExpectKnownValue(addr, tfjsonpath.New("object_id"), knownvalue.StringExact(objectID)),
			plancheck.ExpectKnownValue(addr, tfjsonpath.New("tenant_id"), knownvalue.StringExact(tenantID)),
			plancheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(name)),
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, byName.Name, other.Name, old.Name),
		Steps: []resource.TestStep{
			{Config: config(byName.Name, false, false)},
			{
				Config: config(byName.Name, true, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: append(known("azurepg_principal.by_name", byName.Name, "user", byName.ObjectID, tenant),
						known("azurepg_principal.old", old.Name, "group", old.ObjectID, "")...),
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.by_name", tfjsonpath.New("admin"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_principal.by_name", tfjsonpath.New("mfa"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_principal.old", tfjsonpath.New("admin"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_principal.old", tfjsonpath.New("tenant_id"), knownvalue.StringExact("")),
				},
			},
			{
				// Another name replaces the principal: the new role's type
				// and object id are planned unknown and read from it, not
				// kept from the old one.
				Config: config(other.Name, true, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("azurepg_principal.by_name", plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectUnknownValue("azurepg_principal.by_name", tfjsonpath.New("type")),
						plancheck.ExpectUnknownValue("azurepg_principal.by_name", tfjsonpath.New("object_id")),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.by_name", tfjsonpath.New("type"), knownvalue.StringExact("group")),
					statecheck.ExpectKnownValue("azurepg_principal.by_name", tfjsonpath.New("object_id"), knownvalue.StringExact(other.ObjectID)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkRolesGone(t, byName.Name),
				),
			},
		},
	})
}

// TestPrincipalAdminDrift: a hand GRANT azure_pg_admin to a non-admin, and a
// hand REVOKE from an admin, show in the next plan as an update, and apply
// puts label and rights back as configured.
func TestPrincipalAdminDrift(t *testing.T) {
	acctest.Emulator(t)
	plain := acctest.NewObject(t, "group", "acc drift; grant")
	admin := acctest.NewObject(t, "user", "acc drift revoke")
	var plainOID, adminOID uint32
	config := principalConfig(
		fmt.Sprintf(`resource "azurepg_principal" "plain" {
  name = %q
}`, plain.Name),
		fmt.Sprintf(`resource "azurepg_principal" "admin" {
  name  = %q
  admin = true
}`, admin.Name))
	update := func(addr string) plancheck.PlanCheck {
		return plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, plain.Name, admin.Name),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(*terraform.State) error {
					plainOID, adminOID = readRoleRights(t, plain.Name).oid, readRoleRights(t, admin.Name).oid
					return nil
				},
			},
			{
				PreConfig: func() {
					acctest.SuperExec(t, "postgres", "GRANT azure_pg_admin TO "+pgx.Identifier{plain.Name}.Sanitize())
					acctest.SuperExec(t, "postgres", "REVOKE azure_pg_admin FROM "+pgx.Identifier{admin.Name}.Sanitize())
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{update("azurepg_principal.plain"), update("azurepg_principal.admin")},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.plain", tfjsonpath.New("admin"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_principal.admin", tfjsonpath.New("admin"), knownvalue.Bool(true)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkServerPrincipal(t, plain.Name, "group", plain.ObjectID, false, false),
					checkServerPrincipal(t, admin.Name, "user", admin.ObjectID, true, false),
					checkRights(t, plain.Name, &plainOID, false),
					checkRights(t, admin.Name, &adminOID, true),
				),
			},
		},
	})
}

// flat is s with every run of white space made one space (Terraform wraps
// diagnostics at the terminal's width).
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestPrincipalMfaServiceWarning: mfa = true with type = "service" is a
// warning at validate (and so at plan) time, naming the attribute; mfa on a
// user is not.
func TestPrincipalMfaServiceWarning(t *testing.T) {
	acctest.Emulator(t)
	cfg := acctest.RequiredProviders + `
provider "azurepg" {}
resource "azurepg_principal" "mi" {
  name      = "acc-mfa-mi"
  type      = "service"
  object_id = "6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05"
  mfa       = true
}
resource "azurepg_principal" "user" {
  name = "acc-mfa@contoso.com"
  type = "user"
  mfa  = true
}
`
	w := acctest.NewWorkdir(t, cfg, nil)
	r := w.MustRun("validate", "-no-color")
	out := flat(r.Stdout + r.Stderr)
	if n := strings.Count(out, "Warning: mfa on a service principal or managed identity"); n != 1 {
		t.Fatalf("%d mfa warnings, want 1 (for azurepg_principal.mi only):\n%s", n, out)
	}
	for _, want := range []string{"with azurepg_principal.mi", "on main.tf line", "mfa = true",
		"only user tokens carry an mfa claim", `(type = "service") never do, so nobody could log in as this role`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "with azurepg_principal.user") {
		t.Errorf("a user with mfa got a warning:\n%s", out)
	}
}

// TestPrincipalLabelRightsDisagree: a role labelled admin without the rights,
// and one labelled non-admin with azure_pg_admin, are each reported by a
// warning naming the label and the rights, in the resource's plan and in
// the data sources; admin follows the rights.
func TestPrincipalLabelRightsDisagree(t *testing.T) {
	acctest.Emulator(t)
	labelled := acctest.NewObject(t, "user", `acc "label" admin`)
	granted := acctest.NewObject(t, "group", "acc granted; admin")
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, true, false)", labelled.Name)
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, false)", granted.Name)
	t.Cleanup(func() {
		for _, n := range []string{labelled.Name, granted.Name} {
			acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{n}.Sanitize())
		}
	})
	acctest.SuperExec(t, "postgres", "ALTER ROLE "+pgx.Identifier{labelled.Name}.Sanitize()+" NOCREATEDB")
	acctest.SuperExec(t, "postgres", "GRANT azure_pg_admin TO "+pgx.Identifier{granted.Name}.Sanitize())
	cfg := acctest.RequiredProviders + fmt.Sprintf(`
provider "azurepg" {}
data "azurepg_principal" "labelled" {
  name = %q
}
data "azurepg_principal" "granted" {
  name = %q
}
output "admins" {
  value = [data.azurepg_principal.labelled.admin, data.azurepg_principal.granted.admin]
}
`, labelled.Name, granted.Name)
	w := acctest.NewWorkdir(t, cfg, nil)
	// -json: the human output folds warnings with the same summary into one.
	r := w.MustRun("plan", "-input=false", "-json")
	var details []string
	for _, line := range strings.Split(r.Stdout, "\n") {
		var msg struct {
			Type       string `json:"type"`
			Diagnostic struct {
				Severity, Summary, Detail string
			} `json:"diagnostic"`
		}
		if json.Unmarshal([]byte(line), &msg) == nil && msg.Type == "diagnostic" &&
			msg.Diagnostic.Summary == "Principal's label and admin rights disagree" {
			details = append(details, msg.Diagnostic.Severity+": "+msg.Diagnostic.Detail)
		}
	}
	if len(details) != 2 {
		t.Fatalf("%d disagreement diagnostics, want 2: %q\n%s", len(details), details, r.Stdout)
	}
	all := strings.Join(details, "\n")
	for _, want := range []string{
		fmt.Sprintf("warning: Role %q: its pgaadauth label says admin, but it lacks CREATEDB (has: membership of azure_pg_admin, CREATEROLE), so it is not an admin. Its admin is read as false", labelled.Name),
		fmt.Sprintf("warning: Role %q: its pgaadauth label says not admin, but it has membership of azure_pg_admin (membership of azure_pg_admin makes it an admin). Its admin is read as true", granted.Name),
	} {
		if !strings.Contains(all, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, all)
		}
	}
	r = w.MustRun("plan", "-input=false", "-no-color")
	if out := flat(r.Stdout + r.Stderr); !strings.Contains(out, "+ admins = [ + false, + true, ]") {
		t.Errorf("the data sources' admin are not [false, true] (from the rights):\n%s", out)
	}
}

// TestPrincipalImportCaseSuggestion: importing a name that does not exist
// suggests the principals whose names differ only in case (hostile names:
// quotes, spaces, "@", non-ASCII), with an import command quoted for a shell.
func TestPrincipalImportCaseSuggestion(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "user", `O'Brien "Ops"; Zoë`)
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, false)", o.Name)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{o.Name}.Sanitize()) })
	wrong := strings.ToLower(o.Name)
	if wrong == o.Name {
		t.Fatalf("name %q has no upper case", o.Name)
	}
	missing := acctest.Name("acc nobody")
	config := onePrincipal(wrong, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config, ResourceName: "azurepg_principal.p", ImportState: true, ImportStateId: wrong,
				ExpectError: words("Role not found", fmt.Sprintf("reading principal %q", wrong),
					"differs only in case; did you mean:", fmt.Sprintf("%q:", o.Name),
					"terraform import 'azurepg_principal.<name>' 'O'\\''Brien"),
			},
			{
				// Nothing alike: the plain not-found error, no suggestion.
				Config: onePrincipal(missing, ""), ResourceName: "azurepg_principal.p", ImportState: true, ImportStateId: missing,
				ExpectError: words("Role not found", "The server has no role with exactly this name (names are case-sensitive)."),
			},
		},
	})
}

// TestPrincipalRelabelRefused: when the server refuses the relabel (here an
// Entra admin without CREATEROLE, which PostgreSQL requires to label a
// role), the error says so in the server's words, names
// terraform apply -replace as the way out, and nothing changes.
func TestPrincipalRelabelRefused(t *testing.T) {
	acctest.Emulator(t)
	weak := acctest.NewAdmin(t)
	acctest.SuperExec(t, "postgres", "ALTER ROLE "+pgx.Identifier{weak.Name}.Sanitize()+" NOCREATEROLE")
	o := acctest.NewObject(t, "user", "acc relabel refused")
	// PostgreSQL's own words: 15 in the message, 16+ in the detail.
	refusal := "must have CREATEROLE privilege (SQLSTATE 42501)"
	if pgMajor(t) >= 16 {
		refusal = "permission denied (SQLSTATE 42501)\nThe current user must have the CREATEROLE attribute."
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{
			{Config: onePrincipal(o.Name, "")},
			{
				Config: acctest.ProviderBlock(weak, "") + fmt.Sprintf(`resource "azurepg_principal" "p" {
  name = %q
  mfa  = true
}`, o.Name),
				ExpectError: words("Server refused to relabel the principal", fmt.Sprintf("changing principal %q", o.Name),
					refusal, "Nothing was changed.",
					"terraform apply -replace=<address>"),
			},
			{
				PreConfig: func() {
					if err := checkServerPrincipal(t, o.Name, "user", o.ObjectID, false, false)(nil); err != nil {
						t.Fatalf("after the refused relabel: %v", err)
					}
				},
				Config: onePrincipal(o.Name, ""),
			},
		},
	})
}
