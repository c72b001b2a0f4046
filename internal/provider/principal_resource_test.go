package provider_test

import (
	"fmt"
	"regexp"
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

// serverPrincipal is what the server says about a role, read as superuser
// straight from the labels and role membership (not through the provider).
type serverPrincipal struct {
	label, labelInt string
	inAdminRole     bool
}

func readServerPrincipal(t *testing.T, name string) serverPrincipal {
	t.Helper()
	var sp serverPrincipal
	acctest.SuperQueryRow(t, "postgres", `
		SELECT coalesce((SELECT label FROM pg_shseclabel s WHERE s.objoid = r.oid AND s.provider = 'pgaadauth'), ''),
		       coalesce((SELECT label FROM pg_shseclabel s WHERE s.objoid = r.oid AND s.provider = 'pgaadauth-int'), ''),
		       pg_has_role(r.oid, 'azure_pg_admin', 'MEMBER')
		  FROM pg_roles r WHERE r.rolname = $1`, []any{name}, &sp.label, &sp.labelInt, &sp.inAdminRole)
	return sp
}

// checkServerPrincipal checks the role's labels as Azure would have written them.
func checkServerPrincipal(t *testing.T, name, typ, objectID string, admin, mfa bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := readServerPrincipal(t, name)
		e := acctest.Emulator(t)
		want := serverPrincipal{label: "aadauth", labelInt: fmt.Sprintf("type=%s,oid=%s,tenant_id=%s", typ, objectID, e.TenantID()), inAdminRole: admin}
		if admin {
			want.label += ",admin"
			want.labelInt += ",admin"
		}
		if mfa {
			want.label += ",mfa"
		}
		if got != want {
			return fmt.Errorf("role %q on the server: got %+v, want %+v", name, got, want)
		}
		return nil
	}
}

func checkRolesGone(t *testing.T, names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range names {
			if acctest.RoleExists(t, n) {
				return fmt.Errorf("role %q still exists", n)
			}
		}
		return nil
	}
}

func principalConfig(blocks ...string) string {
	return "provider \"azurepg\" {}\n" + strings.Join(blocks, "\n")
}

