package live

// Azure's own role rules (CONTRIBUTING.md, "What the provider relies on, by
// version"), as the emulator models them in
// internal/emulator/pgext/pgaadauth_emulator.c and bootstrap.sql: what is
// documented (azure_pg_admin restricted, pg_write_all_data never granted,
// the public schema's owner, azure_pg_admin members managing nonrestricted
// roles on PostgreSQL 16+) and the GUESSes around it. Like guesses_test.go,
// each check asserts the emulator's answer and logs the server's in
// OBSERVED lines.

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// bootstrapSuperuser is the oid of the role initdb creates (azuresu on
// Azure, the emulator's superuser locally): PostgreSQL 16+ records it as the
// grantor of a superuser's grants.
const bootstrapSuperuser = 10

// expectRefused runs sql, logs what the server did, and checks that it was
// refused as the emulator refuses it: 42501 (every refusal here is a
// permission) with this message. It reports whether the server allowed it,
// for the caller to undo.
func expectRefused(t *testing.T, conn *pgx.Conn, what, sql, message string) (allowed bool) {
	t.Helper()
	const code = "42501"
	err := try(conn, sql)
	if err == nil {
		observe(t, fmt.Sprintf("PostgreSQL %d: %s", serverMajor, what), "allowed")
		t.Errorf("%s: allowed; the emulator refuses it with %s %q", what, code, message)
		return true
	}
	pe := pgError(t, what, err)
	observeError(t, fmt.Sprintf("PostgreSQL %d: %s", serverMajor, what), pe)
	if pe.Code != code || pe.Message != message {
		t.Errorf("%s: %s %q; the emulator says %s %q", what, pe.Code, pe.Message, code, message)
	}
	return false
}

// expectAllowed runs sql, logs what the server did, and checks that it ran.
func expectAllowed(t *testing.T, conn *pgx.Conn, what, sql string) bool {
	t.Helper()
	err := try(conn, sql)
	if err != nil {
		pe := pgError(t, what, err)
		observeError(t, fmt.Sprintf("PostgreSQL %d: %s", serverMajor, what), pe)
		t.Errorf("%s: refused (%s %q); the emulator allows it", what, pe.Code, pe.Message)
		return false
	}
	observe(t, fmt.Sprintf("PostgreSQL %d: %s", serverMajor, what), "allowed")
	return true
}

// hasAdminOption reports whether the Entra admin holds ADMIN OPTION on a
// role by a grant of its own (not through azure_pg_admin's enhancement).
func hasAdminOption(t *testing.T, conn *pgx.Conn, role string) bool {
	t.Helper()
	var admin bool
	queryRow(t, conn, `SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
		WHERE r.rolname = $1 AND m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND m.admin_option)`, []any{role}, &admin)
	return admin
}

