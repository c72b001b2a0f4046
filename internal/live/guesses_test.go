package live

// Confirm or refute what the emulator guesses and what section 5 of
// ../shared/spec/azure-postgres-entra.md infers from indirect sources. Each
// test asserts what the emulator does (a failure refutes the guess) and logs
// what the server did in "OBSERVED" lines, to paste back into the spec.

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/jackc/pgx/v5"
)

// serverVersion logs and returns the server's major version.
func serverVersion(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var num int
	var full string
	queryRow(t, conn, `SELECT current_setting('server_version_num')::int, version()`, nil, &num, &full)
	observe(t, "server version", "%s", full)
	return num / 10000
}

// TestLivePasswordAdminCreatePrincipalRefused: the password admin, a member
// of azure_pg_admin, may not create Entra principals (42501).
func TestLivePasswordAdminCreatePrincipalRefused(t *testing.T) {
	need(t, "AZUREPG_LIVE_PASSWORD_ADMIN", env.PasswordAdmin)
	need(t, "AZUREPG_LIVE_PASSWORD", env.Password)
	need(t, "AZUREPG_LIVE_MI_NAME", env.MIName)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := connectTo(ctx, env.Host, env.PasswordAdmin, env.Password, "postgres")
	if err != nil {
		t.Fatalf("logging in as the password admin %q: %v", env.PasswordAdmin, err)
	}
	defer conn.Close(ctx)
	var member bool
	queryRow(t, conn, `SELECT pg_has_role(current_user, 'azure_pg_admin', 'MEMBER')`, nil, &member)
	observe(t, "password admin is a member of azure_pg_admin", "%v", member)
	for _, call := range []struct{ sql, fn string }{
		{`SELECT pgaadauth_create_principal($1, false, false)`, "pgaadauth_create_principal"},
		{`SELECT pgaadauth_create_principal_with_oid($1, '00000000-0000-0000-0000-000000000000', 'service', false, false)`, "pgaadauth_create_principal_with_oid"},
	} {
		role := env.MIName
		if strings.Contains(call.fn, "oid") {
			role = name(" by password admin")
		}
		dropRoleAtEnd(t, role)
		err := try(conn, call.sql, role)
		if err == nil {
			t.Errorf("the password admin created %q with %s: the guess (Entra admins only) is refuted", role, call.fn)
			continue
		}
		pe := pgError(t, call.fn, err)
		observeError(t, call.fn+" as the password admin", pe)
		if want := "permission denied for function " + call.fn; pe.Code != "42501" || pe.Message != want {
			t.Errorf("%s as the password admin: %s %q, the emulator says 42501 %q", call.fn, pe.Code, pe.Message, want)
		}
	}
}

// TestLiveCreatePrincipalWithOIDWrongType: with_oid validates the object's
// type in the directory (MicrosoftDocs/azure-docs issue 102814).
func TestLiveCreatePrincipalWithOIDWrongType(t *testing.T) {
	need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
	role := name(" wrong type")
	dropRoleAtEnd(t, role)
	err := try(adminConn(t, "postgres"), `SELECT pgaadauth_create_principal_with_oid($1, $2, 'user', false, false)`, role, env.MIObjectID)
	if err == nil {
		t.Fatalf("a managed identity's object id was accepted as type 'user': the guess (the type is checked) is refuted")
	}
	pe := pgError(t, "with_oid, wrong type", err)
	observeError(t, "pgaadauth_create_principal_with_oid with type 'user' for a managed identity", pe)
	want := "incorrect object type provided for principal, given object type: 'user', actual object type: 'service'"
	if pe.Code != "XX000" || pe.Message != want {
		t.Errorf("got %s %q; the emulator says XX000 %q", pe.Code, pe.Message, want)
	}
}

