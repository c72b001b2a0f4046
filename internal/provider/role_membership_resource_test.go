package provider_test

import (
	"fmt"
	"os"
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

// membershipTestRole creates a plain role as the superuser (as an
// application role would be) and drops it after the test.
func membershipTestRole(t *testing.T, name string) string {
	t.Helper()
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize()) })
	return name
}

// serverMembership is what pg_auth_members says, as the superuser: the
// number of grants of role to member and whether any has the admin option.
func serverMembership(t *testing.T, role, member string) (grants int, admin bool) {
	t.Helper()
	acctest.SuperQueryRow(t, "postgres", `SELECT count(*), coalesce(bool_or(admin_option), false) FROM pg_auth_members
		WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND member = (SELECT oid FROM pg_roles WHERE rolname = $2)`,
		[]any{role, member}, &grants, &admin)
	return grants, admin
}

func checkServerMembership(t *testing.T, role, member string, want bool, wantAdmin bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		n, admin := serverMembership(t, role, member)
		if (n > 0) != want || (want && admin != wantAdmin) {
			return fmt.Errorf("server: %q granted to %q %d times, admin option %v; want granted %v, admin option %v",
				role, member, n, admin, want, wantAdmin)
		}
		return nil
	}
}

func roleMembershipConfig(role, member string, lines ...string) string {
	s := fmt.Sprintf("provider \"azurepg\" {}\n\nresource \"azurepg_role_membership\" \"m\" {\n  role   = %q\n  member = %q\n", role, member)
	for _, l := range lines {
		s += "  " + l + "\n"
	}
	return s + "}\n"
}

// escapeID is the import ID encoding, written out independently of the
// provider's code: only % and / are escaped.
func escapeID(fields ...string) string {
	r := strings.NewReplacer("%", "%25", "/", "%2F")
	for i, f := range fields {
		fields[i] = r.Replace(f)
	}
	return strings.Join(fields, "/")
}

// TestAccRoleMembership: 63-byte, non-ASCII, quoted names with "/", "%"
// and "@" for both roles; create, empty second plan, import, admin option
// changed in place, drift after a hand REVOKE (of the admin option: update;
// of the membership: create), a new member replaces, destroy revokes.
func TestAccRoleMembership(t *testing.T) {
	acctest.Emulator(t)
	role := membershipTestRole(t, acctest.LongName(`app/"readers"; 50% ö`, 63))
	member := membershipTestRole(t, acctest.LongName(`Zoë's team @ contoso`, 63))
	other := membershipTestRole(t, acctest.LongName(`DBA Team 數據`, 63))
	const addr = "azurepg_role_membership.m"
	id := escapeID(role, member)
	if strings.Count(id, "/") != 1 || !strings.Contains(id, "%2F") || !strings.Contains(id, "%25") {
		t.Fatalf("test id %q does not exercise the escapes", id)
	}
	noAdmin := roleMembershipConfig(role, member)
	withAdmin := roleMembershipConfig(role, member, "with_admin_option = true")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkServerMembership(t, role, member, false, false),
			checkServerMembership(t, role, other, false, false),
		),
		Steps: []resource.TestStep{
			{
				Config: noAdmin,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("role"), knownvalue.StringExact(role)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("member"), knownvalue.StringExact(member)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("with_admin_option"), knownvalue.Bool(false)),
				},
				Check: checkServerMembership(t, role, member, true, false),
			},
			{
				// Read back: nothing to do.
				Config: noAdmin,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     id,
				ImportStateVerify: true,
			},
			{
				Config: withAdmin,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("with_admin_option"), knownvalue.Bool(true)),
				},
				Check: checkServerMembership(t, role, member, true, true),
			},
			{
				// The admin option taken away by hand: set back in place.
				PreConfig: func() {
					acctest.SuperExec(t, "postgres", "REVOKE ADMIN OPTION FOR "+pgx.Identifier{role}.Sanitize()+
						" FROM "+pgx.Identifier{member}.Sanitize())
				},
				Config: withAdmin,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("with_admin_option"), knownvalue.Bool(true)),
					},
				},
				Check: checkServerMembership(t, role, member, true, true),
			},
			{
				// The membership revoked by hand: granted again.
				PreConfig: func() {
					acctest.SuperExec(t, "postgres", "REVOKE "+pgx.Identifier{role}.Sanitize()+" FROM "+pgx.Identifier{member}.Sanitize())
				},
				Config: withAdmin,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				Check: checkServerMembership(t, role, member, true, true),
			},
			{
				// Turned off again in place.
				Config: noAdmin,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: checkServerMembership(t, role, member, true, false),
			},
			{
				// Another member: the old membership is revoked, the new one granted.
				Config: roleMembershipConfig(role, other),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(escapeID(role, other))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkServerMembership(t, role, member, false, false),
					checkServerMembership(t, role, other, true, false),
				),
			},
		},
	})
}

