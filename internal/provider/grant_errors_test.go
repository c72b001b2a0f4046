package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// stranger adds a role the admin is not a member of, owning one table of
// the schema (made by the superuser: the admin could not).
func (a accessDB) stranger(t *testing.T) (role, table string) {
	t.Helper()
	role = name63(`z-stranger 'o'; ü@`)
	table = acctest.Name(`secrets; 't' 秘`)
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+qi(role))
	acctest.SuperExec(t, a.db, "GRANT CREATE, USAGE ON SCHEMA "+qi(a.schema)+" TO "+qi(role))
	acctest.SuperExec(t, a.db, "SET ROLE "+qi(role)+"; CREATE TABLE "+qi(a.schema)+"."+qi(table)+" (id int)")
	return role, table
}

// TestAccGrantNotMember: a table owned by a role the admin is not a
// member of cannot be granted on; the error names the owner and the exact
// GRANT that would allow it, and nothing changed. The same for default
// privileges of such an owner. A grant listing a table the admin can act
// for and one it cannot fails midway (the first owner's statements ran
// inside the transaction) and leaves nothing behind.
func TestAccGrantNotMember(t *testing.T) {
	acctest.Emulator(t)
	a := newAccessDB(t)
	stranger, theirs := a.stranger(t)
	admin := acctest.Emulator(t).AdminName()
	grantOn := func(objects ...string) string {
		list := ""
		for i, o := range objects {
			if i > 0 {
				list += ", "
			}
			list += hclquote.String(o)
		}
		return a.config(fmt.Sprintf(`resource "azurepg_grant" "t" {
  role        = local.grantee
  database    = local.db
  object_type = "table"
  schema      = local.schema
  objects     = [%s]
  privileges  = ["SELECT", "INSERT", "UPDATE", "DELETE"]
}`, list))
	}
	nothing := func(table string) resource.TestCheckFunc {
		return checkPrivs("table "+table, func() []string { return tablePrivs(t, a, table, a.grantee) })
	}
	advice := []string{"The login cannot act as the owner", "permission denied to set role",
		"is not a superuser", "Nothing was changed", fmt.Sprintf("owned by %q", stranger),
		fmt.Sprintf("GRANT %s TO %s;", qi(stranger), qi(admin))}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{Config: grantOn(theirs), ExpectError: words(advice...)},
			{
				// The owner "a-..." sorts first: its table is granted, then
				// SET ROLE to "z-..." fails and the transaction rolls back.
				Config:      grantOn(a.tables[0], theirs),
				ExpectError: words(advice...),
			},
			{
				// All tables of the schema: the same.
				Config: a.config(`resource "azurepg_grant" "t" {
  role        = local.grantee
  database    = local.db
  object_type = "table"
  schema      = local.schema
  privileges  = ["SELECT"]
}`),
				ExpectError: words(advice...),
			},
			{
				Config: a.config(fmt.Sprintf(`resource "azurepg_default_privileges" "d" {
  role        = local.grantee
  database    = local.db
  owner       = %s
  object_type = "table"
  privileges  = ["SELECT"]
}`, hclquote.String(stranger))),
				ExpectError: words("The login cannot act as the owner", "change a role's default privileges", "Nothing was changed",
					fmt.Sprintf("GRANT %s TO %s;", qi(stranger), qi(admin))),
			},
			{
				// Nothing is left of the failed applies, on the server or in the state.
				PreConfig: func() {
					err := resource.ComposeAggregateTestCheckFunc(
						nothing(a.tables[0]), nothing(a.tables[1]), nothing(theirs),
						func(*terraform.State) error {
							var n int
							acctest.SuperQueryRow(t, a.db, `SELECT count(*) FROM pg_default_acl WHERE defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
								[]any{stranger}, &n)
							if n != 0 {
								return fmt.Errorf("%d default ACL rows for the stranger", n)
							}
							return nil
						},
					)(nil)
					if err != nil {
						t.Error(err)
					}
				},
				Config:   a.config(),
				PlanOnly: true,
			},
			{
				// Once the admin is made a member, as the error said, it works.
				PreConfig: func() {
					if _, err := acctest.AdminConn(t, "postgres").Exec(context.Background(), fmt.Sprintf("GRANT %s TO %s", qi(stranger), qi(admin))); err != nil {
						t.Fatal(err)
					}
				},
				Config: grantOn(a.tables[0], theirs),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkPrivs("their table", func() []string { return tablePrivs(t, a, theirs, a.grantee) }, "DELETE", "INSERT", "SELECT", "UPDATE"),
					checkPrivs("my table", func() []string { return tablePrivs(t, a, a.tables[0], a.grantee) }, "DELETE", "INSERT", "SELECT", "UPDATE"),
				),
			},
		},
	})
}

// TestAccGrantPublic: role = "public" is PUBLIC. Destroying another
// role's grant on the same table leaves PUBLIC's privilege alone, and the
// other way round.
func TestAccGrantPublic(t *testing.T) {
	acctest.Emulator(t)
	a := newAccessDB(t)
	table := a.tables[0]
	grant := func(name, role string) string {
		return fmt.Sprintf(`resource "azurepg_grant" %q {
  role        = %s
  database    = local.db
  object_type = "table"
  schema      = local.schema
  objects     = [%s]
  privileges  = ["SELECT"]
}`, name, role, hclquote.String(table))
	}
	public := func() []string { return tablePrivs(t, a, table, "public") }
	mine := func() []string { return tablePrivs(t, a, table, a.grantee) }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: a.config(grant("public", `"public"`), grant("app", "local.grantee")),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_grant.public", tfjsonpath.New("role"), knownvalue.StringExact("public")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(checkPrivs("PUBLIC", public, "SELECT"), checkPrivs("the role", mine, "SELECT")),
			},
			{ResourceName: "azurepg_grant.public", ImportState: true, ImportStateVerify: true},
			{
				Config: a.config(grant("public", `"public"`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_grant.app", plancheck.ResourceActionDestroy),
					plancheck.ExpectResourceAction("azurepg_grant.public", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(checkPrivs("PUBLIC kept", public, "SELECT"), checkPrivs("the role", mine)),
			},
			{
				Config: a.config(grant("app", "local.grantee")),
				Check:  resource.ComposeAggregateTestCheckFunc(checkPrivs("PUBLIC revoked", public), checkPrivs("the role", mine, "SELECT")),
			},
		},
	})
}

// TestAccGrantValidation: privileges that the object type does not
// have, and misplaced schema or objects, are refused at plan time, before
// any connection.
func TestAccGrantValidation(t *testing.T) {
	acctest.Emulator(t)
	cases := []struct{ body, want string }{
		{`object_type = "table"
  schema      = "s"
  privileges  = ["EXECUTE"]`, `"EXECUTE" is not a privilege of a table`},
		{`object_type = "function"
  schema      = "s"
  privileges  = ["SELECT"]`, `"SELECT" is not a privilege of a function. A function has: EXECUTE`},
		{`object_type = "database"
  privileges  = ["USAGE"]`, `A database has: CONNECT, CREATE, TEMPORARY`},
		{`object_type = "database"
  privileges  = ["TEMP"]`, `Write TEMPORARY`},
		{`object_type = "schema"
  schema      = "s"
  privileges  = ["usage"]`, `"USAGE", not "usage"`},
		{`object_type = "table"
  schema      = "s"
  privileges  = ["ALL", "SELECT"]`, `ALL with other privileges`},
		{`object_type = "table"
  privileges  = ["SELECT"]`, `schema required`},
		{`object_type = "database"
  schema      = "s"
  privileges  = ["CONNECT"]`, `schema not allowed here`},
		{`object_type = "schema"
  schema      = "s"
  objects     = ["t"]
  privileges  = ["USAGE"]`, `objects not allowed here`},
		{`object_type = "sequence"
  schema      = "s"
  objects     = []
  privileges  = ["USAGE"]`, `set must contain at least 1 elements`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config: fmt.Sprintf(`provider "azurepg" {}

resource "azurepg_grant" "g" {
  role        = "app"
  database    = "db"
  %s
}`, c.body),
			PlanOnly:    true,
			ExpectError: words(c.want),
		})
	}
	steps = append(steps, resource.TestStep{
		Config: `provider "azurepg" {}

resource "azurepg_default_privileges" "d" {
  role        = "public"
  database    = "db"
  owner       = "o"
  schema      = "s"
  object_type = "schema"
  privileges  = ["USAGE"]
  with_grant_option = true
}`,
		PlanOnly:    true,
		ExpectError: words("schema not allowed here", "with_grant_option not allowed for PUBLIC"),
	})
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: acctest.ProviderFactories, Steps: steps})
}

// TestAccGrantMissingObject: a listed table that does not exist fails the
// apply with its name and changes nothing; import IDs that cannot be a
// grant's, or name a role that does not exist, are refused.
func TestAccGrantMissingObject(t *testing.T) {
	acctest.Emulator(t)
	a := newAccessDB(t)
	missing := acctest.Name(`no "such"; table`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: a.config(fmt.Sprintf(`resource "azurepg_grant" "t" {
  role        = local.grantee
  database    = local.db
  object_type = "table"
  schema      = local.schema
  objects     = [%s, %s]
  privileges  = ["SELECT"]
}`, hclquote.String(a.tables[0]), hclquote.String(missing))),
				ExpectError: words("Object of the grant not found", "no table named",
					"Create the objects first (and make this resource depend on what creates them), or remove them from objects", "Nothing was changed"),
			},
			{
				PreConfig: func() {
					if got := tablePrivs(t, a, a.tables[0], a.grantee); len(got) != 0 {
						t.Errorf("the existing table got %v", got)
					}
				},
				Config: a.config(`resource "azurepg_grant" "t" {
  role        = local.grantee
  database    = local.db
  object_type = "database"
  privileges  = ["CONNECT"]
}`),
				ResourceName:  "azurepg_grant.t",
				ImportState:   true,
				ImportStateId: "app/db/view/s",
				ExpectError:   words("Invalid import ID", `the third field is "view"`, "%2F"),
			},
			{
				Config: a.config(`resource "azurepg_grant" "t" {
  role        = local.grantee
  database    = local.db
  object_type = "database"
  privileges  = ["CONNECT"]
}`),
				ResourceName:  "azurepg_grant.t",
				ImportState:   true,
				ImportStateId: "nobody-" + missing + "/" + strings.ReplaceAll(a.db, "/", "%2F") + "/database",
				ExpectError:   words("Object of the grant not found", "does not exist"),
			},
		},
	})
}
