package live

// The user stories (listed in internal/provider/stories_test.go) through real Terraform
// against the live server. Each test names its objects with this run's
// prefix and checks the server side with its own SQL.

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

var q = hclquote.String

// run runs Terraform steps with the provider logged in to the primary.
func run(t *testing.T, checkDestroy resource.TestCheckFunc, steps ...resource.TestStep) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		CheckDestroy:             checkDestroy,
		Steps:                    steps,
	})
}

// rolesGone checks, after destroy, that the roles are gone from the server.
func rolesGone(t *testing.T, roles ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, r := range roles {
			if roleExists(t, r) {
				return fmt.Errorf("role %q still exists after destroy", r)
			}
		}
		return nil
	}
}

// serverPrincipal checks pgaadauth_list_principals for a role.
func serverPrincipal(t *testing.T, role, typ, objectID string, admin, mfa bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		p := listedPrincipal(t, adminConn(t, "postgres"), role)
		observe(t, "list_principals "+role, "%+v", p)
		switch {
		case !p.Found:
			return fmt.Errorf("pgaadauth_list_principals does not list %q", role)
		case typ != "" && p.Type != typ:
			return fmt.Errorf("%q: type %q, want %q", role, p.Type, typ)
		case objectID != "" && !strings.EqualFold(p.ObjectID, objectID):
			return fmt.Errorf("%q: object id %q, want %q", role, p.ObjectID, objectID)
		case (p.Admin == 1) != admin || (p.MFA == 1) != mfa:
			return fmt.Errorf("%q: isadmin %d ismfa %d, want admin %v mfa %v", role, p.Admin, p.MFA, admin, mfa)
		}
		return nil
	}
}

// adminRights checks the real rights behind `admin`: azure_pg_admin
// membership, CREATEROLE and CREATEDB.
func adminRights(t *testing.T, role string, want bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var member, createRole, createDB bool
		queryRow(t, adminConn(t, "postgres"), `
SELECT pg_has_role(r.oid, 'azure_pg_admin'::regrole, 'MEMBER'), r.rolcreaterole, r.rolcreatedb
FROM pg_roles r WHERE r.rolname = $1`, []any{role}, &member, &createRole, &createDB)
		if member != want || createRole != want || createDB != want {
			return fmt.Errorf("%q: member of azure_pg_admin %v, CREATEROLE %v, CREATEDB %v; want all %v", role, member, createRole, createDB, want)
		}
		return nil
	}
}

// TestLivePrincipalByName creates the test user, group and managed identity
// by name (story 1): the server looks each name up in the tenant. Their role
// names cannot carry the run's prefix, so the variables must name identities
// kept for the suite; a role left by a crashed run is dropped first.
func TestLivePrincipalByName(t *testing.T) {
	cases := []struct{ variable, name, typ, objectID string }{
		{"AZUREPG_LIVE_USER_UPN", env.UserUPN, "user", ""},
		{"AZUREPG_LIVE_GROUP_NAME", env.GroupName, "group", ""},
		{"AZUREPG_LIVE_MI_NAME", env.MIName, "service", env.MIObjectID},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			need(t, c.variable, c.name)
			if c.name == env.Admin {
				t.Fatalf("%s names the Entra admin %q: use an identity kept for the suite", c.variable, c.name)
			}
			if roleExists(t, c.name) {
				t.Logf("role %q exists before the test (left by an earlier run?): dropping it", c.name)
				mustExec(t, adminConn(t, "postgres"), "DROP ROLE "+ident(c.name))
			}
			dropRoleAtEnd(t, c.name)
			config := providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name = %s
  mfa  = %t
}
data "azurepg_principal" "p" {
  name = azurepg_principal.p.name
}
`, q(c.name), c.typ == "user")
			run(t, rolesGone(t, c.name), resource.TestStep{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("azurepg_principal.p", "id", c.name),
					resource.TestCheckResourceAttr("azurepg_principal.p", "type", c.typ),
					resource.TestCheckResourceAttrSet("azurepg_principal.p", "object_id"),
					resource.TestCheckResourceAttrSet("azurepg_principal.p", "tenant_id"),
					resource.TestCheckResourceAttrPair("data.azurepg_principal.p", "object_id", "azurepg_principal.p", "object_id"),
					serverPrincipal(t, c.name, c.typ, c.objectID, false, c.typ == "user"),
					adminRights(t, c.name, false),
				),
			})
		})
	}
}

// TestLivePrincipalByObjectID creates a principal for the test managed
// identity by object id (story 1) under a hostile 63-byte name of this run,
// reads it with both data sources, and changes mfa in place.
func TestLivePrincipalByObjectID(t *testing.T) {
	need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
	role := hostileName()
	dropRoleAtEnd(t, role)
	config := func(mfa bool) string {
		return providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_principal" "mi" {
  name      = %s
  type      = "service"
  object_id = %s
  mfa       = %t
}
data "azurepg_principals" "all" {
  depends_on = [azurepg_principal.mi]
}
`, q(role), q(env.MIObjectID), mfa)
	}
	run(t, rolesGone(t, role),
		resource.TestStep{
			Config: config(false),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("azurepg_principal.mi", "name", role),
				resource.TestCheckResourceAttr("azurepg_principal.mi", "type", "service"),
				resource.TestCheckResourceAttrSet("azurepg_principal.mi", "tenant_id"),
				resource.TestCheckTypeSetElemNestedAttrs("data.azurepg_principals.all", "principals.*", map[string]string{
					"name": role, "type": "service", "admin": "false",
				}),
				serverPrincipal(t, role, "service", env.MIObjectID, false, false),
			),
		},
		resource.TestStep{
			// mfa on a service principal: a warning (nobody could log in), applied in place.
			Config: config(true),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.mi", plancheck.ResourceActionUpdate)},
			},
			Check: serverPrincipal(t, role, "service", env.MIObjectID, false, true),
		},
	)
}

