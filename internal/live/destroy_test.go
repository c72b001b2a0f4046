package live

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestLiveDropRoleCleansUp settles the GUESSes of the destroy that leaves
// nothing behind (internal/pgaad/droprole.go) and of azurepg_role's
// creation (internal/pgaad/roles.go), through real Terraform as the Entra
// admin:
//   - the admin may set createrole_self_grant for its transaction, so that
//     it can SET ROLE to an owner role it creates (the schema below is
//     created with AUTHORIZATION that role);
//   - the admin may grant itself membership in a principal made by
//     pgaadauth and in its own owner role, to revoke the principal's
//     privileges (granted directly and by default privileges) and drop it;
//   - the owner role's objects go to the admin with reassign_owned_to.
func TestLiveDropRoleCleansUp(t *testing.T) {
	need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
	db := newDatabase(t)
	owner, reader := name(`owner "o"; é`), hostileName()
	dropRoleAtEnd(t, reader)
	dropRoleAtEnd(t, owner)
	roles := func(withReader bool) string {
		s := providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_role" "owner" {
  name              = %s
  reassign_owned_to = %s
}
`, q(owner), q(env.Admin))
		if withReader {
			s += fmt.Sprintf(`
resource "azurepg_principal" "reader" {
  name      = %s
  type      = "service"
  object_id = %s
}
`, q(reader), q(env.MIObjectID))
		}
		return s
	}
	dependencies := func(role string) int {
		var n int
		queryRow(t, adminConn(t, "postgres"), `SELECT count(*) FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid WHERE r.rolname = $1`,
			[]any{role}, &n)
		return n
	}
	run(t, func(*terraform.State) error {
		if roleExists(t, owner) {
			return fmt.Errorf("role %q still exists", owner)
		}
		var tableOwner string
		queryRow(t, adminConn(t, db), `SELECT relowner::regrole::text FROM pg_class WHERE oid = 'orders.items'::regclass`, nil, &tableOwner)
		observe(t, "owner of the owner role's table after its destroy", "%s", tableOwner)
		if tableOwner != ident(env.Admin) {
			return fmt.Errorf("orders.items belongs to %s, want the admin %s (reassign_owned_to)", tableOwner, ident(env.Admin))
		}
		return nil
	},
		resource.TestStep{
			Config: roles(true),
			Check: func(*terraform.State) error {
				// As the admin: a schema the owner role owns, a table of it, and
				// privileges for the reader, directly and by default privileges.
				conn := adminConn(t, db)
				mustExec(t, conn, "CREATE SCHEMA orders AUTHORIZATION "+ident(owner))
				mustExec(t, conn, "SET ROLE "+ident(owner))
				mustExec(t, conn, "CREATE TABLE orders.items (id int)")
				mustExec(t, conn, "GRANT USAGE ON SCHEMA orders TO "+ident(reader))
				mustExec(t, conn, "ALTER DEFAULT PRIVILEGES IN SCHEMA orders GRANT SELECT ON TABLES TO "+ident(reader))
				mustExec(t, conn, "CREATE TABLE orders.later (id int)")
				mustExec(t, conn, "RESET ROLE")
				mustExec(t, conn, "GRANT CONNECT ON DATABASE "+ident(db)+" TO "+ident(reader))
				n := dependencies(reader)
				observe(t, "shared dependencies of the reader before its destroy", "%d", n)
				if n < 4 {
					return fmt.Errorf("premise: the reader has %d dependencies, want at least 4", n)
				}
				return nil
			},
		},
		resource.TestStep{
			Config: roles(false),
			Check: func(*terraform.State) error {
				if roleExists(t, reader) || dependencies(reader) != 0 {
					return fmt.Errorf("the reader %q or its privileges are still there", reader)
				}
				return nil
			},
		},
	)
}