// TestPrincipalResourceKinds creates each kind of principal, by name and by
// object id, with admin and mfa, reads them back (the test framework checks
// that the second plan is empty), then changes admin and mfa: in place.
func TestPrincipalResourceKinds(t *testing.T) {
	acctest.Emulator(t)
	user := acctest.NewObject(t, "user", "acc-user")
	group := acctest.NewObject(t, "group", "acc group")
	mi := acctest.NewObject(t, "managed_identity", "acc-mi")
	sp := acctest.NewObject(t, "service_principal", "acc-sp")
	spRole := acctest.Name("acc sp by oid")
	tenant := acctest.Emulator(t).TenantID()

	config := func(userMFA, groupAdmin bool) string {
		return principalConfig(
			fmt.Sprintf(`resource "azurepg_principal" "user" {
  name = %q
  mfa  = %t
}`, user.Name, userMFA),
			fmt.Sprintf(`resource "azurepg_principal" "group" {
  name  = %q
  admin = %t
}`, group.Name, groupAdmin),
			fmt.Sprintf(`resource "azurepg_principal" "mi" {
  name = %q
}`, mi.Name),
			// Upper case on purpose: the plan must stay empty although the server writes lower case.
			fmt.Sprintf(`resource "azurepg_principal" "sp" {
  name      = %q
  type      = "service"
  object_id = %q
  admin     = true
  mfa       = true
}`, spRole, strings.ToUpper(sp.ObjectID)))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, user.Name, group.Name, mi.Name, spRole),
		Steps: []resource.TestStep{
			{
				Config: config(true, true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("id"), knownvalue.StringExact(user.Name)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("type"), knownvalue.StringExact("user")),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("object_id"), knownvalue.StringExact(user.ObjectID)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("tenant_id"), knownvalue.StringExact(tenant)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("admin"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("mfa"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("type"), knownvalue.StringExact("group")),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("object_id"), knownvalue.StringExact(group.ObjectID)),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("admin"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("mfa"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_principal.mi", tfjsonpath.New("type"), knownvalue.StringExact("service")),
					statecheck.ExpectKnownValue("azurepg_principal.mi", tfjsonpath.New("object_id"), knownvalue.StringExact(mi.ObjectID)),
					statecheck.ExpectKnownValue("azurepg_principal.sp", tfjsonpath.New("name"), knownvalue.StringExact(spRole)),
					statecheck.ExpectKnownValue("azurepg_principal.sp", tfjsonpath.New("type"), knownvalue.StringExact("service")),
					statecheck.ExpectKnownValue("azurepg_principal.sp", tfjsonpath.New("object_id"), knownvalue.StringExact(strings.ToUpper(sp.ObjectID))),
					statecheck.ExpectKnownValue("azurepg_principal.sp", tfjsonpath.New("tenant_id"), knownvalue.StringExact(tenant)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkServerPrincipal(t, user.Name, "user", user.ObjectID, false, true),
					checkServerPrincipal(t, group.Name, "group", group.ObjectID, true, false),
					checkServerPrincipal(t, mi.Name, "service", mi.ObjectID, false, false),
					checkServerPrincipal(t, spRole, "service", sp.ObjectID, true, true),
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				// admin and mfa change in place (relabel and rights), never a replacement.
				Config: config(false, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("azurepg_principal.user", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("azurepg_principal.group", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("azurepg_principal.mi", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("azurepg_principal.sp", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("mfa"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("object_id"), knownvalue.StringExact(user.ObjectID)),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("admin"), knownvalue.Bool(false)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkServerPrincipal(t, user.Name, "user", user.ObjectID, false, false),
					checkServerPrincipal(t, group.Name, "group", group.ObjectID, false, false),
				),
			},
		},
	})
}

// TestPrincipalResourceImport imports names with "@", spaces, quotes and
// non-ASCII letters, with `terraform import` and with import blocks.
func TestPrincipalResourceImport(t *testing.T) {
	acctest.Emulator(t)
	user := acctest.NewObject(t, "user", "o'neil.josé")           // quote, "@", non-ASCII
	group := acctest.NewObject(t, "group", `Team "Ops" @ Zürich`) // spaces, double quotes
	config := principalConfig(
		fmt.Sprintf(`resource "azurepg_principal" "user" {
  name = %q
  mfa  = true
}`, user.Name),
		fmt.Sprintf(`resource "azurepg_principal" "group" {
  name  = %q
  admin = true
}`, group.Name))
	steps := []resource.TestStep{{Config: config}}
	for _, addr := range []string{"azurepg_principal.user", "azurepg_principal.group"} {
		id := map[string]string{"azurepg_principal.user": user.Name, "azurepg_principal.group": group.Name}[addr]
		steps = append(steps,
			resource.TestStep{Config: config, ResourceName: addr, ImportState: true, ImportStateId: id, ImportStateVerify: true},
			resource.TestStep{Config: config, ResourceName: addr, ImportState: true, ImportStateId: id, ImportStateKind: resource.ImportBlockWithID},
		)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, user.Name, group.Name),
		Steps:                    steps,
	})
}

// TestPrincipalResourceAdopt adopts a role created outside Terraform with an
// import block, and refuses to import a role that is not an Entra principal.
func TestPrincipalResourceAdopt(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "group", "acc adopt")
	plain := acctest.Name("acc plain role")
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, true)", o.Name)
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{plain}.Sanitize())
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{plain}.Sanitize()) })

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{
			{
				Config: principalConfig(fmt.Sprintf(`
import {
  to = azurepg_principal.adopted
  id = %q
}
resource "azurepg_principal" "adopted" {
  name = %q
  mfa  = true
}`, o.Name, o.Name)),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.adopted", plancheck.ResourceActionNoop)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.adopted", tfjsonpath.New("type"), knownvalue.StringExact("group")),
					statecheck.ExpectKnownValue("azurepg_principal.adopted", tfjsonpath.New("object_id"), knownvalue.StringExact(o.ObjectID)),
					statecheck.ExpectKnownValue("azurepg_principal.adopted", tfjsonpath.New("mfa"), knownvalue.Bool(true)),
				},
			},
			{
				Config: principalConfig(fmt.Sprintf(`
resource "azurepg_principal" "adopted" {
  name = %q
  mfa  = true
}
resource "azurepg_principal" "plain" {
  name = %q
}`, o.Name, plain)),
				ResourceName:  "azurepg_principal.plain",
				ImportState:   true,
				ImportStateId: plain,
				ExpectError:   regexp.MustCompile(`(?s)Role is not a Microsoft Entra principal.*` + regexp.QuoteMeta(plain)),
			},
			{
				Config: principalConfig(fmt.Sprintf(`
resource "azurepg_principal" "adopted" {
  name = %q
  mfa  = true
}
resource "azurepg_principal" "missing" {
  name = "no such role"
}`, o.Name)),
				ResourceName:  "azurepg_principal.missing",
				ImportState:   true,
				ImportStateId: "no such role",
				ExpectError:   regexp.MustCompile(`Role not found`),
			},
		},
	})
}

// TestPrincipalResourceDrift: a role dropped out of band is planned for
// creation again, and the apply brings it back.
func TestPrincipalResourceDrift(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "user", "acc-drift")
	config := principalConfig(fmt.Sprintf(`resource "azurepg_principal" "p" {
  name = %q
}`, o.Name))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() { acctest.SuperExec(t, "postgres", "DROP ROLE "+pgx.Identifier{o.Name}.Sanitize()) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.p", plancheck.ResourceActionCreate)},
				},
				Check: checkServerPrincipal(t, o.Name, "user", o.ObjectID, false, false),
			},
		},
	})
}
