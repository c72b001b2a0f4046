package provider_test

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// TestAccGrantMaintain: the MAINTAIN privilege on a table (PostgreSQL 17+)
// is granted and read back, with an empty second plan; on an older server
// it fails at plan time, naming the version, and nothing is granted. The
// same for default privileges.
func TestAccGrantMaintain(t *testing.T) {
	a := newAccessDB(t)
	table := a.tables[0]
	grant := a.config(`resource "azurepg_grant" "t" {
  role        = local.grantee
  database    = local.db
  object_type = "table"
  schema      = local.schema
  objects     = [` + hclquote.String(table) + `]
  privileges  = ["MAINTAIN", "SELECT"]
}`)
	defaults := a.config(`resource "azurepg_default_privileges" "d" {
  role        = local.grantee
  database    = local.db
  owner       = local.owner
  schema      = local.schema
  object_type = "table"
  privileges  = ["MAINTAIN"]
}`)
	if pgMajor(t) < 17 {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.ProviderFactories,
			Steps: []resource.TestStep{
				{Config: grant, ExpectError: regexp.MustCompile(`MAINTAIN needs PostgreSQL 17`)},
				{Config: defaults, ExpectError: regexp.MustCompile(`MAINTAIN needs PostgreSQL 17`)},
			},
		})
		if got := tablePrivs(t, a, table, a.grantee); len(got) != 0 {
			t.Fatalf("the server has %v after refused plans", got)
		}
		return
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: grant,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_grant.t", tfjsonpath.New("privileges"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("MAINTAIN"), knownvalue.StringExact("SELECT")})),
				},
				Check: checkPrivs("table", func() []string { return tablePrivs(t, a, table, a.grantee) }, "MAINTAIN", "SELECT"),
			},
			{Config: grant, PlanOnly: true},
			{
				Config: defaults,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_default_privileges.d", tfjsonpath.New("privileges"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("MAINTAIN")})),
				},
			},
			{Config: defaults, PlanOnly: true},
		},
	})
}
