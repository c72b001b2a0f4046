package emulator_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestRestrictedRoles: on every version, as on Azure (Learn, *Access
// management*), nobody but a superuser may add members to azure_pg_admin
// or alter it, and pg_write_all_data is never granted; the Entra admin's
// CREATEROLE does not reach them on PostgreSQL 15 either.
func TestRestrictedRoles(t *testing.T) {
	e := need(t)
	for _, who := range []struct {
		name string
		conn *pgx.Conn
	}{{"Entra admin", admin(t, "postgres")}, {"server admin", serverAdmin(t)}} {
		target := hostile("restricted-target")
		exec(t, who.conn, "CREATE ROLE "+pgx.Identifier{target}.Sanitize())
		q := pgx.Identifier{target}.Sanitize()
		_, err := who.conn.Exec(testCtx(t), "GRANT "+q+" TO azure_pg_admin")
		pgErr(t, err, "42501", `permission denied to alter restricted role "azure_pg_admin"`)
		_, err = who.conn.Exec(testCtx(t), "ALTER ROLE azure_pg_admin CONNECTION LIMIT 5")
		pgErr(t, err, "42501", `permission denied to alter restricted role "azure_pg_admin"`)
		_, err = who.conn.Exec(testCtx(t), "GRANT pg_write_all_data TO "+q)
		pgErr(t, err, "42501", `permission denied to grant role "pg_write_all_data"`)
		if n := scalar[int](t, super(t, "postgres"), `SELECT count(*) FROM pg_auth_members m
			WHERE m.member = $1::regrole OR m.roleid = $1::regrole AND m.member = 'azure_pg_admin'::regrole`, q); n != 0 {
			// The creator's implicit grant (16+) is on the other side: member = creator.
			t.Errorf("%s: %d membership rows left for %s", who.name, n, target)
		}
		exec(t, who.conn, "DROP ROLE "+q)
	}
	_ = e
}

// TestAzurePGAdminManagesRoles: the azure_pg_admin enhancement. The Entra
// admin alters, labels, grants and drops a principal that
// pgaadauth_create_principal made (its creator is the bootstrap superuser)
// and a role that the server admin made, on every version; on 16+ this is
// Azure's enhancement (vanilla PostgreSQL 16 refuses all four without ADMIN
// OPTION). What it does not reach: predefined roles on 16+ (GUESS), and the
// objects of other roles (GUESS: "access objects" is not modelled).
func TestAzurePGAdminManagesRoles(t *testing.T) {
	e := need(t)
	ent := admin(t, "postgres")
	major := e.PGMajor()
	u := addObject(t, "user", hostile("enh-principal")+"@contoso.com")
	exec(t, ent, "SELECT pgaadauth_create_principal($1, false, false)", u.Name)
	p := pgx.Identifier{u.Name}.Sanitize()
	pw := serverAdmin(t)
	other := hostile("enh-other")
	o := pgx.Identifier{other}.Sanitize()
	exec(t, pw, "CREATE ROLE "+o)

	for _, sql := range []string{
		"ALTER ROLE " + p + " CONNECTION LIMIT 7",
		"COMMENT ON ROLE " + p + " IS 'managed'",
		"SECURITY LABEL FOR pgaadauth ON ROLE " + p + " IS 'aadauth,mfa'",
		"GRANT azure_pg_admin TO " + p,
		"REVOKE azure_pg_admin FROM " + p,
		"GRANT " + o + " TO " + p,
		"ALTER ROLE " + o + " CONNECTION LIMIT 3",
		"REVOKE " + o + " FROM " + p,
	} {
		exec(t, ent, sql)
	}
	if n := scalar[int](t, ent, "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", u.Name); n != 7 {
		t.Fatalf("connection limit %d after ALTER ROLE", n)
	}
	if n := scalar[int](t, ent, "SELECT count(*) FROM pg_auth_members WHERE member = $1::regrole", p); n != 0 {
		t.Fatalf("%d memberships left after the REVOKEs", n)
	}
	// Never the attributes only a superuser may give.
	_, err := ent.Exec(testCtx(t), "ALTER ROLE "+p+" SUPERUSER")
	if err == nil {
		t.Fatal("the Entra admin made a role a superuser")
	}

	_, err = ent.Exec(testCtx(t), "GRANT pg_read_all_data TO "+o)
	if major >= 16 {
		// GUESS: predefined roles are restricted; PostgreSQL 16's own rule applies.
		pgErr(t, err, "42501", `permission denied to grant role "pg_read_all_data"`)
	} else if err != nil {
		t.Fatalf("PostgreSQL 15: CREATEROLE grants predefined roles: %v", err)
	}

	// The objects of another role: not reached (GUESS, see pgaadauth_emulator.c).
	db := newDatabase(t)
	pwdb := mustOpen(t, e.URL(emulator.ServerAdmin, e.ServerAdminPassword(), db))
	exec(t, pwdb, "CREATE TABLE owned_by_server_admin (id int)")
	entdb := admin(t, db)
	_, err = entdb.Exec(testCtx(t), "GRANT SELECT ON owned_by_server_admin TO "+o)
	pgErr(t, err, "42501", "permission denied for table owned_by_server_admin")

	exec(t, ent, "DROP ROLE "+o)
	exec(t, ent, "DROP ROLE "+p)
}

// TestPublicSchemaOwner: azure_pg_admin owns the public schema of every
// database, on every version (Learn, *Access management*).
func TestPublicSchemaOwner(t *testing.T) {
	e := need(t)
	db := newDatabase(t)
	for _, d := range []string{"postgres", db} {
		conn := mustOpen(t, e.SuperuserURL(d))
		if owner := scalar[string](t, conn, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'"); owner != "azure_pg_admin" {
			t.Errorf("%s: public belongs to %s, want azure_pg_admin", d, owner)
		}
	}
}

// TestAzurePGAdminCurrentUser: a statement run under the enhancement (as
// the bootstrap superuser) still reads CURRENT_USER as the caller: GRANT r
// TO CURRENT_USER makes the Entra admin the member, and ALTER ROLE
// CURRENT_USER alters the Entra admin, never the superuser.
func TestAzurePGAdminCurrentUser(t *testing.T) {
	need(t)
	ent := admin(t, "postgres")
	u := addObject(t, "user", hostile("cu-principal")+"@contoso.com")
	exec(t, ent, "SELECT pgaadauth_create_principal($1, false, false)", u.Name)
	p := pgx.Identifier{u.Name}.Sanitize()
	exec(t, ent, "GRANT "+p+" TO CURRENT_USER")
	if !scalar[bool](t, ent, "SELECT pg_has_role(current_user, $1::regrole, 'MEMBER')", p) {
		t.Fatal("GRANT .. TO CURRENT_USER did not make the Entra admin a member")
	}
	if n := scalar[int](t, ent, "SELECT count(*) FROM pg_auth_members WHERE roleid = $1::regrole AND member <> current_user::regrole", p); n != 0 {
		t.Fatalf("GRANT .. TO CURRENT_USER made %d other roles members", n)
	}
	exec(t, ent, "REVOKE "+p+" FROM CURRENT_USER")
	exec(t, ent, "ALTER ROLE CURRENT_USER CONNECTION LIMIT 42")
	if n := scalar[int](t, ent, "SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user"); n != 42 {
		t.Fatalf("the Entra admin's connection limit is %d after ALTER ROLE CURRENT_USER", n)
	}
	if n := scalar[int](t, super(t, "postgres"), "SELECT rolconnlimit FROM pg_roles WHERE oid = 10"); n != -1 {
		t.Fatalf("ALTER ROLE CURRENT_USER altered the bootstrap superuser (connection limit %d)", n)
	}
	exec(t, ent, "ALTER ROLE CURRENT_USER CONNECTION LIMIT -1")
	exec(t, ent, "DROP ROLE "+p)
}
