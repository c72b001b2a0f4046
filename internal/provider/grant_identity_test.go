package provider_test

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// TestAccGrantIdentity (Terraform 1.12+): azurepg_grant and
// azurepg_default_privileges carry the host and their import ID as
// identity, and import from an import block's identity.
func TestAccGrantIdentity(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureIdentity)
	host := os.Getenv("AZUREPG_HOST")
	a := newAccessDB(t)
	esc := func(s string) string { return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s) }
	cfg := a.config(`resource "azurepg_grant" "g" {
  role        = local.grantee
  database    = local.db
  object_type = "table"
  schema      = local.schema
  objects     = [` + hclquote.String(a.tables[1]) + `, ` + hclquote.String(a.tables[0]) + `]
  privileges  = ["SELECT"]
}

resource "azurepg_default_privileges" "d" {
  role        = local.grantee
  database    = local.db
  owner       = local.owner
  object_type = "sequence"
  privileges  = ["USAGE"]
}`)
	objs := []string{esc(a.tables[0]), esc(a.tables[1])}
	if objs[1] < objs[0] {
		objs[0], objs[1] = objs[1], objs[0]
	}
	grantID := strings.Join(append([]string{esc(a.grantee), esc(a.db), "table", esc(a.schema)}, objs...), "/")
	dpID := strings.Join([]string{esc(a.grantee), esc(a.db), esc(a.owner), "sequence"}, "/")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("azurepg_grant.g", map[string]knownvalue.Check{
						"host": knownvalue.StringExact(host), "port": knownvalue.Null(), "id": knownvalue.StringExact(grantID),
					}),
					statecheck.ExpectIdentity("azurepg_default_privileges.d", map[string]knownvalue.Check{
						"host": knownvalue.StringExact(host), "port": knownvalue.Null(), "id": knownvalue.StringExact(dpID),
					}),
				},
			},
			{Config: cfg, ResourceName: "azurepg_grant.g", ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
			{Config: cfg, ResourceName: "azurepg_default_privileges.d", ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
		},
	})
}
