package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// listedPrincipal is one row of pgaadauth_list_principals or one element of
// the data source's list, written the same way for comparison.
type listedPrincipal struct {
	name, typ, objectID, tenantID string
	admin, mfa                    bool
}

// serverList is what Azure's own function lists (the emulator's SQL, not the
// provider's parser), read by position as the function's column names vary.
func serverList(t *testing.T, adminsOnly bool) []listedPrincipal {
	t.Helper()
	rows, err := acctest.Emulator(t).Superuser().Query(context.Background(),
		"SELECT * FROM pgaadauth_list_principals($1)", adminsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var out []listedPrincipal
	for rows.Next() {
		var p listedPrincipal
		var typ, oid, tid *string
		var mfa, admin int
		if err := rows.Scan(&p.name, &typ, &oid, &tid, &mfa, &admin); err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct {
			dst *string
			src *string
		}{{&p.typ, typ}, {&p.objectID, oid}, {&p.tenantID, tid}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		p.mfa, p.admin = mfa == 1, admin == 1
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkListMatchesServer compares a data source's list with the server's.
func checkListMatchesServer(t *testing.T, addr string, adminsOnly bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		a := rs.Primary.Attributes
		n, _ := strconv.Atoi(a["principals.#"])
		var got []listedPrincipal
		for i := 0; i < n; i++ {
			k := func(f string) string { return a[fmt.Sprintf("principals.%d.%s", i, f)] }
			got = append(got, listedPrincipal{name: k("name"), typ: k("type"), objectID: k("object_id"), tenantID: k("tenant_id"),
				admin: k("admin") == "true", mfa: k("mfa") == "true"})
		}
		want := serverList(t, adminsOnly)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("%s lists\n%v\nthe server lists\n%v", addr, got, want)
		}
		if len(want) < 2 {
			return fmt.Errorf("the server lists too few principals for a meaningful test: %v", want)
		}
		return nil
	}
}

// TestPrincipalDataSources is not parallel: the lists must equal what the
// server lists, so no other test may create principals meanwhile.
func TestPrincipalDataSources(t *testing.T) {
	acctest.Emulator(t)
	user := acctest.NewObject(t, "user", "acc-ds-user")
	group := acctest.NewObject(t, "group", "acc ds group")
	// One principal labelled as older servers did, outside Terraform.
	old := acctest.NewObject(t, "service_principal", "acc-ds-old")
	oldRole := pgx.Identifier{old.Name}.Sanitize()
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, true, false)", old.Name)
	acctest.SuperExec(t, "postgres", `SECURITY LABEL FOR "pgaadauth" ON ROLE `+oldRole+` IS 'aadauth,oid=`+old.ObjectID+`,type=service,admin'`)
	acctest.SuperExec(t, "postgres", `SECURITY LABEL FOR "pgaadauth-int" ON ROLE `+oldRole+` IS NULL`)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+oldRole) })
	plain := acctest.Name("acc-ds-plain")
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{plain}.Sanitize())
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{plain}.Sanitize()) })

	config := principalConfig(fmt.Sprintf(`
resource "azurepg_principal" "user" {
  name = %q
  mfa  = true
}
resource "azurepg_principal" "group" {
  name  = %q
  admin = true
}
data "azurepg_principal" "user" {
  name = azurepg_principal.user.name
}
data "azurepg_principal" "old" {
  name = %q
}
data "azurepg_principals" "all" {
  depends_on = [azurepg_principal.user, azurepg_principal.group]
}
data "azurepg_principals" "admins" {
  admins_only = true
  depends_on  = [azurepg_principal.user, azurepg_principal.group]
}`, user.Name, group.Name, old.Name))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, user.Name, group.Name),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.azurepg_principal.user", tfjsonpath.New("id"), knownvalue.StringExact(user.Name)),
					statecheck.ExpectKnownValue("data.azurepg_principal.user", tfjsonpath.New("mfa"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("data.azurepg_principal.user", tfjsonpath.New("admin"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.azurepg_principal.old", tfjsonpath.New("type"), knownvalue.StringExact("service")),
					statecheck.ExpectKnownValue("data.azurepg_principal.old", tfjsonpath.New("object_id"), knownvalue.StringExact(old.ObjectID)),
					statecheck.ExpectKnownValue("data.azurepg_principal.old", tfjsonpath.New("tenant_id"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue("data.azurepg_principal.old", tfjsonpath.New("admin"), knownvalue.Bool(true)),
					statecheck.CompareValuePairs("data.azurepg_principal.user", tfjsonpath.New("type"),
						"azurepg_principal.user", tfjsonpath.New("type"), compare.ValuesSame()),
					statecheck.CompareValuePairs("data.azurepg_principal.user", tfjsonpath.New("object_id"),
						"azurepg_principal.user", tfjsonpath.New("object_id"), compare.ValuesSame()),
					statecheck.CompareValuePairs("data.azurepg_principal.user", tfjsonpath.New("tenant_id"),
						"azurepg_principal.user", tfjsonpath.New("tenant_id"), compare.ValuesSame()),
					// principals is a list (by name): SetPartial checks that it holds the element.
					statecheck.ExpectKnownValue("data.azurepg_principals.all", tfjsonpath.New("principals"),
						knownvalue.SetPartial([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"name": knownvalue.StringExact(group.Name), "type": knownvalue.StringExact("group"),
							"object_id": knownvalue.StringExact(group.ObjectID), "admin": knownvalue.Bool(true), "mfa": knownvalue.Bool(false),
						})})),
					statecheck.ExpectKnownValue("data.azurepg_principals.admins", tfjsonpath.New("principals"),
						knownvalue.SetPartial([]knownvalue.Check{knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"name": knownvalue.StringExact(old.Name), "admin": knownvalue.Bool(true),
						})})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkListMatchesServer(t, "data.azurepg_principals.all", false),
					checkListMatchesServer(t, "data.azurepg_principals.admins", true),
				),
			},
			{
				Config:      principalConfig(fmt.Sprintf(`data "azurepg_principal" "plain" { name = %q }`, plain)),
				ExpectError: regexp.MustCompile(`Role is not a Microsoft Entra principal`),
			},
			{
				Config:      principalConfig(`data "azurepg_principal" "missing" { name = "nobody here" }`),
				ExpectError: regexp.MustCompile(`Role not found`),
			},
		},
	})
}
