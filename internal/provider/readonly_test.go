package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// TestAccReadOnlyServer: against a read-only server (as Azure makes one
// whose storage is 95% full) plan and refresh work; an apply that creates
// one principal and changes another fails with SQLSTATE 25006 and the
// provider's words for it, leaving the server and the state as they were
// (the next plan still creates and updates the same); once the server is
// writable again, the same configuration converges.
//
// Not parallel: it makes the test binary's shared server read-only.
func TestAccReadOnlyServer(t *testing.T) {
	e := acctest.Emulator(t)
	mi := acctest.NewObject(t, "managed_identity", "acc-ro-mi")
	user := acctest.NewObject(t, "user", "acc-ro-user")
	existing := acctest.LongName(`acc ro "exists" @ é; 'x' `, 63)
	added := acctest.LongName(`acc ro "added" @ ü; 'y' `, 63)
	config := func(withChange bool) string {
		c := fmt.Sprintf(`resource "azurepg_principal" "existing" {
  name      = %q
  type      = "user"
  object_id = %q
  mfa       = %t
}
data "azurepg_principals" "all" {
  depends_on = [azurepg_principal.existing]
}`, existing, user.ObjectID, withChange)
		if withChange {
			c += fmt.Sprintf(`
resource "azurepg_principal" "added" {
  name      = %q
  type      = "service"
  object_id = %q
}`, added, mi.ObjectID)
		}
		return principalConfig(c)
	}
	mfa := func(want bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			var got int
			acctest.SuperQueryRow(t, "postgres", "SELECT ismfa FROM pgaadauth_list_principals(false) WHERE rolname = $1", []any{existing}, &got)
			if (got == 1) != want {
				return fmt.Errorf("role %q: ismfa = %d on the server, want %t", existing, got, want)
			}
			return nil
		}
	}
	exists := func(want bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if got := acctest.RoleExists(t, added); got != want {
				return fmt.Errorf("role %q exists: %t, want %t", added, got, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, existing, added),
		Steps: []resource.TestStep{
			{
				Config: config(false),
				Check:  resource.ComposeTestCheckFunc(mfa(false), exists(false)),
			},
			{
				// Read-only: refresh and plan work (an empty plan).
				PreConfig: func() { acctest.SetReadOnly(t, e, true) },
				Config:    config(false),
				PlanOnly:  true,
			},
			{
				Config: config(true),
				ExpectError: words("Server is read-only",
					"cannot execute", "in a read-only transaction (SQLSTATE 25006)",
					"The server is read-only: it refused the change (SQLSTATE 25006), and nothing was changed.",
					"Azure switches a flexible server to read-only when 95% of its storage is used or less than 5 GiB are free",
					"the provider's host is a read replica",
					"storage_mb of azurerm_postgresql_flexible_server", "auto_grow_enabled = true",
					"Then run terraform apply again: the provider does not wait for a read-only server",
					"Plans and refreshes still work meanwhile."),
			},
			{
				// Nothing happened on the server; the state still says so
				// (the plan creates and updates the same as before).
				PreConfig: func() {
					if err := resource.ComposeTestCheckFunc(mfa(false), exists(false))(nil); err != nil {
						t.Fatalf("after the failed apply on a read-only server: %v", err)
					}
					acctest.SetReadOnly(t, e, false)
				},
				Config: config(true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("azurepg_principal.existing", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("azurepg_principal.added", plancheck.ResourceActionCreate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.existing", tfjsonpath.New("mfa"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_principal.added", tfjsonpath.New("object_id"), knownvalue.StringExact(mi.ObjectID)),
				},
				Check: resource.ComposeTestCheckFunc(mfa(true), exists(true)),
			},
		},
	})
}
