package emulator_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestOwnersAsOnAzure: the postgres database belongs to azure_pg_admin, a
// database made by the control plane and the objects that the password
// admin creates belong to the password admin, and the Entra admin (not a
// superuser, a member of azure_pg_admin, not of the password admin) may
// not grant on them until it is made a member of their owner; then it
// grants with SET ROLE.
func TestOwnersAsOnAzure(t *testing.T) {
	e := need(t)
	ent := admin(t, "postgres")
	if owner := scalar[string](t, ent, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = 'postgres'"); owner != "azure_pg_admin" {
		t.Fatalf("postgres is owned by %q", owner)
	}
	var isSuper, inAzureAdmin, inServerAdmin bool
	if err := ent.QueryRow(testCtx(t), `SELECT rolsuper, pg_has_role(current_user, 'azure_pg_admin', 'member'),
		pg_has_role(current_user, $1, 'member') FROM pg_roles WHERE rolname = current_user`, emulator.ServerAdmin).
		Scan(&isSuper, &inAzureAdmin, &inServerAdmin); err != nil {
		t.Fatal(err)
	}
	if isSuper || !inAzureAdmin || inServerAdmin {
		t.Fatalf("Entra admin: superuser %v, in azure_pg_admin %v, in %s %v; want false, true, false",
			isSuper, inAzureAdmin, emulator.ServerAdmin, inServerAdmin)
	}

	// A database as azurerm makes it: the server admin owns it and its public schema.
	db := hostile("arm db")
	if err := e.CreateDatabase(testCtx(t), db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec(t, super(t, "postgres"), "DROP DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)") })
	pw := mustOpen(t, e.URL(emulator.ServerAdmin, e.ServerAdminPassword(), db))
	if owner := scalar[string](t, pw, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()"); owner != emulator.ServerAdmin {
		t.Fatalf("database owned by %q, want %s", owner, emulator.ServerAdmin)
	}
	schema, table := hostile("sales"), hostile("orders")
	qualified := pgx.Identifier{schema, table}.Sanitize()
	exec(t, pw, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	exec(t, pw, "CREATE TABLE "+qualified+" (id int)")
	if owner := scalar[string](t, pw, "SELECT relowner::regrole::text FROM pg_class WHERE oid = $1::regclass", qualified); owner != emulator.ServerAdmin {
		t.Fatalf("table owned by %q, want %s", owner, emulator.ServerAdmin)
	}

	ent = admin(t, db)
	_, err := ent.Exec(testCtx(t), "CREATE SCHEMA entra_try")
	pgErr(t, err, "42501", `permission denied for database `+db)
	_, err = ent.Exec(testCtx(t), "GRANT SELECT ON "+qualified+" TO azure_pg_admin")
	pgErr(t, err, "42501", "permission denied for schema "+schema)

	// Made a member of the owner (PostgreSQL 15: CREATEROLE lets the Entra
	// admin do this itself; 16+ needs the owner's ADMIN OPTION), it grants
	// as the owner.
	exec(t, pw, "GRANT "+pgx.Identifier{emulator.ServerAdmin}.Sanitize()+" TO "+pgx.Identifier{e.AdminName()}.Sanitize())
	t.Cleanup(func() {
		exec(t, super(t, "postgres"), "REVOKE "+pgx.Identifier{emulator.ServerAdmin}.Sanitize()+" FROM "+pgx.Identifier{e.AdminName()}.Sanitize())
	})
	tx, err := ent.Begin(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	exec(t, tx.Conn(), "SET LOCAL ROLE "+pgx.Identifier{emulator.ServerAdmin}.Sanitize())
	exec(t, tx.Conn(), "GRANT SELECT ON "+qualified+" TO azure_pg_admin")
	if err := tx.Commit(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if ok := scalar[bool](t, pw, "SELECT has_table_privilege('azure_pg_admin', $1, 'SELECT')", qualified); !ok {
		t.Fatal("the grant made as the owner did not take")
	}
}
