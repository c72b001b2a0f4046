package provider_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// TestAccPrincipalSnapshotSeesDriftBetweenSteps: the refresh snapshot
// (pgaad, issue 18) never hides drift made between two Terraform commands.
// The provider runs in this process and serves every step (as with
// terraform -debug): step 1 only reads (an import, then the refresh plan
// of the test framework), so its reads come from a snapshot; between the
// steps another session drops the role; step 2's refresh must see it gone
// and plan to create it again. Without the snapshot being dropped when the
// provider is configured for a new walk, step 2 would read the role from
// step 1's snapshot and plan nothing.
func TestAccPrincipalSnapshotSeesDriftBetweenSteps(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "user", `snap drift "q"; é`)
	ctx := context.Background()
	if _, err := acctest.AdminConn(t, "postgres").Exec(ctx, "SELECT pgaadauth_create_principal($1, false, false)", o.Name); err != nil {
		t.Fatal(err)
	}
	// A provider setting of its own: a client (and snapshot) that other tests' writes do not touch.
	config := fmt.Sprintf(`provider "azurepg" {
  max_connections = 6
}

resource "azurepg_principal" "p" {
  name = %q
}
`, o.Name)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{
			{
				Config: config + fmt.Sprintf("\nimport {\n  to = azurepg_principal.p\n  id = %q\n}\n", o.Name),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.p", plancheck.ResourceActionNoop)},
				},
			},
			{
				PreConfig: func() {
					if _, err := acctest.AdminConn(t, "postgres").Exec(ctx, "DROP ROLE "+pgx.Identifier{o.Name}.Sanitize()); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.p", plancheck.ResourceActionCreate)},
				},
				Check: func(*terraform.State) error {
					if !acctest.RoleExists(t, o.Name) {
						return fmt.Errorf("role %q was not created again", o.Name)
					}
					return nil
				},
			},
		},
	})
}