// TestLivePrincipalImport adopts a principal created outside Terraform with
// an import block (story 3), then checks `terraform import` of the same id.
func TestLivePrincipalImport(t *testing.T) {
	role := name(" adopted")
	createByOID(t, role)
	config := providerBlock(env.Host) + fmt.Sprintf(`
import {
  to = azurepg_principal.adopted
  id = %s
}
resource "azurepg_principal" "adopted" {
  name = %s
}
`, q(role), q(role))
	run(t, rolesGone(t, role),
		resource.TestStep{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.adopted", plancheck.ResourceActionNoop)},
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("azurepg_principal.adopted", "type", "service"),
				resource.TestCheckResourceAttrWith("azurepg_principal.adopted", "object_id", func(v string) error {
					if !strings.EqualFold(v, env.MIObjectID) {
						return fmt.Errorf("object_id %q, want %q", v, env.MIObjectID)
					}
					return nil
				}),
			),
		},
		resource.TestStep{Config: config, ResourceName: "azurepg_principal.adopted", ImportState: true, ImportStateId: role, ImportStateVerify: true},
	)
}

// TestLivePrincipalDrift: a hand GRANT azure_pg_admin to a non-admin
// principal shows in the next plan as an in-place update, and apply revokes it.
func TestLivePrincipalDrift(t *testing.T) {
	need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
	role := name(" drift")
	dropRoleAtEnd(t, role)
	config := providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name      = %s
  type      = "service"
  object_id = %s
}
`, q(role), q(env.MIObjectID))
	run(t, rolesGone(t, role),
		resource.TestStep{Config: config, Check: adminRights(t, role, false)},
		resource.TestStep{
			PreConfig: func() { mustExec(t, adminConn(t, "postgres"), "GRANT azure_pg_admin TO "+ident(role)) },
			Config:    config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.p", plancheck.ResourceActionUpdate)},
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				adminRights(t, role, false),
				serverPrincipal(t, role, "service", env.MIObjectID, false, false),
			),
		},
	)
}

// TestLivePrincipalAdminInPlace turns admin on and off in place: the role
// keeps its oid, and a table it owns survives (admin changes by relabelling).
func TestLivePrincipalAdminInPlace(t *testing.T) {
	need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
	role := name(" admin flip")
	dropRoleAtEnd(t, role)
	db := newDatabase(t) // dropped (with the table) before the role
	var oid uint32
	config := func(admin bool) string {
		return providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name      = %s
  type      = "service"
  object_id = %s
  admin     = %t
}
`, q(role), q(env.MIObjectID), admin)
	}
	sameRole := func(*terraform.State) error {
		conn := adminConn(t, db)
		var now uint32
		var owner string
		queryRow(t, conn, `SELECT oid FROM pg_roles WHERE rolname = $1`, []any{role}, &now)
		queryRow(t, conn, `SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'owned'`, nil, &owner)
		if now != oid || owner != role {
			return fmt.Errorf("role oid %d (was %d), table owner %q (want %q): the role was replaced", now, oid, owner, role)
		}
		return nil
	}
	inPlace := resource.ConfigPlanChecks{
		PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_principal.p", plancheck.ResourceActionUpdate)},
	}
	run(t, rolesGone(t, role),
		resource.TestStep{
			Config: config(false),
			Check: func(*terraform.State) error {
				conn := adminConn(t, db)
				// To give the role a table, the admin must be a member of it
				// (on 16+ with the SET option, on by default; Azure's
				// enhancement lets the admin grant a role pgaadauth made) and
				// the role must be allowed to create in the schema.
				mustExec(t, conn, "GRANT "+ident(role)+" TO CURRENT_USER")
				mustExec(t, conn, "GRANT CREATE ON SCHEMA public TO "+ident(role))
				mustExec(t, conn, "CREATE TABLE public.owned (id int)")
				mustExec(t, conn, "ALTER TABLE public.owned OWNER TO "+ident(role))
				queryRow(t, conn, `SELECT oid FROM pg_roles WHERE rolname = $1`, []any{role}, &oid)
				return nil
			},
		},
		resource.TestStep{
			Config:           config(true),
			ConfigPlanChecks: inPlace,
			Check: resource.ComposeAggregateTestCheckFunc(
				sameRole, adminRights(t, role, true),
				serverPrincipal(t, role, "service", env.MIObjectID, true, false),
			),
		},
		resource.TestStep{
			Config:           config(false),
			ConfigPlanChecks: inPlace,
			Check: resource.ComposeAggregateTestCheckFunc(
				sameRole, adminRights(t, role, false),
				serverPrincipal(t, role, "service", env.MIObjectID, false, false),
				// the table and the grant go before destroy drops the role
				func(*terraform.State) error {
					conn := adminConn(t, db)
					mustExec(t, conn, "DROP TABLE public.owned")
					mustExec(t, conn, "REVOKE CREATE ON SCHEMA public FROM "+ident(role))
					return nil
				},
			),
		},
	)
}

