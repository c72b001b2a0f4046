package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// TestAccPrincipalSnapshotSeesDriftBetweenSteps: the refresh snapshot
// (pgaad/snapshot.go) never hides drift made between two Terraform commands.
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

// TestAccGrantSnapshotSeesDriftBetweenSteps: the same for grants. Step 1
// imports two grants (reads only: from the snapshot of the schema's
// tables); between the steps another session revokes INSERT on one table;
// step 2's refresh must see it and plan an update of the grant on all
// tables, and nothing for the grant on the other table.
func TestAccGrantSnapshotSeesDriftBetweenSteps(t *testing.T) {
	acctest.Emulator(t)
	a := newAccessDB(t)
	t0, t1 := a.tables[0], a.tables[1]
	acctest.SuperExec(t, a.db, "SET ROLE "+qi(a.owner)+"; GRANT SELECT, INSERT ON "+qi(a.schema)+"."+qi(t0)+", "+
		qi(a.schema)+"."+qi(t1)+" TO "+qi(a.grantee))
	esc := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "%", "%25"), "/", "%2F") }
	// A provider setting of its own: a client (and snapshot) that other tests' writes do not touch.
	config := strings.Replace(a.config(`resource "azurepg_grant" "tables" {
  role        = local.grantee
  database    = local.db
  object_type = "table"
  schema      = local.schema
  privileges  = ["INSERT", "SELECT"]
}`, fmt.Sprintf(`resource "azurepg_grant" "one" {
  role        = local.grantee
  database    = local.db
  object_type = "table"
  schema      = local.schema
  objects     = [%s]
  privileges  = ["INSERT", "SELECT"]
}`, hclquote.String(t0))), `provider "azurepg" {}`, "provider \"azurepg\" {\n  max_connections = 8\n}", 1)
	id := esc(a.grantee) + "/" + esc(a.db) + "/table/" + esc(a.schema)
	imports := fmt.Sprintf("\nimport {\n  to = azurepg_grant.tables\n  id = %s\n}\nimport {\n  to = azurepg_grant.one\n  id = %s\n}\n",
		hclquote.String(id), hclquote.String(id+"/"+esc(t0)))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config + imports,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_grant.tables", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("azurepg_grant.one", plancheck.ResourceActionNoop),
				}},
			},
			{
				PreConfig: func() {
					acctest.SuperExec(t, a.db, "REVOKE INSERT ON "+qi(a.schema)+"."+qi(t1)+" FROM "+qi(a.grantee))
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_grant.tables", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("azurepg_grant.one", plancheck.ResourceActionNoop),
				}},
				Check: checkPrivs("the table repaired", func() []string { return tablePrivs(t, a, t1, a.grantee) }, "INSERT", "SELECT"),
			},
		},
	})
}
