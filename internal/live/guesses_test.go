package live

// Confirm or refute what the emulator guesses (the GUESS comments, and the
// table in CONTRIBUTING.md) from indirect sources. Each test asserts what the
// emulator does (a failure refutes the guess) and logs what the server did in
// "OBSERVED" lines, to quote when the emulator and its GUESS are corrected.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// passwordAdmin logs in to a database as the server's password admin.
func passwordAdmin(t *testing.T, database string) *pgx.Conn {
	t.Helper()
	need(t, "AZUREPG_LIVE_PASSWORD_ADMIN", env.PasswordAdmin)
	need(t, "AZUREPG_LIVE_PASSWORD", env.Password)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := connectTo(ctx, env.Host, env.PasswordAdmin, env.Password, database)
	if err != nil {
		t.Fatalf("logging in as the password admin %q: %v", env.PasswordAdmin, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestLiveCreatePrincipalAsPasswordAdmin: the password admin, a member of
// azure_pg_admin, may not create Entra principals (42501).
func TestLiveCreatePrincipalAsPasswordAdmin(t *testing.T) {
	need(t, "AZUREPG_LIVE_MI_NAME", env.MIName)
	conn := passwordAdmin(t, "postgres")
	var member bool
	queryRow(t, conn, `SELECT pg_has_role(current_user, 'azure_pg_admin', 'MEMBER')`, nil, &member)
	observe(t, "password admin is a member of azure_pg_admin", "%v", member)
	for _, call := range []struct{ sql, fn string }{
		{`SELECT pgaadauth_create_principal($1, false, false)`, "pgaadauth_create_principal"},
		{`SELECT pgaadauth_create_principal_with_oid($1, $2, 'service', false, false)`, "pgaadauth_create_principal_with_oid"},
	} {
		role, args := env.MIName, []any{env.MIName}
		if strings.Contains(call.fn, "oid") {
			need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
			role = name(" by password admin")
			args = []any{role, env.MIObjectID}
		}
		if roleExists(t, role) {
			t.Fatalf("role %q exists before the test: drop it (it is the suite's test identity)", role)
		}
		dropRoleAtEnd(t, role)
		err := try(conn, call.sql, args...)
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

// TestLiveDropEntraRoleAsPasswordAdmin: what DROP ROLE of an Entra
// principal does for the password admin (CREATEROLE, azure_pg_admin, not an
// Entra admin). The emulator refuses it.
func TestLiveDropEntraRoleAsPasswordAdmin(t *testing.T) {
	conn := passwordAdmin(t, "postgres")
	role := name(" dropped by password admin")
	createByOID(t, role)
	err := try(conn, "DROP ROLE "+ident(role))
	if err == nil {
		observe(t, "DROP ROLE of an Entra principal as the password admin", "allowed")
		t.Fatal("the password admin dropped an Entra principal: the emulator's guess (refused) is refuted")
	}
	pe := pgError(t, "DROP ROLE", err)
	observeError(t, "DROP ROLE of an Entra principal as the password admin", pe)
	if pe.Code != "42501" || pe.Message != "permission denied to drop role" {
		t.Errorf("got %s %q; the emulator says 42501 %q", pe.Code, pe.Message, "permission denied to drop role")
	}
}

// TestLiveCreatePrincipalUnknownObjectID: with_oid of an object id that is
// not in the directory (a typo, another tenant, an identity not replicated
// yet). Neither text nor SQLSTATE is documented.
func TestLiveCreatePrincipalUnknownObjectID(t *testing.T) {
	role := name(" unknown oid")
	dropRoleAtEnd(t, role)
	oid := uuid.NewString()
	err := try(adminConn(t, "postgres"), `SELECT pgaadauth_create_principal_with_oid($1, $2, 'service', false, false)`, role, oid)
	if err == nil {
		observe(t, "with_oid of an unknown object id", "created")
		t.Fatalf("%q was created for the random object id %s: the emulator's guess (refused) is refuted", role, oid)
	}
	pe := pgError(t, "unknown object id", err)
	observeError(t, "pgaadauth_create_principal_with_oid of an unknown object id", pe)
	want := "Could not validate AAD principal " + role + " because its object id " + oid + " is not found in the tenant"
	if pe.Code != "XX000" || !strings.HasPrefix(pe.Message, want) {
		t.Errorf("got %s %q; the emulator says XX000 %q...", pe.Code, pe.Message, want)
	}
}

// TestLiveCreatePrincipalBadObjectType: with_oid of an unknown object with a
// type that is none of user, group, service.
func TestLiveCreatePrincipalBadObjectType(t *testing.T) {
	role := name(" bad type")
	dropRoleAtEnd(t, role)
	err := try(adminConn(t, "postgres"), `SELECT pgaadauth_create_principal_with_oid($1, $2, 'application', false, false)`, role, uuid.NewString())
	if err == nil {
		t.Fatalf("%q was created with object type 'application'", role)
	}
	pe := pgError(t, "bad object type", err)
	observeError(t, "pgaadauth_create_principal_with_oid with type 'application' and an unknown object id", pe)
	if want := "incorrect object type provided for principal"; pe.Code != "XX000" || pe.Message != want {
		t.Errorf("got %s %q; the emulator says XX000 %q", pe.Code, pe.Message, want)
	}
}

// TestLiveCreatePrincipalAmbiguousName: pgaadauth_create_principal of a
// display name that several objects of the tenant share (undocumented).
func TestLiveCreatePrincipalAmbiguousName(t *testing.T) {
	need(t, "AZUREPG_LIVE_SHARED_NAME", env.SharedName)
	if roleExists(t, env.SharedName) {
		t.Fatalf("role %q exists before the test: drop it (it is the suite's test name)", env.SharedName)
	}
	dropRoleAtEnd(t, env.SharedName)
	err := try(adminConn(t, "postgres"), `SELECT pgaadauth_create_principal($1, false, false)`, env.SharedName)
	if err == nil {
		observe(t, "create_principal of a shared display name", "created")
		t.Fatalf("%q, a name several objects share, was created: the emulator's guess (refused) is refuted", env.SharedName)
	}
	pe := pgError(t, "shared name", err)
	observeError(t, "pgaadauth_create_principal of a display name several objects share", pe)
	want := "Could not validate AAD user " + env.SharedName + " because more than one principal with this name exists in the tenant"
	if pe.Code != "0LP01" || !strings.HasPrefix(pe.Message, want) {
		t.Errorf("got %s %q; the emulator says 0LP01 %q...", pe.Code, pe.Message, want)
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

// notAllowListed is an extension that Azure offers but that neither the
// guide's server nor the emulator allow-lists.
const notAllowListed = "tablefunc"

// TestLiveExtensionPermissions: CREATE and DROP EXTENSION only for
// azure_pg_admin members, and only for extensions in azure.extensions, for
// CREATE and DROP ("Errors with extensions"). The SQLSTATEs, and which check
// comes first, are the emulator's guesses.
func TestLiveExtensionPermissions(t *testing.T) {
	admin := adminConn(t, "postgres")
	var list string
	queryRow(t, admin, `SELECT current_setting('azure.extensions')`, nil, &list)
	observe(t, "azure.extensions", "%q", list)
	if strings.Contains(strings.ToLower(list), notAllowListed) {
		t.Fatalf("%s is allow-listed on this server: the test needs it not to be (examples/live/server/main.tf)", notAllowListed)
	}
	refused := func(t *testing.T, conn *pgx.Conn, sql, code, want string) {
		t.Helper()
		err := try(conn, sql)
		if err == nil {
			t.Fatalf("%s succeeded: the guess is refuted", sql)
		}
		pe := pgError(t, sql, err)
		observeError(t, sql, pe)
		if pe.Code != code || pe.Message != want {
			t.Errorf("%s: got %s %q; the emulator says %s %q", sql, pe.Code, pe.Message, code, want)
		}
	}
	notListed := `extension "` + notAllowListed + `" is not allow-listed for "azure_pg_admin" users in Azure Database for PostgreSQL`
	t.Run("admin", func(t *testing.T) {
		conn := adminConn(t, newDatabase(t))
		refused(t, conn, "CREATE EXTENSION "+notAllowListed, "0A000", notListed)
		// Not installed: does the allow-list or "does not exist" come first?
		refused(t, conn, "DROP EXTENSION "+notAllowListed, "0A000", notListed)
	})
	t.Run("outside azure_pg_admin", func(t *testing.T) {
		db, conn := localLogin(t)
		refused(t, conn, "CREATE EXTENSION azure_ai", "42501", `Only members of "azure_pg_admin" are allowed to use CREATE EXTENSION`)
		// Membership before the allow-list?
		refused(t, conn, "CREATE EXTENSION "+notAllowListed, "42501", `Only members of "azure_pg_admin" are allowed to use CREATE EXTENSION`)
		mustExec(t, adminConn(t, db), "CREATE EXTENSION azure_ai")
		refused(t, conn, "DROP EXTENSION azure_ai", "42501", `Only members of "azure_pg_admin" are allowed to use DROP EXTENSION`)
	})
}

// azureAIVersion is the one azure_ai version Azure ships for a PostgreSQL
// major, as the emulator does: 1.3.1 on 12-17, 2.0.0 on 18 (the extension
// versions Microsoft Learn lists per major); "" for a major nobody has
// documented.
func azureAIVersion(major int) string {
	switch {
	case major >= 12 && major <= 17:
		return "1.3.1"
	case major == 18:
		return "2.0.0"
	}
	return ""
}

// TestLiveAzureAIDefaultVersion: Azure ships one azure_ai version per major
// (azureAIVersion).
func TestLiveAzureAIDefaultVersion(t *testing.T) {
	conn := adminConn(t, "postgres")
	var def string
	queryRow(t, conn, `SELECT default_version FROM pg_available_extensions WHERE name = 'azure_ai'`, nil, &def)
	var versions []string
	queryRow(t, conn, `SELECT coalesce(array_agg(version ORDER BY version), '{}') FROM pg_available_extension_versions WHERE name = 'azure_ai'`, nil, &versions)
	observe(t, "azure_ai versions", "PostgreSQL %d: default %s, available %v", serverMajor, def, versions)
	if want := azureAIVersion(serverMajor); want != "" && def != want {
		t.Errorf("azure_ai default version %s on PostgreSQL %d; the emulator ships %s", def, serverMajor, want)
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

// TestLiveDatabaseOwner: the owner of a database created through ARM
// (azurerm_postgresql_flexible_server_database). The emulator's -database
// guesses an admin role, the Entra admin (azurerm#27895: azuresu otherwise).
func TestLiveDatabaseOwner(t *testing.T) {
	need(t, "AZUREPG_LIVE_DATABASE", env.Database)
	var owner string
	queryRow(t, adminConn(t, "postgres"), `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1`, []any{env.Database}, &owner)
	observe(t, "owner of a database created through ARM", "%q (Entra admin %q, password admin %q)", owner, env.Admin, env.PasswordAdmin)
	if owner != env.Admin {
		t.Errorf("%q is owned by %q; the emulator's -database guesses the Entra admin %q", env.Database, owner, env.Admin)
	}
}

// TestLiveSecurityLabelRelabel: the Entra admin may rewrite a principal's
// label (troubleshooting guides; the provider's in-place admin/mfa relies on it).
func TestLiveSecurityLabelRelabel(t *testing.T) {
	role := name(" relabel")
	createByOID(t, role)
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
	createByOID(t, role)
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

// A refused log-in: the user and password to present, and the text the
// emulator answers (Azure's, from public issue threads, or its GUESS).
type refusal struct {
	user, password, want string
}

// refuse logs in and returns the server's refusal, logged.
func refuse(t *testing.T, what string, r refusal) *pgconn.PgError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := connectTo(ctx, env.Host, r.user, r.password, "postgres")
	if err == nil {
		conn.Close(ctx)
		t.Fatalf("log-in with %s: the server accepted it", what)
	}
	pe := pgError(t, what, err)
	observeError(t, "log-in with "+what, pe)
	return pe
}

// expectRefusal checks the text; TestLiveLoginRefusals checks the SQLSTATEs.
func expectRefusal(t *testing.T, what string, r refusal) {
	t.Helper()
	if pe := refuse(t, what, r); pe.Message != r.want {
		t.Errorf("log-in with %s: message %q; the emulator says %q", what, pe.Message, r.want)
	}
}

// The emulator's SQLSTATE for every refused token (a GUESS: PostgreSQL's
// invalid_password).
const refusalSQLState = "28P01"

func invalidFormat(*testing.T) refusal {
	return refusal{env.Admin, "not-a-jwt",
		"The access token has invalid format. Please ensure the token is passed exactly as returned by the authentication endpoint and retry."}
}

// wrongAudience: a token of the same identity for Azure Resource Manager,
// from the Azure CLI logged in as the admin identity (azure/login in CI).
func wrongAudience(t *testing.T) refusal {
	t.Helper()
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
	return refusal{env.Admin, tok.Token,
		`The access token does not have a valid audience claim. Please acquire a new token for the resource "https://ossrdbms-aad.database.windows.net".`}
}

// invalidToken: the admin's own token with its signature changed.
func invalidToken(t *testing.T) refusal {
	t.Helper()
	tok, err := tokens.Password(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || i+8 > len(tok) {
		t.Fatalf("the admin's token is not a JWT (%d bytes)", len(tok))
	}
	sig := []byte(tok[i+1:])
	for j := range 6 { // change whole base64url characters, not only padding bits
		if sig[j] == 'A' {
			sig[j] = 'B'
		} else {
			sig[j] = 'A'
		}
	}
	return refusal{env.Admin, tok[:i+1] + string(sig),
		"An error occurred while validating the access token. Please acquire a new token and retry."}
}

// otherIdentity: the admin's valid token, for a role labelled with the test
// identity's object id.
func otherIdentity(t *testing.T) refusal {
	t.Helper()
	role := name(" other identity")
	createByOID(t, role)
	tok, err := tokens.Password(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A service principal's or managed identity's token (it names an
	// appid) gets the emulator's oid-mismatch text (jwt.go, GUESS in part);
	// a user's, PostgreSQL's wrong-password text.
	var claims struct{ Oid, Appid string }
	if parts := strings.Split(tok, "."); len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			_ = json.Unmarshal(raw, &claims)
		}
	}
	if claims.Appid != "" {
		return refusal{role, tok, "Service principal oid mismatch for role[" + role + "]: the role's object id " +
			strings.ToLower(env.MIObjectID) + " does not match the appid " + claims.Appid + " or oid " + claims.Oid + " in the token"}
	}
	return refusal{role, tok, `password authentication failed for user "` + role + `"`}
}

// TestLiveLoginInvalidFormat: a password that is not a JWT.
func TestLiveLoginInvalidFormat(t *testing.T) {
	expectRefusal(t, "a password that is not a JWT", invalidFormat(t))
}

// TestLiveLoginWrongAudience: a token for https://management.azure.com.
func TestLiveLoginWrongAudience(t *testing.T) {
	expectRefusal(t, "a token for https://management.azure.com", wrongAudience(t))
}

// TestLiveLoginInvalidToken: a token whose signature does not verify.
func TestLiveLoginInvalidToken(t *testing.T) {
	expectRefusal(t, "a token with a changed signature", invalidToken(t))
}

// TestLiveLoginOtherIdentity: a valid token of another identity than the role's.
func TestLiveLoginOtherIdentity(t *testing.T) {
	expectRefusal(t, "the admin's token for a role of another identity", otherIdentity(t))
}

// TestLiveLoginExpired holds a real token past its expiry (up to 90
// minutes) and logs in with it.
func TestLiveLoginExpired(t *testing.T) {
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
	expectRefusal(t, "an expired token", refusal{env.Admin, tok.Value,
		"The access token has expired. Please acquire a new token and retry."})
}

// TestLiveLoginRefusals: the SQLSTATE of each refusal (undocumented).
func TestLiveLoginRefusals(t *testing.T) {
	for what, cause := range map[string]func(*testing.T) refusal{
		"invalid format": invalidFormat, "wrong audience": wrongAudience,
		"invalid token": invalidToken, "other identity": otherIdentity,
	} {
		t.Run(what, func(t *testing.T) {
			if pe := refuse(t, what, cause(t)); pe.Code != refusalSQLState {
				t.Errorf("%s: SQLSTATE %s; the emulator guesses %s", what, pe.Code, refusalSQLState)
			}
		})
	}
}

// TestLiveGrantOnPasswordAdminObjects: objects the password admin creates
// belong to it (the emulator's ownership model), and the Entra admin, not a
// member of it, cannot grant on them: the apply fails and names the owner
// and the GRANT that would allow it, which the advice says the Entra admin
// can run itself: by CREATEROLE on PostgreSQL 15, by Azure's azure_pg_admin
// enhancement on 16+ (PostgreSQL's own rule asks for ADMIN OPTION on the
// password admin, which the Entra admin lacks). The emulator allows both.
// The test runs that GRANT as the Entra admin and logs what the server
// said; when it is refused, it logs whether the password admin could run it
// instead, for the advice to name.
func TestLiveGrantOnPasswordAdminObjects(t *testing.T) {
	needResources(t, "azurepg_grant")
	need(t, "AZUREPG_LIVE_PASSWORD_ADMIN", env.PasswordAdmin)
	need(t, "AZUREPG_LIVE_PASSWORD", env.Password)
	reader := name(" reader")
	dropRoleAtEnd(t, reader)
	db := newDatabase(t) // dropped before the role (cleanups run last first)
	admin := adminConn(t, db)
	mustExec(t, admin, "CREATE ROLE "+ident(reader)+" NOLOGIN")
	mustExec(t, admin, "GRANT CREATE, CONNECT ON DATABASE "+ident(db)+" TO "+ident(env.PasswordAdmin))
	pw := passwordAdmin(t, db)
	grant := "GRANT " + ident(env.PasswordAdmin) + " TO " + ident(env.Admin)
	t.Cleanup(func() {
		// The membership the second step makes, on a server that outlives
		// the run (before the connections close: cleanups run last first),
		// by whichever admin made it.
		revoke := "REVOKE " + ident(env.PasswordAdmin) + " FROM " + ident(env.Admin)
		_ = try(admin, revoke)
		_ = try(pw, revoke)
	})
	mustExec(t, pw, "CREATE SCHEMA legacy")
	mustExec(t, pw, "CREATE TABLE legacy.invoices (id int)")
	var owner string
	queryRow(t, admin, `SELECT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'legacy' AND c.relname = 'invoices'`, nil, &owner)
	observe(t, "owner of a table the password admin created", "%q", owner)
	if owner != env.PasswordAdmin {
		t.Errorf("the table belongs to %q; the emulator guesses the password admin %q", owner, env.PasswordAdmin)
	}

	config := providerBlock(env.Host) + fmt.Sprintf(`
resource "azurepg_grant" "legacy" {
  role        = %[1]s
  database    = %[2]s
  object_type = "table"
  schema      = "legacy"
  privileges  = ["SELECT"]
}
`, q(reader), q(db))
	grantAsked := regexp.MustCompile(regexp.QuoteMeta(grant))
	selectOK := func(want bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			var has bool
			queryRow(t, adminConn(t, db), `SELECT has_table_privilege($1, c.oid, 'SELECT') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'legacy' AND c.relname = 'invoices'`, []any{reader}, &has)
			if has != want {
				return fmt.Errorf("%q has SELECT on legacy.invoices: %v, want %v", reader, has, want)
			}
			return nil
		}
	}
	run(t, nil,
		resource.TestStep{Config: config, ExpectError: grantAsked},
		resource.TestStep{
			// What the advice says to run, run by the login it names.
			PreConfig: func() {
				byEntra := try(admin, grant)
				observe(t, fmt.Sprintf("PostgreSQL %d: %s, as the Entra admin", serverMajor, grant), "%s", errText(byEntra))
				if byEntra != nil {
					byPassword := try(pw, grant)
					observe(t, fmt.Sprintf("PostgreSQL %d: %s, as the password admin", serverMajor, grant), "%s", errText(byPassword))
					t.Errorf("the Entra admin could not run the GRANT the error advises (%v); the emulator lets it (CREATEROLE on 15, Azure's enhancement on 16+)", byEntra)
				}
			},
			Config: config,
			Check:  selectOK(true),
		},
	)
}