// aiSetting reads one azure_ai setting of a database as the Entra admin.
func aiSetting(t *testing.T, db, key string) *string {
	t.Helper()
	var v *string
	queryRow(t, adminConn(t, db), `SELECT azure_ai.get_setting($1)`, []any{key}, &v)
	return v
}

func expectSetting(t *testing.T, db, key, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := aiSetting(t, db, key); got == nil || *got != want {
			return fmt.Errorf("azure_ai.get_setting(%q) in %q is not the configured value", key, db)
		}
		return nil
	}
}

// TestLiveAISettingsManagedIdentity installs azure_ai and points
// azure_openai at an endpoint with managed identity (story 2).
func TestLiveAISettingsManagedIdentity(t *testing.T) {
	db := newDatabase(t)
	config := providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_extension" "azure_ai" {
  database = %s
  name     = "azure_ai"
}
resource "azurepg_ai_settings" "s" {
  database = azurepg_extension.azure_ai.database
  azure_openai {
    endpoint  = %s
    auth_type = "managed-identity"
  }
}
data "azurepg_ai_settings" "s" {
  database = azurepg_ai_settings.s.database
}
`, q(db), q(env.OpenAIEndpoint))
	run(t, nil, resource.TestStep{
		Config: config,
		Check: resource.ComposeAggregateTestCheckFunc(
			expectSetting(t, db, "azure_openai.endpoint", env.OpenAIEndpoint),
			expectSetting(t, db, "azure_openai.auth_type", "managed-identity"),
			resource.TestCheckResourceAttr("data.azurepg_ai_settings.s", "azure_openai.endpoint", env.OpenAIEndpoint),
			resource.TestCheckResourceAttr("data.azurepg_ai_settings.s", "azure_openai.auth_type", "managed-identity"),
			resource.TestCheckResourceAttr("data.azurepg_ai_settings.s", "azure_openai.subscription_key_set", "false"),
		),
	})
}

// TestLiveAISettingsKey sends a write-only key, checks that the server has
// it and the state does not, then rotates it by bumping the version.
func TestLiveAISettingsKey(t *testing.T) {
	db := newDatabase(t)
	key1, key2 := "live-key-1-"+prefix, "live-key-2-"+prefix
	config := func(key string, version int) string {
		return providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_extension" "azure_ai" {
  database = %s
  name     = "azure_ai"
}
resource "azurepg_ai_settings" "s" {
  database = azurepg_extension.azure_ai.database
  azure_openai {
    endpoint                    = %s
    auth_type                   = "subscription-key"
    subscription_key_wo         = %s
    subscription_key_wo_version = %d
  }
}
`, q(db), q(env.OpenAIEndpoint), q(key), version)
	}
	noKeyInState := statecheck.ExpectKnownValue("azurepg_ai_settings.s",
		tfjsonpath.New("azure_openai").AtMapKey("subscription_key_wo"), knownvalue.Null())
	run(t, nil,
		resource.TestStep{
			Config:            config(key1, 1),
			ConfigStateChecks: []statecheck.StateCheck{noKeyInState},
			Check: resource.ComposeAggregateTestCheckFunc(
				expectSetting(t, db, "azure_openai.subscription_key", key1),
				expectSetting(t, db, "azure_openai.auth_type", "subscription-key"),
			),
		},
		resource.TestStep{
			Config:            config(key2, 2),
			ConfigStateChecks: []statecheck.StateCheck{noKeyInState},
			Check:             expectSetting(t, db, "azure_openai.subscription_key", key2),
		},
	)
}