// TestLiveAzureRoleRules checks, as the Entra admin, each rule of Azure's
// that the emulator models for azure_pg_admin and its members, and branches
// on the server's version (read by TestMain) where PostgreSQL 16 changed
// the rules: there the Entra admin manages a role it holds no ADMIN OPTION
// on only by Azure's "improved control for azure_pg_admin".
func TestLiveAzureRoleRules(t *testing.T) {
	admin := adminConn(t, "postgres")
	// A role the Entra admin creates; each check grants to it.
	plain := name(` plain "r"; é@`)
	dropRoleAtEnd(t, plain)
	mustExec(t, admin, "CREATE ROLE "+ident(plain)+" NOLOGIN")

	t.Run("azure_pg_admin is restricted", func(t *testing.T) {
		// Learn, Access management: the documented text, every version.
		const restricted = `permission denied to alter restricted role "azure_pg_admin"`
		if expectRefused(t, admin, "GRANT <role> TO azure_pg_admin", "GRANT "+ident(plain)+" TO azure_pg_admin", restricted) {
			_ = try(admin, "REVOKE "+ident(plain)+" FROM azure_pg_admin")
		}
		// Its own connection limit again: nothing changes should Azure allow it.
		var limit int
		queryRow(t, admin, `SELECT rolconnlimit FROM pg_roles WHERE rolname = 'azure_pg_admin'`, nil, &limit)
		expectRefused(t, admin, "ALTER ROLE azure_pg_admin", fmt.Sprintf("ALTER ROLE azure_pg_admin CONNECTION LIMIT %d", limit), restricted)
	})

	t.Run("pg_write_all_data is never granted", func(t *testing.T) {
		// Learn says it can never be granted; the text is the emulator's GUESS.
		if expectRefused(t, admin, "GRANT pg_write_all_data", "GRANT pg_write_all_data TO "+ident(plain),
			`permission denied to grant role "pg_write_all_data"`) {
			_ = try(admin, "REVOKE pg_write_all_data FROM "+ident(plain))
		}
	})

	t.Run("public schema owner", func(t *testing.T) {
		// Learn: azure_pg_admin owns public on every version, in a new
		// database too (not pg_database_owner).
		db := newDatabase(t)
		for _, d := range []string{"postgres", db} {
			var owner string
			queryRow(t, adminConn(t, d), `SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'`, nil, &owner)
			observe(t, fmt.Sprintf("PostgreSQL %d: owner of the public schema in %q", serverMajor, d), "%s", owner)
			if owner != "azure_pg_admin" {
				t.Errorf("public in %q belongs to %s; the emulator (Learn) says azure_pg_admin", d, owner)
			}
		}
	})

	t.Run("predefined role", func(t *testing.T) {
		// GUESS: predefined roles are restricted, so on 16+ PostgreSQL's own
		// rule (ADMIN OPTION) applies; on 15 CREATEROLE grants them.
		sql := "GRANT pg_read_all_data TO " + ident(plain)
		if serverMajor >= 16 {
			if expectRefused(t, admin, "GRANT pg_read_all_data", sql, `permission denied to grant role "pg_read_all_data"`) {
				_ = try(admin, "REVOKE pg_read_all_data FROM "+ident(plain))
			}
			return
		}
		if expectAllowed(t, admin, "GRANT pg_read_all_data", sql) {
			mustExec(t, admin, "REVOKE pg_read_all_data FROM "+ident(plain))
		}
	})

	t.Run("principal made by pgaadauth", func(t *testing.T) {
		// pgaadauth_create_principal_with_oid runs as a superuser: on 16+
		// its caller gets no ADMIN OPTION on the new role, and may alter,
		// comment on, label, grant azure_pg_admin to and drop it only by the
		// enhancement (on 15 by CREATEROLE).
		p := hostileName()
		createByOID(t, p)
		byGrant := hasAdminOption(t, admin, p)
		observe(t, fmt.Sprintf("PostgreSQL %d: the Entra admin holds ADMIN OPTION on a principal it made with pgaadauth_create_principal_with_oid", serverMajor), "%v", byGrant)
		if byGrant {
			t.Errorf("the Entra admin holds ADMIN OPTION on %q; in the emulator the function's owner (a superuser) creates it and nobody gets a grant", p)
		}
		if expectAllowed(t, admin, "ALTER ROLE <principal> CONNECTION LIMIT", "ALTER ROLE "+ident(p)+" CONNECTION LIMIT 7") {
			var limit int
			queryRow(t, admin, `SELECT rolconnlimit FROM pg_roles WHERE rolname = $1`, []any{p}, &limit)
			if limit != 7 {
				t.Errorf("connection limit %d after ALTER ROLE, want 7", limit)
			}
		}
		if expectAllowed(t, admin, "COMMENT ON ROLE <principal>", "COMMENT ON ROLE "+ident(p)+" IS "+quoteLiteral("azpglive: "+p)) {
			var comment *string
			queryRow(t, admin, `SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1`, []any{p}, &comment)
			if comment == nil || *comment != "azpglive: "+p {
				t.Errorf("comment %v after COMMENT ON ROLE", comment)
			}
		}
		// The label it has, written again: the principal logs in as before.
		var label string
		queryRow(t, admin, `SELECT label FROM pg_shseclabel WHERE classoid = 'pg_authid'::regclass AND provider = 'pgaadauth'
			AND objoid = (SELECT oid FROM pg_roles WHERE rolname = $1)`, []any{p}, &label)
		expectAllowed(t, admin, "SECURITY LABEL FOR pgaadauth ON ROLE <principal>",
			`SECURITY LABEL FOR "pgaadauth" ON ROLE `+ident(p)+` IS `+quoteLiteral(label))
		// GUESS: the enhancement grants azure_pg_admin itself to a
		// nonrestricted role (Learn's training module: the server admin
		// grants it to the users it creates), and takes it back.
		if expectAllowed(t, admin, "GRANT azure_pg_admin TO <principal>", "GRANT azure_pg_admin TO "+ident(p)) {
			expectAllowed(t, admin, "REVOKE azure_pg_admin FROM <principal>", "REVOKE azure_pg_admin FROM "+ident(p))
			var member bool
			queryRow(t, admin, `SELECT pg_has_role($1, 'azure_pg_admin', 'MEMBER')`, []any{p}, &member)
			if member {
				t.Errorf("%q is still a member of azure_pg_admin after the REVOKE", p)
			}
		}
		if expectAllowed(t, admin, "DROP ROLE <principal>", "DROP ROLE "+ident(p)) && roleExists(t, p) {
			t.Errorf("%q exists after DROP ROLE", p)
		}
	})

	t.Run("role made by another admin", func(t *testing.T) {
		// A role the Entra admin holds no ADMIN OPTION on: one the password
		// admin made (on 16+ its creator holds the implicit grant), else a
		// principal pgaadauth made (a superuser is its creator).
		granted, madeBy := "", ""
		if env.PasswordAdmin != "" && env.Password != "" {
			granted, madeBy = name(` made by pw "r"; ø`), "the password admin"
			dropRoleAtEnd(t, granted) // by the Entra admin, should its creator's DROP fail
			pw := passwordAdmin(t, "postgres")
			mustExec(t, pw, "CREATE ROLE "+ident(granted)+" NOLOGIN")
			t.Cleanup(func() { _ = try(pw, "DROP ROLE IF EXISTS "+ident(granted)) })
		} else {
			need(t, "AZUREPG_LIVE_PASSWORD_ADMIN or AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
			granted, madeBy = name(` granted principal "r"; ø`), "pgaadauth_create_principal_with_oid"
			createByOID(t, granted)
		}
		byGrant := hasAdminOption(t, admin, granted)
		observe(t, fmt.Sprintf("PostgreSQL %d: the Entra admin holds ADMIN OPTION on a role made by %s", serverMajor, madeBy), "%v", byGrant)
		if byGrant {
			t.Errorf("the Entra admin holds ADMIN OPTION on %q, made by %s; the emulator gives it none", granted, madeBy)
		}
		if !expectAllowed(t, admin, "GRANT <role made by "+madeBy+"> TO <role>", "GRANT "+ident(granted)+" TO "+ident(plain)) {
			return
		}
		options := "m.admin_option, true, true"
		if serverMajor >= 16 {
			options = "m.admin_option, m.inherit_option, m.set_option"
		}
		ctx := t.Context()
		rows, err := admin.Query(ctx, `SELECT m.grantor::int, coalesce(pg_get_userbyid(m.grantor), ''), `+options+`
			FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
			WHERE r.rolname = $1 AND u.rolname = $2`, granted, plain)
		if err != nil {
			t.Fatal(err)
		}
		type grantRow struct {
			Grantor                  int
			GrantorName              string
			Admin, Inherit, SetRoles bool
		}
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[grantRow])
		if err != nil {
			t.Fatal(err)
		}
		observe(t, fmt.Sprintf("PostgreSQL %d: the grant the Entra admin made of a role made by %s", serverMajor, madeBy), "%+v", got)
		// GUESS on 16+: the enhancement records the bootstrap superuser as
		// grantor; on 15 PostgreSQL records the Entra admin.
		wantGrantor, wantName := bootstrapSuperuser, "the bootstrap superuser"
		if serverMajor < 16 {
			queryRow(t, admin, `SELECT oid::int FROM pg_roles WHERE rolname = current_user`, nil, &wantGrantor)
			wantName = "the Entra admin"
		}
		if len(got) != 1 || got[0].Grantor != wantGrantor || got[0].Admin || !got[0].Inherit || !got[0].SetRoles {
			t.Errorf("grants %+v; the emulator records one, grantor %s (oid %d), without ADMIN, with INHERIT and SET", got, wantName, wantGrantor)
		}
		// The REVOKE takes that grant back, whoever is recorded as its grantor.
		if expectAllowed(t, admin, "REVOKE <role made by "+madeBy+"> FROM <role>", "REVOKE "+ident(granted)+" FROM "+ident(plain)) {
			var left int
			queryRow(t, admin, `SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
				WHERE r.rolname = $1 AND u.rolname = $2`, []any{granted, plain}, &left)
			if left != 0 {
				t.Errorf("%d grants left after the REVOKE; the emulator's REVOKE takes back the one it made", left)
			}
		}
	})

	t.Run("objects of another role", func(t *testing.T) {
		// GUESS: "access objects owned by any nonrestricted role" is not
		// modelled: on every version the Entra admin may neither grant on
		// the password admin's table, nor set its default privileges, nor
		// SET ROLE to it, without being a member.
		need(t, "AZUREPG_LIVE_PASSWORD_ADMIN", env.PasswordAdmin)
		need(t, "AZUREPG_LIVE_PASSWORD", env.Password)
		db := newDatabase(t)
		dbAdmin := adminConn(t, db)
		mustExec(t, dbAdmin, "GRANT CREATE, CONNECT ON DATABASE "+ident(db)+" TO "+ident(env.PasswordAdmin))
		pw := passwordAdmin(t, db)
		var member bool
		queryRow(t, dbAdmin, `SELECT pg_has_role(current_user, $1, 'MEMBER')`, []any{env.PasswordAdmin}, &member)
		if member {
			t.Fatalf("the Entra admin is a member of the password admin %q (left by TestLiveGrantOnPasswordAdminObjects?): REVOKE it and run again", env.PasswordAdmin)
		}
		table := `ledger "e"; é@`
		mustExec(t, pw, "CREATE SCHEMA ledger")
		mustExec(t, pw, "GRANT USAGE ON SCHEMA ledger TO "+ident(env.Admin))
		mustExec(t, pw, "CREATE TABLE ledger."+ident(table)+" (id int)")

		expectRefused(t, dbAdmin, "GRANT SELECT ON <the password admin's table>",
			"GRANT SELECT ON ledger."+ident(table)+" TO "+ident(plain), "permission denied for table "+table)

		adpMessage := "permission denied to change default privileges"
		if serverMajor < 16 {
			adpMessage = `must be member of role "` + env.PasswordAdmin + `"`
		}
		expectRefused(t, dbAdmin, "ALTER DEFAULT PRIVILEGES FOR ROLE <the password admin>",
			"ALTER DEFAULT PRIVILEGES FOR ROLE "+ident(env.PasswordAdmin)+" IN SCHEMA ledger GRANT SELECT ON TABLES TO "+ident(plain),
			adpMessage)

		if expectRefused(t, dbAdmin, "SET ROLE <the password admin>", "SET ROLE "+ident(env.PasswordAdmin),
			`permission denied to set role "`+env.PasswordAdmin+`"`) {
			mustExec(t, dbAdmin, "RESET ROLE")
		}
	})

	t.Run("createrole_self_grant", func(t *testing.T) {
		if serverMajor < 16 {
			t.Skipf("PostgreSQL %d has no createrole_self_grant, and gives a role's creator no grant", serverMajor)
		}
		// A public report says Azure sets it to 'set, inherit'
		// (cyrilgdn/terraform-provider-postgresql#483); GUESS: PostgreSQL's
		// default, empty.
		var setting string
		queryRow(t, admin, `SHOW createrole_self_grant`, nil, &setting)
		observe(t, fmt.Sprintf("PostgreSQL %d: createrole_self_grant", serverMajor), "%q", setting)
		if setting != "" {
			t.Errorf("createrole_self_grant is %q; the emulator keeps PostgreSQL's default ''", setting)
		}
		// What the Entra admin got when it created plain: with '' the
		// implicit grant, bootstrap superuser as grantor, ADMIN without
		// INHERIT or SET.
		var n, grantor int
		var adminOpt, inherit, set bool
		queryRow(t, admin, `SELECT count(*), coalesce(min(m.grantor::int), 0), coalesce(bool_or(m.admin_option), false),
			coalesce(bool_or(m.inherit_option), false), coalesce(bool_or(m.set_option), false)
			FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
			WHERE r.rolname = $1 AND m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)`, []any{plain}, &n, &grantor, &adminOpt, &inherit, &set)
		observe(t, fmt.Sprintf("PostgreSQL %d: the creator's grant of a role the Entra admin made", serverMajor),
			"%d grants, grantor oid %d, admin %v, inherit %v, set %v", n, grantor, adminOpt, inherit, set)
		if n != 1 || grantor != bootstrapSuperuser || !adminOpt || inherit || set {
			t.Errorf("the emulator gives the creator one grant: grantor oid %d, admin, no inherit, no set", bootstrapSuperuser)
		}
	})
}
