package live

// azurepg_schema against the live server: the story (a schema owned by an
// application's owner role, a refused destroy of a schema that holds a
// table, drop_cascade) and the GUESS behind the resource's errors (who may
// create a schema for, give a schema to, or drop a schema of another role).

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestLiveSchemaOwnership checks, as the Entra admin, the GUESS of
// pgaad/schemas.go: Azure's "improved control for azure_pg_admin" lets its
// members "access objects owned by any nonrestricted role", which the
// emulator does not model for schemas. There, as in PostgreSQL, the Entra
// admin may not create a schema for the password admin (no SET ROLE to it),
// nor give away or drop the password admin's schema (not its owner), on any
// version; on 16+ not even for a role it created itself, whose creator's
// grant has neither INHERIT nor SET (unless createrole_self_grant gives
// them). Each refusal is logged; the GRANT the provider's error advises
// then lets the admin do it.
func TestLiveSchemaOwnership(t *testing.T) {
	need(t, "AZUREPG_LIVE_PASSWORD_ADMIN", env.PasswordAdmin)
	need(t, "AZUREPG_LIVE_PASSWORD", env.Password)
	made := name(` schema owner "o"; é`)
	dropRoleAtEnd(t, made)
	db := newDatabase(t) // dropped before the role (cleanups run last first)
	admin := adminConn(t, db)
	mustExec(t, admin, "GRANT CREATE, CONNECT ON DATABASE "+ident(db)+" TO "+ident(env.PasswordAdmin))
	var member bool
	queryRow(t, admin, `SELECT pg_has_role(current_user, $1, 'MEMBER')`, []any{env.PasswordAdmin}, &member)
	if member {
		t.Fatalf("the Entra admin is a member of the password admin %q (left by TestLiveGrantOnPasswordAdminObjects?): REVOKE it and run again", env.PasswordAdmin)
	}
	// PostgreSQL's texts: 15 checks membership, 16+ the SET option.
	cannotSet := func(role string) string {
		if serverMajor >= 16 {
			return `must be able to SET ROLE "` + role + `"`
		}
		return `must be member of role "` + role + `"`
	}
	theirs := `pw "s"; ü@`
	mustExec(t, passwordAdmin(t, db), "CREATE SCHEMA "+ident(theirs))
	expectRefused(t, admin, "CREATE SCHEMA .. AUTHORIZATION <password admin>",
		"CREATE SCHEMA "+ident(`for pw "s"`)+" AUTHORIZATION "+ident(env.PasswordAdmin), cannotSet(env.PasswordAdmin))
	expectRefused(t, admin, "ALTER SCHEMA <password admin's schema> OWNER TO <Entra admin>",
		"ALTER SCHEMA "+ident(theirs)+" OWNER TO CURRENT_USER", "must be owner of schema "+theirs)
	expectRefused(t, admin, "DROP SCHEMA <password admin's schema>", "DROP SCHEMA "+ident(theirs), "must be owner of schema "+theirs)

	// A role the Entra admin created: on 16+ its creator's grant has
	// neither INHERIT nor SET, unless createrole_self_grant adds them.
	mustExec(t, adminConn(t, "postgres"), "CREATE ROLE "+ident(made)+" NOLOGIN")
	selfGrant := ""
	if serverMajor >= 16 {
		queryRow(t, admin, `SHOW createrole_self_grant`, nil, &selfGrant)
	}
	create := "CREATE SCHEMA " + ident(`for made "s"`) + " AUTHORIZATION " + ident(made)
	what := "CREATE SCHEMA .. AUTHORIZATION <role the Entra admin created>"
	if strings.Contains(selfGrant, "set") {
		expectAllowed(t, admin, what+", createrole_self_grant = "+selfGrant, create)
		return
	}
	expectRefused(t, admin, what, create, cannotSet(made))
	// What the provider's error advises, run by the admin itself.
	if expectAllowed(t, adminConn(t, "postgres"), "GRANT <role the Entra admin created> TO <Entra admin>",
		"GRANT "+ident(made)+" TO "+ident(env.Admin)) {
		expectAllowed(t, admin, what+", after the GRANT", create)
	}
}

// TestLiveSchema: azurepg_schema creates a schema owned by an application's
// owner role (the Entra admin a member of it), a table the owner creates in
// it makes the destroy fail naming the table, and drop_cascade = true lets
// the destroy drop both.
func TestLiveSchema(t *testing.T) {
	needResources(t, "azurepg_schema")
	owner := name(`_owner "o"; ñ@`)
	dropRoleAtEnd(t, owner)
	db := newDatabase(t) // dropped before the role (cleanups run last first)
	mustExec(t, adminConn(t, "postgres"), "CREATE ROLE "+ident(owner)+" NOLOGIN")
	mustExec(t, adminConn(t, "postgres"), "GRANT "+ident(owner)+" TO CURRENT_USER")
	schema := hostileName()
	config := func(cascade bool) string {
		return providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_schema" "s" {
  database     = %s
  name         = %s
  owner        = %s
  drop_cascade = %t
}
`, q(db), q(schema), q(owner), cascade)
	}
	onServer := func(wantOwner string, wantTables int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			var got string
			var tables int
			queryRow(t, adminConn(t, db), `SELECT coalesce((SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = $1), ''),
				(SELECT count(*) FROM pg_tables WHERE schemaname = $1)::int`, []any{schema}, &got, &tables)
			observe(t, "azurepg_schema on the server", "owner %q, %d tables", got, tables)
			if got != wantOwner || tables != wantTables {
				return fmt.Errorf("schema %q: owner %q with %d tables; want %q with %d", schema, got, tables, wantOwner, wantTables)
			}
			return nil
		}
	}
	run(t, onServer("", 0),
		resource.TestStep{Config: config(false), Check: onServer(owner, 0)},
		resource.TestStep{
			PreConfig: func() {
				c := adminConn(t, db)
				mustExec(t, c, "SET ROLE "+ident(owner))
				mustExec(t, c, "CREATE TABLE "+ident(schema)+".orders (id int)")
				mustExec(t, c, "RESET ROLE")
			},
			Config:      config(false),
			Destroy:     true,
			ExpectError: regexp.MustCompile(`(?s)Schema still holds objects.*table .*\.orders.*drop_cascade = true`),
		},
		resource.TestStep{Config: config(true), Check: onServer(owner, 1)},
	)
}
