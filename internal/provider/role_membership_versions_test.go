package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// pgMajor is the emulator's PostgreSQL major version.
func pgMajor(t *testing.T) int { return acctest.Emulator(t).PGMajor() }

// membershipRights is what the server says the member may do with the role:
// use its privileges (INHERIT) and SET ROLE to it.
func membershipRights(t *testing.T, member, role string) (inherit, set bool) {
	t.Helper()
	mode := "MEMBER" // 15: every membership allows SET ROLE
	if pgMajor(t) >= 16 {
		mode = "SET"
	}
	acctest.SuperQueryRow(t, "postgres", "SELECT pg_has_role($1, $2, 'USAGE'), pg_has_role($1, $2, $3)",
		[]any{member, role, mode}, &inherit, &set)
	return inherit, set
}

func checkMembershipRights(t *testing.T, member, role string, inherit, set bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		gotInherit, gotSet := membershipRights(t, member, role)
		if gotInherit != inherit || gotSet != set {
			return fmt.Errorf("server: %q inherits %q: %v, may SET ROLE to it: %v; want %v, %v",
				member, role, gotInherit, gotSet, inherit, set)
		}
		return nil
	}
}

// TestAccRoleMembershipAdminItself: the login makes itself a member of a
// role it created, as acting as an owner needs. On PostgreSQL 16+ the
// creator already holds an implicit grant (ADMIN, neither INHERIT nor
// SET): it is not read as the membership, the grant is made with the SET
// option and without INHERIT, INHERIT is then changed in place, import
// reads the same, and destroy revokes the login's grant and leaves the
// implicit one. On 15 the same without options.
func TestAccRoleMembershipAdminItself(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.Emulator(t).AdminName()
	owner := acctest.LongName(`app owner "o"; ü@/`, 63)
	if _, err := acctest.AdminConn(t, "postgres").Exec(context.Background(), "CREATE ROLE "+qi(owner)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+qi(owner)) })
	pg16 := pgMajor(t) >= 16
	var selfGrant string
	if pg16 {
		acctest.SuperQueryRow(t, "postgres", "SHOW createrole_self_grant", nil, &selfGrant)
	}
	if selfGrant != "" {
		t.Skipf("createrole_self_grant = %q: the creator is a member already (internal/pgaad TestMembershipOfCreator covers it)", selfGrant)
	}
	implicit := 0
	if pg16 {
		implicit = 1 // the creator's grant
	}
	if n, _ := serverMembership(t, owner, admin); n != implicit {
		t.Fatalf("before: %d grants of the owner to the admin, want %d", n, implicit)
	}
	const addr = "azurepg_role_membership.m"
	first, second := roleMembershipConfig(owner, admin), roleMembershipConfig(owner, admin)
	wantInherit := true // 15: the admin's INHERIT attribute
	if pg16 {
		first = roleMembershipConfig(owner, admin, "set_option = true", "inherit_option = false")
		second = roleMembershipConfig(owner, admin, "set_option = true", "inherit_option = true")
		wantInherit = false
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n, _ := serverMembership(t, owner, admin); n != implicit {
				return fmt.Errorf("after destroy: %d grants of the owner to the admin, want %d (the creator's)", n, implicit)
			}
			return checkMembershipRights(t, admin, owner, false, false)(nil)
		},
		Steps: []resource.TestStep{
			{
				Config: first,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("with_admin_option"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("set_option"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("inherit_option"), knownvalue.Bool(wantInherit)),
				},
				Check: checkMembershipRights(t, admin, owner, wantInherit, true),
			},
			{Config: first, PlanOnly: true},
			{ResourceName: addr, ImportState: true, ImportStateId: escapeID(owner, admin), ImportStateVerify: true},
			{
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				SkipFunc: func() (bool, error) { return !pg16, nil },
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("inherit_option"), knownvalue.Bool(true)),
				},
				Check: checkMembershipRights(t, admin, owner, true, true),
			},
		},
	})
}

// TestAccRoleMembershipOptionsByVersion: on PostgreSQL 15 inherit_option
// and set_option fail at plan time and nothing is granted; on 16+ a
// membership without SET (INHERIT only) is granted as asked, and a hand
// change of the option is drift that the next apply puts back in place.
func TestAccRoleMembershipOptionsByVersion(t *testing.T) {
	acctest.Emulator(t)
	role := membershipTestRole(t, acctest.LongName(`readers "r"; ö`, 63))
	member := membershipTestRole(t, acctest.LongName(`Zoë @ app`, 63))
	const addr = "azurepg_role_membership.m"
	config := roleMembershipConfig(role, member, "set_option = false", "inherit_option = true")
	if pgMajor(t) < 16 {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.ProviderFactories,
			Steps: []resource.TestStep{{
				Config:      config,
				ExpectError: regexp.MustCompile(`Membership options need PostgreSQL 16`),
			}},
		})
		if n, _ := serverMembership(t, role, member); n != 0 {
			t.Fatalf("%d grants after a refused plan", n)
		}
		return
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check:  checkMembershipRights(t, member, role, true, false),
			},
			{
				PreConfig: func() {
					// The same grantor's grant (the bootstrap superuser: the
					// emulator's GUESS for a grant under the enhancement),
					// so the option changes rather than a second grant.
					acctest.SuperExec(t, "postgres", fmt.Sprintf("GRANT %s TO %s WITH SET TRUE", qi(role), qi(member)))
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: checkMembershipRights(t, member, role, true, false),
			},
		},
	})
}

// TestAccRoleMembershipRestricted: on every version Azure refuses a member
// for azure_pg_admin and any grant of pg_write_all_data. The plan succeeds
// (nothing at plan time can know), the apply fails saying why, proposes no
// GRANT (none can work), and nothing is granted.
func TestAccRoleMembershipRestricted(t *testing.T) {
	acctest.Emulator(t)
	role := membershipTestRole(t, acctest.LongName(`restricted "r"; ö@`, 63))
	for _, tc := range []struct{ role, member, says string }{
		{role, "azure_pg_admin", "Azure restricts azure_pg_admin"},
		{"pg_write_all_data", role, "Azure never grants pg_write_all_data"},
	} {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.ProviderFactories,
			Steps: []resource.TestStep{{
				Config:      roleMembershipConfig(tc.role, tc.member),
				ExpectError: words("Not allowed", tc.says, "Nothing was changed."),
			}},
		})
		if n, _ := serverMembership(t, tc.role, tc.member); n != 0 {
			t.Fatalf("%d grants of %q to %q after the refused apply", n, tc.role, tc.member)
		}
	}
}