// TestLiveCreatePrincipalUnknownName: the text and (guessed) SQLSTATE of a
// name that is not in the tenant.
func TestLiveCreatePrincipalUnknownName(t *testing.T) {
	role := name(" not in the tenant")
	dropRoleAtEnd(t, role)
	err := try(adminConn(t, "postgres"), `SELECT pgaadauth_create_principal($1, false, false)`, role)
	if err == nil {
		t.Fatalf("%q was created although no such name is in the tenant", role)
	}
	pe := pgError(t, "unknown name", err)
	observeError(t, "pgaadauth_create_principal of a name not in the tenant", pe)
	if !strings.HasPrefix(pe.Message, "Could not validate AAD user "+role+" because its name is not found in the tenant") {
		t.Errorf("message %q does not start as the emulator's", pe.Message)
	}
	if pe.Code != "XX000" {
		t.Errorf("SQLSTATE %s; the emulator guesses XX000", pe.Code)
	}
}

// localLogin creates a password role of this run (not in azure_pg_admin)
// and a database of this run where it may create, and logs in there. The
// database is dropped before the role, so the role's privileges and anything
// it created go first.
func localLogin(t *testing.T) (db string, conn *pgx.Conn) {
	t.Helper()
	need(t, "AZUREPG_LIVE_PASSWORD_ADMIN (password authentication enabled on the server)", env.PasswordAdmin)
	role, password := name("_local"), "Pw1-"+strings.ReplaceAll(prefix, "-", "")
	dropRoleAtEnd(t, role)
	mustExec(t, adminConn(t, "postgres"), "CREATE ROLE "+ident(role)+" LOGIN PASSWORD "+quoteLiteral(password))
	db = newDatabase(t)
	mustExec(t, adminConn(t, db), "GRANT CREATE, CONNECT ON DATABASE "+ident(db)+" TO "+ident(role))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := connectTo(ctx, env.Host, role, password, db)
	if err != nil {
		t.Fatalf("logging in as the local role %q: %v", role, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return db, conn
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestLiveExtensionRefusedForNonAdmin: CREATE and DROP EXTENSION only for
// azure_pg_admin members ("Errors with extensions").
func TestLiveExtensionRefusedForNonAdmin(t *testing.T) {
	db, conn := localLogin(t)
	err := try(conn, "CREATE EXTENSION azure_ai")
	if err == nil {
		t.Fatal("a role outside azure_pg_admin created azure_ai: the guess is refuted")
	}
	pe := pgError(t, "CREATE EXTENSION", err)
	observeError(t, "CREATE EXTENSION azure_ai by a role outside azure_pg_admin", pe)
	if !strings.Contains(pe.Message, `Only members of "azure_pg_admin" are allowed to use CREATE EXTENSION`) {
		t.Errorf("message %q lacks the documented text", pe.Message)
	}
	mustExec(t, adminConn(t, db), "CREATE EXTENSION azure_ai")
	err = try(conn, "DROP EXTENSION azure_ai")
	if err == nil {
		t.Fatal("a role outside azure_pg_admin dropped azure_ai: the guess is refuted")
	}
	pe = pgError(t, "DROP EXTENSION", err)
	observeError(t, "DROP EXTENSION azure_ai by a role outside azure_pg_admin", pe)
	if !strings.Contains(pe.Message, `Only members of "azure_pg_admin" are allowed to use DROP EXTENSION`) {
		t.Errorf("message %q lacks the documented text", pe.Message)
	}
}

// notAllowListed is an extension that Azure offers but that neither the
// guide's server nor the emulator allow-lists.
const notAllowListed = "tablefunc"

// TestLiveExtensionNotAllowListed: azure.extensions applies to CREATE and
// (documented, not shown by the docs' example) DROP.
func TestLiveExtensionNotAllowListed(t *testing.T) {
	db := newDatabase(t)
	conn := adminConn(t, db)
	var list string
	queryRow(t, conn, `SELECT current_setting('azure.extensions')`, nil, &list)
	observe(t, "azure.extensions", "%q", list)
	if strings.Contains(strings.ToLower(list), notAllowListed) {
		t.Skipf("%s is allow-listed on this server: the test needs it not to be", notAllowListed)
	}
	err := try(conn, "CREATE EXTENSION "+notAllowListed)
	if err == nil {
		t.Fatalf("%s was created although azure.extensions does not list it", notAllowListed)
	}
	pe := pgError(t, "CREATE EXTENSION", err)
	observeError(t, "CREATE EXTENSION of an extension not allow-listed", pe)
	if want := `extension "` + notAllowListed + `" is not allow-listed for "azure_pg_admin" users in Azure Database for PostgreSQL`; pe.Message != want {
		t.Errorf("message %q; the emulator says %q", pe.Message, want)
	}
	// Whether the allow-list is checked before "does not exist" is not documented.
	err = try(conn, "DROP EXTENSION "+notAllowListed)
	if err == nil {
		t.Fatalf("DROP EXTENSION %s (not installed, not allow-listed) succeeded", notAllowListed)
	}
	observeError(t, "DROP EXTENSION of an extension not allow-listed and not installed", pgError(t, "DROP EXTENSION", err))
}

// TestLiveAzureAIDefaultVersion: Azure ships one azure_ai version per major
// (1.3.1 on PostgreSQL 12-17, the version table of 2026-06).
func TestLiveAzureAIDefaultVersion(t *testing.T) {
	conn := adminConn(t, "postgres")
	major := serverVersion(t, conn)
	var def string
	queryRow(t, conn, `SELECT default_version FROM pg_available_extensions WHERE name = 'azure_ai'`, nil, &def)
	var versions []string
	queryRow(t, conn, `SELECT coalesce(array_agg(version ORDER BY version), '{}') FROM pg_available_extension_versions WHERE name = 'azure_ai'`, nil, &versions)
	observe(t, "azure_ai versions", "PostgreSQL %d: default %s, available %v", major, def, versions)
	if major >= 12 && major <= 17 && def != "1.3.1" {
		t.Errorf("azure_ai default version %s on PostgreSQL %d; the emulator ships 1.3.1", def, major)
	}
	if len(versions) != 1 {
		t.Errorf("azure_ai versions %v; the emulator ships one", versions)
	}
}

// TestLiveListPrincipalsColumns: the column names of pgaadauth_list_principals
// (rolname in some versions, rolename in newer docs).
func TestLiveListPrincipalsColumns(t *testing.T) {
	conn := adminConn(t, "postgres")
	rows, err := conn.Query(t.Context(), `SELECT * FROM pgaadauth_list_principals(false) LIMIT 0`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	observe(t, "pgaadauth_list_principals columns", "%v", cols)
	if len(cols) != 6 {
		t.Fatalf("%d columns %v; the provider reads six by position", len(cols), cols)
	}
	if want := "principaltype objectid tenantid ismfa isadmin"; strings.Join(cols[1:], " ") != want {
		t.Errorf("columns 2-6 are %v; the emulator has %s", cols[1:], want)
	}
}

// TestLivePostgresDatabaseOwner: the emulator guesses that azure_pg_admin
// owns the postgres database.
func TestLivePostgresDatabaseOwner(t *testing.T) {
	var owner string
	queryRow(t, adminConn(t, "postgres"), `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'postgres'`, nil, &owner)
	observe(t, "owner of the postgres database", "%q", owner)
	if owner != "azure_pg_admin" {
		t.Errorf("postgres is owned by %q; the emulator guesses azure_pg_admin", owner)
	}
}

// TestLiveSecurityLabelRelabel: the Entra admin may rewrite a principal's
// label (troubleshooting guides; the provider's in-place admin/mfa relies on it).
func TestLiveSecurityLabelRelabel(t *testing.T) {
	role := name(" relabel")
	createByOID(t, role, false)
	conn := adminConn(t, "postgres")
	labels := func() string {
		var s string
		queryRow(t, conn, `SELECT coalesce(string_agg(provider || '=' || label, ' | ' ORDER BY provider), '')
FROM pg_shseclabel WHERE classoid = 'pg_authid'::regclass AND objoid = $1::regrole`, []any{ident(role)}, &s)
		return s
	}
	observe(t, "labels of a principal created by with_oid", "%s", labels())
	err := try(conn, `SECURITY LABEL FOR "pgaadauth" ON ROLE `+ident(role)+` IS 'aadauth,mfa'`)
	if err != nil {
		pe := pgError(t, "relabel", err)
		observeError(t, "SECURITY LABEL FOR pgaadauth as the Entra admin", pe)
		t.Fatal("the Entra admin may not relabel: in-place admin/mfa changes cannot work as built")
	}
	observe(t, "labels after relabelling pgaadauth to 'aadauth,mfa'", "%s", labels())
	if p := listedPrincipal(t, conn, role); !p.Found || p.MFA != 1 {
		t.Errorf("after the relabel pgaadauth_list_principals shows %+v, want ismfa 1", p)
	}
}

// TestLiveHandGrantAzurePgAdmin: what a hand GRANT azure_pg_admin changes.
// The emulator guesses: membership and rights change, the label does not.
func TestLiveHandGrantAzurePgAdmin(t *testing.T) {
	role := name(" hand grant")
	createByOID(t, role, false)
	conn := adminConn(t, "postgres")
	mustExec(t, conn, "GRANT azure_pg_admin TO "+ident(role))
	var member, createRole, createDB bool
	queryRow(t, conn, `SELECT pg_has_role(oid, 'azure_pg_admin'::regrole, 'MEMBER'), rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1`,
		[]any{role}, &member, &createRole, &createDB)
	p := listedPrincipal(t, conn, role)
	observe(t, "after GRANT azure_pg_admin", "member %v, CREATEROLE %v, CREATEDB %v, list_principals isadmin %d", member, createRole, createDB, p.Admin)
	if !member || p.Admin != 0 {
		t.Errorf("member %v, isadmin %d; the emulator has member true, isadmin 0 (the label is unchanged)", member, p.Admin)
	}
	var executable bool
	queryRow(t, conn, `SELECT has_function_privilege($1, 'pgaadauth_create_principal(text, boolean, boolean)', 'EXECUTE')`, []any{role}, &executable)
	observe(t, "after GRANT azure_pg_admin, EXECUTE on pgaadauth_create_principal", "%v", executable)
}

// tokenRefusal logs in as the Entra admin with a password and returns the
// server's refusal.
func tokenRefusal(t *testing.T, what, user, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := connectTo(ctx, env.Host, user, password, "postgres")
	if err == nil {
		conn.Close(ctx)
		t.Fatalf("%s: the server accepted the log-in", what)
	}
	pe := pgError(t, what, err)
	observeError(t, "log-in with "+what, pe)
}

// TestLiveTokenMalformed: a password that is not a JWT ("... has invalid format ...").
func TestLiveTokenMalformed(t *testing.T) {
	tokenRefusal(t, "a password that is not a JWT", env.Admin, "not-a-jwt")
}

// TestLiveTokenWrongAudience: a token of the same identity for Azure
// Resource Manager ("... does not have a valid audience claim ..."). It
// comes from the Azure CLI, logged in as the admin identity (azure/login in CI).
func TestLiveTokenWrongAudience(t *testing.T) {
	if _, err := exec.LookPath("az"); err != nil {
		t.Skip("needs the Azure CLI (az), logged in as the Entra admin identity")
	}
	cred, err := azidentity.NewAzureCLICredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		t.Skipf("needs the Azure CLI logged in as the Entra admin identity: %v", err)
	}
	tokenRefusal(t, "a token for https://management.azure.com", env.Admin, tok.Token)
}

// TestLiveTokenUnknownOID: a valid token of the admin identity, presented
// for a role whose label carries another object id.
func TestLiveTokenUnknownOID(t *testing.T) {
	role := name(" other oid")
	createByOID(t, role, false)
	tok, err := tokens.Password(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tokenRefusal(t, "the admin's token for a role labelled with another object id", role, tok)
}

// TestLiveTokenExpired holds a real token past its expiry (up to 90 minutes)
// and logs in with it ("The access token has expired").
func TestLiveTokenExpired(t *testing.T) {
	if !env.HoldToken {
		t.Skip("needs AZUREPG_LIVE_HOLD_TOKEN=1 (waits for a token to expire)")
	}
	tok, err := tokens.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wait := time.Until(tok.ExpiresOn) + 2*time.Minute
	t.Logf("waiting %s for the token to expire", wait.Round(time.Second))
	time.Sleep(wait)
	tokenRefusal(t, "an expired token", env.Admin, tok.Value)
}