// TestLiveExtension installs azure_ai at the server's default version,
// imports it, and shows Azure's refusal of an extension outside the
// azure.extensions allow-list (tablefunc: neither the guide's server nor the
// emulator allows it).
func TestLiveExtension(t *testing.T) {
	db := newDatabase(t)
	var def string
	queryRow(t, adminConn(t, db), `SELECT default_version FROM pg_available_extensions WHERE name = 'azure_ai'`, nil, &def)
	config := providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_extension" "azure_ai" {
  database = %s
  name     = "azure_ai"
}
`, q(db))
	run(t, func(*terraform.State) error {
		var n int
		queryRow(t, adminConn(t, db), `SELECT count(*) FROM pg_extension WHERE extname = 'azure_ai'`, nil, &n)
		if n != 0 {
			return fmt.Errorf("azure_ai is still installed in %q after destroy", db)
		}
		return nil
	},
		resource.TestStep{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("azurepg_extension.azure_ai", "version", def),
			),
		},
		resource.TestStep{Config: config, ResourceName: "azurepg_extension.azure_ai", ImportState: true,
			ImportStateId: db + "/azure_ai", ImportStateVerify: true},
		resource.TestStep{
			Config: config + fmt.Sprintf(`
resource "azurepg_extension" "tablefunc" {
  database = %s
  name     = %s
}
`, q(db), q(notAllowListed)),
			ExpectError: regexp.MustCompile(`(?s)` + notAllowListed + `.*(allow-listed|azure\.extensions)`),
		},
	)
}

// TestLiveAccessToken reads the ephemeral access token (story 1's route for
// other providers) and checks its scope and expiry, through the echo
// provider (which stores a digest, never the token).
func TestLiveAccessToken(t *testing.T) {
	f := map[string]func() (tfprotov6.ProviderServer, error){"echo": echoprovider.NewProviderServer()}
	for k, v := range factories {
		f[k] = v
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: f,
		Steps: []resource.TestStep{{
			Config: providerBlock(env.Host) + `
ephemeral "azurepg_access_token" "t" {}
provider "echo" {
  data = {
    token_sha256 = sha256(ephemeral.azurepg_access_token.t.token)
    expires_on   = ephemeral.azurepg_access_token.t.expires_on
    scope        = ephemeral.azurepg_access_token.t.scope
  }
}
resource "echo" "t" {}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.t", tfjsonpath.New("data").AtMapKey("scope"),
					knownvalue.StringExact("https://ossrdbms-aad.database.windows.net/.default")),
				statecheck.ExpectKnownValue("echo.t", tfjsonpath.New("data").AtMapKey("token_sha256"),
					knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
				statecheck.ExpectKnownValue("echo.t", tfjsonpath.New("data").AtMapKey("expires_on"),
					knownvalue.StringFunc(func(v string) error {
						exp, err := time.Parse(time.RFC3339, v)
						if err != nil {
							return err
						}
						observe(t, "access token lifetime", "expires_on %s, %s from now", v, time.Until(exp).Round(time.Minute))
						if time.Until(exp) <= 0 || time.Until(exp) > 25*time.Hour {
							return fmt.Errorf("expires_on %s is not within the next 25 hours", v)
						}
						return nil
					})),
			},
		}},
	})
}

