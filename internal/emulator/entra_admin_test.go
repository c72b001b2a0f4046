package emulator_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

func serverAdmin(t *testing.T) *pgx.Conn {
	t.Helper()
	e := need(t)
	return mustOpen(t, e.URL(emulator.ServerAdmin, e.ServerAdminPassword(), "postgres"))
}

// Only Entra administrators create Entra principals: the password server
// admin, a member of azure_pg_admin, gets 42501 from both functions, and
// neither a role nor a label is left behind.
func TestPasswordAdminCannotCreatePrincipals(t *testing.T) {
	conn := serverAdmin(t)
	u := addObject(t, "user", hostile("pw-admin-target")+"@contoso.com")
	for _, c := range []struct {
		call string
		args []any
		fn   string
	}{
		{"SELECT pgaadauth_create_principal($1, false, false)", []any{u.Name}, "pgaadauth_create_principal"},
		{"SELECT pgaadauth_create_principal($1, true, false)", []any{u.Name}, "pgaadauth_create_principal"},
		{"SELECT pgaadauth_create_principal_with_oid($1, $2, 'user', false, false)", []any{u.Name, u.ObjectID}, "pgaadauth_create_principal_with_oid"},
		// Even for an object the directory does not know: the caller is checked first.
		{"SELECT pgaadauth_create_principal_with_oid($1, $2, 'user', false, false)", []any{u.Name, uuid.NewString()}, "pgaadauth_create_principal_with_oid"},
	} {
		_, err := conn.Exec(testCtx(t), c.call, c.args...)
		pgErr(t, err, "42501", "permission denied for function "+c.fn)
	}
	if role(t, u.Name).exists {
		t.Fatal("the password admin created an Entra principal")
	}
	// It still lists them, and still manages plain roles of its own.
	if n := scalar[int](t, conn, "SELECT count(*) FROM pgaadauth_list_principals(true)"); n < 1 {
		t.Errorf("list_principals(true) returned %d rows", n)
	}
	plain := pgx.Identifier{hostile("pw-admin-plain")}.Sanitize()
	exec(t, conn, "CREATE ROLE "+plain)
	exec(t, conn, "DROP ROLE "+plain)

	// The Entra admin creates the same principal.
	if got := scalar[string](t, admin(t, "postgres"), "SELECT pgaadauth_create_principal($1, false, false)", u.Name); got != "Created role for "+quoteIdent(u.Name) {
		t.Errorf("the Entra admin got %q", got)
	}
}

// An Entra principal is dropped by an Entra administrator only; the password
// admin's DROP ROLE is refused (GUESS in pgaadauth_emulator.c) and the role
// and its labels stay.
func TestPasswordAdminCannotDropEntraRoles(t *testing.T) {
	pw := serverAdmin(t)
	ad := admin(t, "postgres")
	u := addObject(t, "group", hostile("drop-target"))
	scalar[string](t, ad, "SELECT pgaadauth_create_principal($1, false, false)", u.Name)

	for _, sql := range []string{"DROP ROLE %s", "DROP ROLE IF EXISTS %s"} {
		_, err := pw.Exec(testCtx(t), fmt.Sprintf(sql, pgx.Identifier{u.Name}.Sanitize()))
		pe := serverError(t, err, "42501", "permission denied to drop role")
		if want := `Role "` + u.Name + `" is a Microsoft Entra principal; only Microsoft Entra administrators may drop it.`; pe.Detail != want {
			t.Errorf("detail %q, want %q", pe.Detail, want)
		}
	}
	if l, _ := labels(t, u.Name); !role(t, u.Name).exists || l != "aadauth" {
		t.Fatalf("the role or its label is gone after a refused DROP ROLE (label %q)", l)
	}
	// A missing role is PostgreSQL's business, as before.
	exec(t, pw, "DROP ROLE IF EXISTS "+pgx.Identifier{hostile("never-there")}.Sanitize())

	exec(t, ad, "DROP ROLE "+pgx.Identifier{u.Name}.Sanitize())
	if role(t, u.Name).exists {
		t.Fatal("the Entra admin's DROP ROLE left the role")
	}
}

// An object id avoids the name lookup, not the directory: a known object
// whose type differs fails with Azure's text (MicrosoftDocs/azure-docs issue
// 102814); an unknown object id is refused (GUESS).
func TestCreatePrincipalWithOIDChecksDirectory(t *testing.T) {
	conn := admin(t, "postgres")
	mi := addObject(t, "managed_identity", hostile("typed mi"))
	for _, given := range []string{"user", "group", mi.ObjectID} {
		n := hostile("wrongtype")
		_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal_with_oid($1, $2, $3, false, false)", n, mi.ObjectID, given)
		pgErr(t, err, "XX000", fmt.Sprintf("incorrect object type provided for principal, given object type: '%s', actual object type: 'service'", given))
		if role(t, n).exists {
			t.Errorf("given type %q: a role was created", given)
		}
	}
	g := addObject(t, "group", hostile("typed group"))
	_, err := conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal_with_oid($1, $2, 'service', false, false)", hostile("g"), g.ObjectID)
	pgErr(t, err, "XX000", "incorrect object type provided for principal, given object type: 'service', actual object type: 'group'")

	n, oid := hostile("unknown oid"), uuid.NewString()
	_, err = conn.Exec(testCtx(t), "SELECT pgaadauth_create_principal_with_oid($1, $2, 'user', false, false)", n, oid)
	pgErr(t, err, "XX000", fmt.Sprintf("Could not validate AAD principal %s because its object id %s is not found in the tenant. Make sure that the principal exists in the tenant.", n, oid))
	if role(t, n).exists {
		t.Error("a role was created for an unknown object id")
	}
	// The right type works, whatever the role's name.
	n = hostile("right type")
	scalar[string](t, conn, "SELECT pgaadauth_create_principal_with_oid($1, $2, 'service', false, false)", n, mi.ObjectID)
	if _, li := labels(t, n); li == "" {
		t.Error("no pgaadauth-int label")
	}
}