// TestAccRoleMembershipEntraGroup: the typical use, an Entra group
// principal made a member of an application role in the same apply.
func TestAccRoleMembershipEntraGroup(t *testing.T) {
	acctest.Emulator(t)
	group := acctest.NewObject(t, "group", `Orders "Readers" @ ñ;`)
	appRole := membershipTestRole(t, acctest.Name("orders_readers"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(checkRolesGone(t, group.Name)),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "azurepg" {}

resource "azurepg_principal" "readers" {
  name = %q
}
resource "azurepg_role_membership" "readers" {
  role   = %q
  member = azurepg_principal.readers.name
}
`, group.Name, appRole),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("azurepg_role_membership.readers", tfjsonpath.New("member"), knownvalue.StringExact(group.Name)),
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				checkServerMembership(t, appRole, group.Name, true, false),
			),
		}},
	})
}

// TestAccRoleMembershipErrors: plan-time refusals (PUBLIC, a role in
// itself), a missing role, a membership that exists already, bad import
// IDs, and a login that may not grant: each error names the object and
// what to do, and nothing is changed.
func TestAccRoleMembershipErrors(t *testing.T) {
	acctest.Emulator(t)
	role := membershipTestRole(t, acctest.Name(`err "role"`))
	member := membershipTestRole(t, acctest.Name(`err mémber;`))
	missing := acctest.Name(`no "such" role`)
	acctest.SuperExec(t, "postgres", "GRANT "+pgx.Identifier{role}.Sanitize()+" TO "+pgx.Identifier{member}.Sanitize())

	// A managed identity that is an Entra principal but not an admin: no
	// CREATEROLE, no admin option on the role.
	mi := acctest.NewObject(t, "managed_identity", `plain "mi"`)
	acctest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", mi.Name, mi.ObjectID)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{mi.Name}.Sanitize()) })
	other := membershipTestRole(t, acctest.Name("other"))

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      roleMembershipConfig("public", member),
				PlanOnly:    true,
				ExpectError: words("PUBLIC cannot be in a role membership", "stands for every role", "azurepg_grant"),
			},
			{
				Config:      roleMembershipConfig(role, "public"),
				PlanOnly:    true,
				ExpectError: words("PUBLIC cannot be in a role membership"),
			},
			{
				Config:      roleMembershipConfig(role, role),
				PlanOnly:    true,
				ExpectError: words("A role cannot be a member of itself", fmt.Sprintf("%q", role)),
			},
			{
				Config: roleMembershipConfig(missing, member),
				ExpectError: words("Role membership not found", fmt.Sprintf("role %q does not exist", missing), fmt.Sprintf("The server has no role %q", missing),
					"Create it first", "azurepg_principal"),
			},
			{
				Config: roleMembershipConfig(role, member),
				ExpectError: words("Role membership already exists", "already granted", "Terraform did not change or drop the existing role membership",
					"terraform import 'azurepg_role_membership.<name>'", "import {"),
			},
			{
				Config: roleMembershipConfig(role, member),
				// The right ID shape but a missing membership.
				ResourceName:  "azurepg_role_membership.m",
				ImportState:   true,
				ImportStateId: escapeID(role, other),
				ExpectError:   words("Role membership not found", "the role is not granted to the member", "Either a role does not exist"),
			},
			{
				Config:        roleMembershipConfig(role, member),
				ResourceName:  "azurepg_role_membership.m",
				ImportState:   true,
				ImportStateId: role + "/" + member + "/x",
				ExpectError:   words("Invalid import ID", "is not <role>/<member>", "3 field(s)", "%2F"),
			},
			{
				Config: acctest.ProviderBlock(mi, "") + strings.Replace(roleMembershipConfig(role, other), "provider \"azurepg\" {}\n", "", 1),
				ExpectError: regexp.MustCompile(`(?s)Not allowed to manage role memberships.*ADMIN\s+OPTION.*` +
					regexp.QuoteMeta(`GRANT `+pgx.Identifier{role}.Sanitize()) + `\s+TO\s+` +
					regexp.QuoteMeta(pgx.Identifier{mi.Name}.Sanitize()) + `\s+WITH\s+ADMIN\s+OPTION`),
			},
		},
	})
	for _, m := range []string{other, mi.Name} {
		if n, _ := serverMembership(t, role, m); n != 0 {
			t.Errorf("%q was granted to %q", role, m)
		}
	}
	if n, admin := serverMembership(t, role, member); n != 1 || admin {
		t.Errorf("the existing membership changed: %d grants, admin %v", n, admin)
	}
}

// TestAccIdentityRoleMembership (Terraform 1.12+): the identity is the host,
// the role and the member, exactly (nothing escaped), and an import block
// with `identity = {...}` adopts the membership.
func TestAccIdentityRoleMembership(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureIdentity)
	role := membershipTestRole(t, acctest.LongName(`id/"role"; 100%`, 63))
	member := membershipTestRole(t, acctest.Name(`Zoë @ id`))
	cfg := roleMembershipConfig(role, member, "with_admin_option = true")
	const addr = "azurepg_role_membership.m"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkServerMembership(t, role, member, false, false),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(addr, map[string]knownvalue.Check{
						"host": knownvalue.StringExact(os.Getenv("AZUREPG_HOST")), "port": knownvalue.Null(),
						"role": knownvalue.StringExact(role), "member": knownvalue.StringExact(member),
					}),
				},
			},
			{Config: cfg, ResourceName: addr, ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
		},
	})
}