// TestLiveGrants is story 4: a principal made a member of a group role,
// granted CONNECT and table privileges, and default privileges for tables
// that the schema owner creates later. The admin is a member of the owner.
func TestLiveGrants(t *testing.T) {
	needResources(t, "azurepg_role_membership", "azurepg_grant", "azurepg_default_privileges")
	need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
	api, owner, readers := name(" orders api"), name("_owner"), name("_readers")
	for _, r := range []string{api, owner, readers} {
		dropRoleAtEnd(t, r)
	}
	// After the roles: cleanups run last first, so the database (with the
	// owner's schema and tables) goes before the owner.
	db := newDatabase(t)
	conn := adminConn(t, db)
	mustExec(t, conn, "CREATE ROLE "+ident(owner)+" NOLOGIN")
	mustExec(t, conn, "CREATE ROLE "+ident(readers)+" NOLOGIN")
	mustExec(t, conn, "GRANT "+ident(owner)+" TO CURRENT_USER")
	mustExec(t, conn, "CREATE SCHEMA sales AUTHORIZATION "+ident(owner))
	mustExec(t, conn, "SET ROLE "+ident(owner))
	mustExec(t, conn, "CREATE TABLE sales.orders (id int)")
	mustExec(t, conn, "RESET ROLE")
	config := providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_principal" "api" {
  name      = %[1]s
  type      = "service"
  object_id = %[2]s
}
resource "azurepg_role_membership" "readers" {
  role   = %[3]s
  member = azurepg_principal.api.name
}
resource "azurepg_grant" "connect" {
  role        = azurepg_principal.api.name
  database    = %[4]s
  object_type = "database"
  privileges  = ["CONNECT"]
}
resource "azurepg_grant" "tables" {
  role        = azurepg_principal.api.name
  database    = %[4]s
  object_type = "table"
  schema      = "sales"
  privileges  = ["SELECT", "INSERT", "UPDATE"]
}
resource "azurepg_default_privileges" "future" {
  role        = azurepg_principal.api.name
  database    = %[4]s
  owner       = %[5]s
  schema      = "sales"
  object_type = "table"
  privileges  = ["SELECT", "INSERT", "UPDATE"]
}
`, q(api), q(env.MIObjectID), q(readers), q(db), q(owner))
	privileges := func(want bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			c := adminConn(t, db)
			var member, connect, sel, ins, upd, del, future bool
			queryRow(t, c, `
SELECT pg_has_role($1, $2, 'MEMBER'),
       has_database_privilege($1, current_database(), 'CONNECT'),
       has_table_privilege($1, 'sales.orders', 'SELECT'),
       has_table_privilege($1, 'sales.orders', 'INSERT'),
       has_table_privilege($1, 'sales.orders', 'UPDATE'),
       has_table_privilege($1, 'sales.orders', 'DELETE'),
       EXISTS (SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a
               WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $3)
                 AND d.defaclnamespace = 'sales'::regnamespace AND d.defaclobjtype = 'r'
                 AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1))`,
				[]any{api, readers, owner}, &member, &connect, &sel, &ins, &upd, &del, &future)
			observe(t, "story 4 privileges", "member %v connect %v select %v insert %v update %v delete %v default %v", member, connect, sel, ins, upd, del, future)
			if member != want || sel != want || ins != want || upd != want || future != want || del {
				return fmt.Errorf("privileges of %q are not what the configuration says (want %v, no DELETE)", api, want)
			}
			return nil
		}
	}
	run(t, rolesGone(t, api), resource.TestStep{Config: config, Check: privileges(true)})
}

// TestLiveReplica: a read replica is in recovery, and the provider refuses
// to write there with a clear error before trying.
func TestLiveReplica(t *testing.T) {
	need(t, "AZUREPG_LIVE_REPLICA_HOST", env.ReplicaHost)
	need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
	ctx := t.Context()
	conn, err := adminConnect(ctx, env.ReplicaHost, "postgres")
	if err != nil {
		t.Fatalf("logging in to the replica %s as %q: %v", env.ReplicaHost, env.Admin, err)
	}
	defer conn.Close(ctx)
	var recovering bool
	if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&recovering); err != nil {
		t.Fatal(err)
	}
	observe(t, "pg_is_in_recovery() on the replica", "%v", recovering)
	if !recovering {
		t.Fatalf("pg_is_in_recovery() is false on %s: is it a read replica?", env.ReplicaHost)
	}
	role := name(" on replica")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: providerBlock(env.ReplicaHost) + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name      = %s
  type      = "service"
  object_id = %s
}
`, q(role), q(env.MIObjectID)),
			ExpectError: regexp.MustCompile(`(?i)replica`),
		}},
	})
}
