package emulator_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// labels returns a role's security labels by provider ("" when absent).
func labels(t *testing.T, role string) (pgaadauth, pgaadauthInt string) {
	t.Helper()
	rows, err := super(t, "postgres").Query(testCtx(t), `SELECT s.provider, s.label FROM pg_shseclabel s
		JOIN pg_roles r ON r.oid = s.objoid AND s.classoid = 'pg_authid'::regclass WHERE r.rolname = $1`, role)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var provider, label string
		if err := rows.Scan(&provider, &label); err != nil {
			t.Fatal(err)
		}
		switch provider {
		case "pgaadauth":
			pgaadauth = label
		case "pgaadauth-int":
			pgaadauthInt = label
		default:
			t.Errorf("unexpected label provider %q on %q", provider, role)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pgaadauth, pgaadauthInt
}

type roleFacts struct {
	exists, login, createRole, createDB, super, inAdmin bool
}

func role(t *testing.T, name string) roleFacts {
	t.Helper()
	var f roleFacts
	err := super(t, "postgres").QueryRow(testCtx(t), `SELECT true, rolcanlogin, rolcreaterole, rolcreatedb, rolsuper,
		pg_has_role(oid, 'azure_pg_admin', 'member') FROM pg_roles WHERE rolname = $1`, name).
		Scan(&f.exists, &f.login, &f.createRole, &f.createDB, &f.super, &f.inAdmin)
	if errors.Is(err, pgx.ErrNoRows) {
		return roleFacts{}
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func addObject(t *testing.T, kind, name string) emulator.Object {
	t.Helper()
	o, err := need(t).AddObject(testCtx(t), emulator.Object{Kind: kind, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestCreatePrincipal(t *testing.T) {
	e := need(t)
	conn := admin(t, "postgres")
	tid := e.TenantID()

	cases := []struct {
		kind, name, wantType string
		isAdmin, isMfa       bool
	}{
		{"user", uniq("user") + "@contoso.com", "user", false, false},
		{"user", hostile("Ünïcødé") + "@contoso.com", "user", false, true},
		{"group", hostile("Group"), "group", true, false},
		{"service_principal", uniq("plain_sp_"), "service", false, false},
		{"managed_identity", hostile("mi"), "service", true, true},
	}
	for _, c := range cases {
		t.Run(c.kind+" "+c.name, func(t *testing.T) {
			o := addObject(t, c.kind, c.name)
			got := scalar[string](t, conn, "SELECT pgaadauth_create_principal($1, $2, $3)", c.name, c.isAdmin, c.isMfa)
			if want := "Created role for " + quoteIdent(c.name); got != want {
				t.Errorf("returned %q, want %q", got, want)
			}
			f := role(t, c.name)
			if !f.exists || !f.login || f.super {
				t.Fatalf("role %q: %+v, want an existing login, not a superuser", c.name, f)
			}
			if f.inAdmin != c.isAdmin || f.createRole != c.isAdmin || f.createDB != c.isAdmin {
				t.Errorf("role %q: %+v; admin %v should give azure_pg_admin, CREATEROLE and CREATEDB", c.name, f, c.isAdmin)
			}
			wantLabel, wantInt := "aadauth", fmt.Sprintf("type=%s,oid=%s,tenant_id=%s", c.wantType, o.ObjectID, tid)
			if c.isAdmin {
				wantLabel += ",admin"
				wantInt += ",admin"
			}
			if c.isMfa {
				wantLabel += ",mfa"
			}
			if l, li := labels(t, c.name); l != wantLabel || li != wantInt {
				t.Errorf("labels %q / %q, want %q / %q", l, li, wantLabel, wantInt)
			}
			// Not idempotent.
			_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal($1, false, false)", c.name)
			pgErr(t, err, "42710", `role "`+c.name+`" already exists`)
		})
	}

	t.Run("name not in the tenant", func(t *testing.T) {
		name := hostile("nobody") + "@contoso.com"
		_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal($1, false, false)", name)
		// Azure's text, verbatim, with the name; the SQLSTATE is the emulator's guess (XX000).
		pe := serverError(t, err, "XX000", "Could not validate AAD user "+name+
			" because its name is not found in the tenant. Make sure that the user exists in the tenant.")
		if !strings.HasPrefix(pe.Message, "Could not validate AAD user "+name+" because its name is not found in the tenant. ") {
			t.Errorf("message %q does not start as Azure's does", pe.Message)
		}
		if role(t, name).exists {
			t.Error("a role was created")
		}
	})

	t.Run("names are case-sensitive", func(t *testing.T) {
		name := uniq("casey") + "@contoso.com"
		addObject(t, "user", name)
		upper := strings.ToUpper(name)
		_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal($1, false, false)", upper)
		pgErr(t, err, "XX000", "Could not validate AAD user "+upper+
			" because its name is not found in the tenant. Make sure that the user exists in the tenant.")
	})

	t.Run("ambiguous name", func(t *testing.T) {
		t.Cleanup(func() { exec(t, super(t, "postgres"), `DROP ROLE IF EXISTS "Shared Name"`) })
		_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal('Shared Name', false, false)")
		pe := serverError(t, err, "0LP01", "")
		if !strings.HasPrefix(pe.Message, "Could not validate AAD user Shared Name because ") {
			t.Errorf("message %q does not name the principal", pe.Message)
		}
		if role(t, "Shared Name").exists {
			t.Error("a role was created for an ambiguous name")
		}
		// A name shared by a new object becomes ambiguous too.
		name := hostile("twin")
		addObject(t, "group", name)
		addObject(t, "service_principal", name)
		_, err = conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal($1, false, false)", name)
		pgErr(t, err, "0LP01", "")
		// With the object id it works, whatever the shared name.
		o, _ := e.Object("Shared Name")
		got := scalar[string](t, conn, "SELECT pgaadauth_create_principal_with_oid('Shared Name', $1, $2, false, false)", o.ObjectID, o.ObjectType())
		if got != `Created role for "Shared Name"` {
			t.Errorf("with_oid returned %q", got)
		}
	})

	t.Run("validation failure", func(t *testing.T) {
		_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal('broken@contoso.com', false, false)")
		pgErr(t, err, "0LP01", "An unexpected error occurred while trying to validate user")
		if role(t, "broken@contoso.com").exists {
			t.Error("a role was created")
		}
	})
}

func TestCreatePrincipalWithOID(t *testing.T) {
	e := need(t)
	conn := admin(t, "postgres")

	// The name is free: not looked up, up to 63 bytes, anything goes.
	name := hostile("free name ")
	name += strings.Repeat("é", (63-len(name))/2)
	name += strings.Repeat("x", 63-len(name))
	if len(name) != 63 {
		t.Fatalf("name is %d bytes", len(name))
	}
	// The object is in the directory (its display name differs from the role name).
	oid := addObject(t, "managed_identity", hostile("with-oid mi")).ObjectID
	got := scalar[string](t, conn, "SELECT pgaadauth_create_principal_with_oid($1, $2, 'service', true, false)", name, oid)
	if want := "Created role for " + quoteIdent(name); got != want {
		t.Errorf("returned %q, want %q", got, want)
	}
	if l, li := labels(t, name); l != "aadauth,admin" || li != "type=service,oid="+oid+",tenant_id="+e.TenantID()+",admin" {
		t.Errorf("labels %q / %q", l, li)
	}
	if f := role(t, name); !f.inAdmin || !f.login {
		t.Errorf("role: %+v", f)
	}

	for _, typ := range []string{"user", "group"} {
		n := hostile(typ)
		kind := typ
		scalar[string](t, conn, "SELECT pgaadauth_create_principal_with_oid($1, $2, $3, false, true)", n, addObject(t, kind, hostile("obj")).ObjectID, typ)
		if l, li := labels(t, n); l != "aadauth,mfa" || !strings.HasPrefix(li, "type="+typ+",oid=") {
			t.Errorf("%s labels %q / %q", typ, l, li)
		}
	}

	t.Run("bad object type", func(t *testing.T) {
		for _, typ := range []any{"app", "Service", "managed_identity", "", nil} {
			n := hostile("badtype")
			_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal_with_oid($1, $2, $3, false, false)", n, uuid.NewString(), typ)
			pgErr(t, err, "XX000", "incorrect object type provided for principal")
			if role(t, n).exists {
				t.Errorf("type %v: a role was created", typ)
			}
		}
	})

	t.Run("object id not a uuid", func(t *testing.T) {
		n := hostile("badoid")
		_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal_with_oid($1, 'not-a-uuid', 'user', false, false)", n)
		// Azure does not document this error; the emulator rejects it as bad uuid input.
		pgErr(t, err, "22P02", `invalid input syntax for type uuid: "not-a-uuid"`)
		if role(t, n).exists {
			t.Error("a role was created")
		}
	})

	t.Run("existing role", func(t *testing.T) {
		_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal_with_oid($1, $2, 'user', false, false)", name, addObject(t, "user", hostile("u")).ObjectID)
		pgErr(t, err, "42710", `role "`+name+`" already exists`)
	})
}

type listed struct {
	name, typ, oid, tenant string
	mfa, admin             int
}

func listPrincipals(t *testing.T, conn *pgx.Conn, adminsOnly bool) map[string]listed {
	t.Helper()
	// By position: the first column is rolname or rolename depending on the server version.
	rows, err := conn.Query(testCtx(t), "SELECT * FROM pgaadauth_list_principals($1)", adminsOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]listed{}
	for rows.Next() {
		var l listed
		var typ, oid, tenant *string
		if err := rows.Scan(&l.name, &typ, &oid, &tenant, &l.mfa, &l.admin); err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			dst *string
			src *string
		}{{&l.typ, typ}, {&l.oid, oid}, {&l.tenant, tenant}} {
			if p.src != nil {
				*p.dst = *p.src
			}
		}
		out[l.name] = l
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestListPrincipals(t *testing.T) {
	e := need(t)
	conn := admin(t, "postgres")
	su := super(t, "postgres")
	tid := e.TenantID()

	// Column names and types as Azure's.
	rows, err := conn.Query(testCtx(t), "SELECT * FROM pgaadauth_list_principals(false) LIMIT 0")
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	rows.Close()
	if got := strings.Join(cols, ","); got != "rolname,principaltype,objectid,tenantid,ismfa,isadmin" {
		t.Errorf("columns %s", got)
	}

	user := addObject(t, "user", hostile("lister")+"@contoso.com")
	scalar[string](t, conn, "SELECT pgaadauth_create_principal($1, false, true)", user.Name)
	group := addObject(t, "group", hostile("listed group"))
	scalar[string](t, conn, "SELECT pgaadauth_create_principal($1, true, false)", group.Name)

	// The older single-label form, written by hand as the superuser.
	oldAdmin, oldAdminOID := hostile("legacy admin"), uuid.NewString()
	oldPlain, oldPlainOID := hostile("legacy"), uuid.NewString()
	for _, r := range []struct{ name, label string }{
		{oldAdmin, "aadauth,oid=" + oldAdminOID + ",type=group,admin"},
		{oldPlain, "aadauth,oid=" + oldPlainOID + ",type=service"},
	} {
		exec(t, su, "CREATE ROLE "+pgx.Identifier{r.name}.Sanitize()+" LOGIN")
		exec(t, su, fmt.Sprintf("SECURITY LABEL FOR pgaadauth ON ROLE %s IS %s", pgx.Identifier{r.name}.Sanitize(), literal(r.label)))
	}
	// Roles that are not Entra principals are not listed.
	plain, _ := newLogin(t)
	intOnly := hostile("int only")
	exec(t, su, "CREATE ROLE "+pgx.Identifier{intOnly}.Sanitize())
	exec(t, su, fmt.Sprintf(`SECURITY LABEL FOR "pgaadauth-int" ON ROLE %s IS %s`, pgx.Identifier{intOnly}.Sanitize(),
		literal("type=user,oid="+uuid.NewString()+",tenant_id="+tid)))

	all := listPrincipals(t, conn, false)
	want := map[string]listed{
		user.Name:     {user.Name, "user", user.ObjectID, tid, 1, 0},
		group.Name:    {group.Name, "group", group.ObjectID, tid, 0, 1},
		oldAdmin:      {oldAdmin, "group", oldAdminOID, "", 0, 1},
		oldPlain:      {oldPlain, "service", oldPlainOID, "", 0, 0},
		e.AdminName(): {e.AdminName(), "service", mustObject(t, e.AdminName()).ObjectID, tid, 0, 1},
	}
	for name, w := range want {
		if got, ok := all[name]; !ok || got != w {
			t.Errorf("list_principals(false)[%q] = %+v (listed %v), want %+v", name, got, ok, w)
		}
	}
	for _, name := range []string{plain, intOnly, emulator.ServerAdmin, emulator.Superuser} {
		if _, ok := all[name]; ok {
			t.Errorf("list_principals(false) lists %q, which is not an Entra principal", name)
		}
	}

	admins := listPrincipals(t, conn, true)
	for name, w := range want {
		_, ok := admins[name]
		if ok != (w.admin == 1) {
			t.Errorf("list_principals(true): %q listed %v, want %v", name, ok, w.admin == 1)
		}
	}
	for name, l := range admins {
		if l.admin != 1 {
			t.Errorf("list_principals(true) lists non-admin %q", name)
		}
	}

	// Labels go with the role.
	exec(t, su, "DROP ROLE "+pgx.Identifier{oldPlain}.Sanitize())
	if _, ok := listPrincipals(t, conn, false)[oldPlain]; ok {
		t.Error("a dropped role is still listed")
	}
}

func mustObject(t *testing.T, name string) emulator.Object {
	t.Helper()
	o, ok := need(t).Object(name)
	if !ok {
		t.Fatalf("%q is not in the tenant", name)
	}
	return o
}

// The functions exist only in the postgres database.
func TestFunctionsOnlyInPostgres(t *testing.T) {
	db := newDatabase(t)
	for _, conn := range []*pgx.Conn{admin(t, db), super(t, db), super(t, "template1")} {
		for _, c := range []struct{ call, sig string }{
			{"pgaadauth_create_principal('alice@contoso.com', false, false)", "pgaadauth_create_principal(unknown, boolean, boolean)"},
			{"pgaadauth_create_principal_with_oid('x', '6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05', 'user', false, false)",
				"pgaadauth_create_principal_with_oid(unknown, unknown, unknown, boolean, boolean)"},
			{"pgaadauth_list_principals(false)", "pgaadauth_list_principals(boolean)"},
		} {
			_, err := conn.Exec(testCtx(t), "SELECT "+c.call)
			pgErr(t, err, "42883", "function "+c.sig+" does not exist")
		}
	}
	if role(t, "alice@contoso.com").exists {
		t.Error("a role was created")
	}
}

// Only members of azure_pg_admin may call the functions: a password login and
// an Entra principal that is not an admin get 42501.
func TestNonAdminDenied(t *testing.T) {
	e := need(t)
	plain, pw := newLogin(t)

	mi := addObject(t, "managed_identity", hostile("non-admin mi"))
	scalar[string](t, admin(t, "postgres"), "SELECT pgaadauth_create_principal($1, false, false)", mi.Name)
	tok, err := e.IssueToken(testCtx(t), resourcePublic, mi.ClientID)
	if err != nil {
		t.Fatal(err)
	}

	for who, url := range map[string]string{
		"password login":  e.URL(plain, pw, "postgres"),
		"Entra non-admin": e.URL(mi.Name, tok.Value, "postgres"),
	} {
		conn := mustOpen(t, url)
		for _, c := range []struct{ call, fn string }{
			{"pgaadauth_create_principal('alice@contoso.com', false, false)", "pgaadauth_create_principal"},
			{"pgaadauth_create_principal_with_oid('x', '6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05', 'user', true, false)", "pgaadauth_create_principal_with_oid"},
			{"pgaadauth_list_principals(false)", "pgaadauth_list_principals"},
		} {
			_, err := conn.Exec(testCtx(t), "SELECT "+c.call)
			if err == nil {
				t.Errorf("%s: %s succeeded", who, c.call)
				continue
			}
			pgErr(t, err, "42501", "permission denied for function "+c.fn)
		}
		// Nor may they reach the emulator's directory or its helper.
		_, err := conn.Exec(testCtx(t), "SELECT azure_emulator.create_role('x', 'user', gen_random_uuid(), true, false)")
		pgErr(t, err, "42501", "permission denied for schema azure_emulator")
	}
	if role(t, "alice@contoso.com").exists || role(t, "x").exists {
		t.Error("a non-admin created a role")
	}
}
