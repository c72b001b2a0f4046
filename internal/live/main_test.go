package live

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
	"github.com/azurepg/terraform-provider-azurepg/internal/provider"
)

// liveEnv is the suite's configuration, from the AZUREPG_LIVE_* variables
// (CONTRIBUTING.md, "Live suite", describes each).
type liveEnv struct {
	Host       string // AZUREPG_LIVE_HOST: the server's FQDN (required)
	Admin      string // AZUREPG_LIVE_ADMIN: the Entra admin's role name, the CI identity's display name (required)
	AuthMethod string // AZUREPG_LIVE_AUTH_METHOD: the provider's auth_method (default "default")
	// AZUREPG_LIVE_SQL_AUTH_METHOD: how the suite's own SQL gets the admin's
	// token (default AuthMethod). CI sets azure_cli, as the Azure CLI is
	// logged in as the same identity there: entratoken supports oidc, but
	// authSettings passes it no federated-token settings.
	SQLAuthMethod string

	UserUPN        string // AZUREPG_LIVE_USER_UPN: a test user of the tenant
	GroupName      string // AZUREPG_LIVE_GROUP_NAME: a test group's display name
	MIName         string // AZUREPG_LIVE_MI_NAME: a user-assigned identity's name
	MIObjectID     string // AZUREPG_LIVE_MI_OBJECT_ID: its principal (object) id
	OpenAIEndpoint string // AZUREPG_LIVE_OPENAI_ENDPOINT: stored only, never called
	PasswordAdmin  string // AZUREPG_LIVE_PASSWORD_ADMIN: the server's password admin login
	Password       string // AZUREPG_LIVE_PASSWORD: its password
	ReplicaHost    string // AZUREPG_LIVE_REPLICA_HOST: a read replica's FQDN
	SharedName     string // AZUREPG_LIVE_SHARED_NAME: a display name two objects of the tenant share
	Database       string // AZUREPG_LIVE_DATABASE: a database created through ARM (azurerm)
	HoldToken      bool   // AZUREPG_LIVE_HOLD_TOKEN=1: wait for a token to expire (up to 90 minutes)
}

func readEnv() liveEnv {
	e := liveEnv{
		Host:           os.Getenv("AZUREPG_LIVE_HOST"),
		Admin:          os.Getenv("AZUREPG_LIVE_ADMIN"),
		AuthMethod:     os.Getenv("AZUREPG_LIVE_AUTH_METHOD"),
		UserUPN:        os.Getenv("AZUREPG_LIVE_USER_UPN"),
		GroupName:      os.Getenv("AZUREPG_LIVE_GROUP_NAME"),
		MIName:         os.Getenv("AZUREPG_LIVE_MI_NAME"),
		MIObjectID:     os.Getenv("AZUREPG_LIVE_MI_OBJECT_ID"),
		OpenAIEndpoint: os.Getenv("AZUREPG_LIVE_OPENAI_ENDPOINT"),
		PasswordAdmin:  os.Getenv("AZUREPG_LIVE_PASSWORD_ADMIN"),
		Password:       os.Getenv("AZUREPG_LIVE_PASSWORD"),
		ReplicaHost:    os.Getenv("AZUREPG_LIVE_REPLICA_HOST"),
		SharedName:     os.Getenv("AZUREPG_LIVE_SHARED_NAME"),
		Database:       os.Getenv("AZUREPG_LIVE_DATABASE"),
		HoldToken:      os.Getenv("AZUREPG_LIVE_HOLD_TOKEN") == "1",
	}
	if e.AuthMethod == "" {
		e.AuthMethod = entratoken.MethodDefault
	}
	if e.SQLAuthMethod = os.Getenv("AZUREPG_LIVE_SQL_AUTH_METHOD"); e.SQLAuthMethod == "" {
		e.SQLAuthMethod = e.AuthMethod
	}
	if e.OpenAIEndpoint == "" {
		// set_setting stores the endpoint without calling it.
		e.OpenAIEndpoint = "https://azpglive.openai.azure.com/"
	}
	return e
}

var (
	env    liveEnv
	tokens *entratoken.Source
	// prefix starts the name of every role and database this run creates:
	// azpglive-<unix time>-<4 hex>-. The time lets a later run sweep what a
	// crashed run left behind without touching a run still going.
	prefix  string
	counter atomic.Int64
	// serverNum is the server's server_version_num (e.g. 170004) and
	// serverMajor its major version, read once by TestMain: tests whose
	// expectations differ by version branch on serverMajor.
	serverNum, serverMajor int
)

const (
	namePrefix  = "azpglive-"
	leftoverAge = 3 * time.Hour
	// timeout bounds each log-in and statement of the suite's own SQL.
	timeout = 2 * time.Minute
)

// TestMain skips the whole suite with one line when it is not configured,
// sweeps leftovers of earlier runs before, and this run's objects after.
func TestMain(m *testing.M) {
	env = readEnv()
	var missing []string
	if env.Host == "" {
		missing = append(missing, "AZUREPG_LIVE_HOST")
	}
	if env.Admin == "" {
		missing = append(missing, "AZUREPG_LIVE_ADMIN")
	}
	if len(missing) > 0 {
		fmt.Printf("live suite skipped: %s not set (CONTRIBUTING.md, section \"Live suite\", lists the variables)\n", strings.Join(missing, " and "))
		os.Exit(0)
	}
	if os.Getenv("TF_ACC") == "" {
		fmt.Println("live suite skipped: TF_ACC is not set (make testacc-live sets it)")
		os.Exit(0)
	}
	var err error
	if tokens, err = entratoken.New(authSettings()); err != nil {
		fmt.Printf("live suite: auth_method %q for the suite's own SQL (AZUREPG_LIVE_SQL_AUTH_METHOD): %v\n", env.SQLAuthMethod, err)
		os.Exit(1)
	}
	prefix = fmt.Sprintf("%s%d-%s-", namePrefix, time.Now().Unix(), uuid.NewString()[:4])
	fmt.Printf("live suite: server %s as %q (auth_method %s, the suite's SQL %s), object prefix %s\n", env.Host, env.Admin, env.AuthMethod, env.SQLAuthMethod, prefix)
	full, err := readServerVersion()
	if err != nil {
		fmt.Printf("live suite: reading the server's version as %q: %v\n", env.Admin, err)
		os.Exit(1)
	}
	fmt.Printf("live suite: OBSERVED server version: PostgreSQL %d (server_version_num %d): %s\n", serverMajor, serverNum, full)
	sweep("leftovers of earlier runs", isLeftover)
	code := m.Run()
	sweep("this run's objects", func(name string) bool { return strings.HasPrefix(name, prefix) })
	os.Exit(code)
}

// readServerVersion sets serverNum and serverMajor from the server and
// returns its version() text.
func readServerVersion() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := adminConnect(ctx, env.Host, "postgres")
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var full string
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, version()`).Scan(&serverNum, &full); err != nil {
		return "", err
	}
	serverMajor = serverNum / 10000
	return full, nil
}

// authSettings are entratoken settings for the suite's SQL, read from the
// same environment variables the provider reads, so that it logs in as the
// same Entra admin as the provider under test.
func authSettings() entratoken.Settings {
	first := func(names ...string) string {
		for _, n := range names {
			if v := os.Getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return entratoken.Settings{
		Method:       env.SQLAuthMethod,
		Cloud:        first("ARM_ENVIRONMENT"),
		ClientID:     first("ARM_CLIENT_ID", "AZURE_CLIENT_ID"),
		TenantID:     first("ARM_TENANT_ID", "AZURE_TENANT_ID"),
		ClientSecret: first("ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"),
		AccessToken:  first("AZUREPG_ACCESS_TOKEN"),
	}
}

// isLeftover reports whether a name is one of the suite's, from a run that
// started more than leftoverAge ago.
func isLeftover(name string) bool {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return false
	}
	stamp, _, _ := strings.Cut(rest, "-")
	sec, err := strconv.ParseInt(stamp, 10, 64)
	return err == nil && time.Since(time.Unix(sec, 0)) > leftoverAge
}

// sweep drops the suite's databases, then its roles, whose names match.
// Failures are printed, not fatal: the next run tries again.
func sweep(what string, match func(string) bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conn, err := adminConnect(ctx, env.Host, "postgres")
	if err != nil {
		fmt.Printf("live suite: sweeping %s: %v\n", what, err)
		return
	}
	defer conn.Close(ctx)
	names := func(sql string) []string {
		rows, _ := conn.Query(ctx, sql, namePrefix)
		list, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			fmt.Printf("live suite: sweeping %s: %v\n", what, err)
		}
		return list
	}
	for _, db := range names(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`) {
		if match(db) {
			_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(db)+" WITH (FORCE)")
			fmt.Printf("live suite: swept database %q: %v\n", db, errText(err))
		}
	}
	for _, role := range names(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`) {
		if match(role) {
			_, err := conn.Exec(ctx, "DROP ROLE IF EXISTS "+ident(role))
			fmt.Printf("live suite: swept role %q: %v\n", role, errText(err))
		}
	}
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// ident quotes an identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// name returns a unique name of this run: the prefix, a counter and what.
func name(what string) string {
	return fmt.Sprintf("%s%d%s", prefix, counter.Add(1), what)
}

// hostileName is a 63-byte role name of this run with `@`, a space, quotes,
// a semicolon and non-ASCII, padded with x.
func hostileName() string {
	n := name(` o@b "q'; é`)
	for len(n) < 63 {
		n += "x"
	}
	return n
}

// connectTo opens a connection with a password (or token) to a host's database.
func connectTo(ctx context.Context, host, user, password, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s sslmode=verify-full connect_timeout=30", host))
	if err != nil {
		return nil, err
	}
	cfg.User, cfg.Password, cfg.Database = user, password, database
	return pgx.ConnectConfig(ctx, cfg)
}

// adminConnect logs in as the Entra admin with a token from entratoken.
func adminConnect(ctx context.Context, host, database string) (*pgx.Conn, error) {
	tok, err := tokens.Password(ctx)
	if err != nil {
		return nil, err
	}
	return connectTo(ctx, host, env.Admin, tok, database)
}

// adminConn is adminConnect for a test, closed at its end.
func adminConn(t *testing.T, database string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := adminConnect(ctx, env.Host, database)
	if err != nil {
		t.Fatalf("logging in to %s/%s as the Entra admin %q: %v", env.Host, database, env.Admin, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// mustExec runs SQL and fails the test on an error.
func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// queryRow runs a query and scans one row, failing the test on an error.
func queryRow(t *testing.T, conn *pgx.Conn, sql string, args []any, dest ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// try runs SQL and returns its error.
func try(conn *pgx.Conn, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := conn.Exec(ctx, sql, args...)
	return err
}

// pgError returns the server's error, or fails the test when err is not one.
func pgError(t *testing.T, what string, err error) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("%s: expected an error from the server, got %v", what, err)
	}
	return pe
}

// observe logs what the server did, in one greppable line ("OBSERVED"),
// for a maintainer to quote in the emulator's GUESS comment it confirms or
// corrects.
func observe(t *testing.T, what string, format string, args ...any) {
	t.Helper()
	t.Logf("OBSERVED %s: %s", what, fmt.Sprintf(format, args...))
}

// observeError logs a server error's SQLSTATE and texts.
func observeError(t *testing.T, what string, pe *pgconn.PgError) {
	t.Helper()
	observe(t, what, "SQLSTATE %s, severity %s, message %q, detail %q, hint %q", pe.Code, pe.Severity, pe.Message, pe.Detail, pe.Hint)
}

// need skips the test, with one line naming the variable, when it is empty.
func need(t *testing.T, variable, value string) {
	t.Helper()
	if value == "" {
		t.Skipf("needs %s", variable)
	}
}

// newDatabase creates a database of this run, owned by the Entra admin, and
// drops it (with FORCE) at the end of the test.
func newDatabase(t *testing.T) string {
	t.Helper()
	db := name("db")
	mustExec(t, adminConn(t, "postgres"), "CREATE DATABASE "+ident(db))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, err := adminConnect(ctx, env.Host, "postgres")
		if err == nil {
			defer conn.Close(ctx)
			// FORCE ends the admin's own sessions (the in-process provider's
			// pools); another role's session that a test just closed may take
			// a moment to end, and FORCE may not end it: try again, every
			// second, until the context's 2 minutes are over.
			for {
				if _, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(db)+" WITH (FORCE)"); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(time.Second)
			}
		}
		if err != nil {
			t.Errorf("dropping the test database %q: %v (the next run's sweep retries)", db, err)
		}
	})
	return db
}

// dropRoleAtEnd drops a role at the end of the test if it still exists.
func dropRoleAtEnd(t *testing.T, role string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, err := adminConnect(ctx, env.Host, "postgres")
		if err == nil {
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "DROP ROLE IF EXISTS "+ident(role))
		}
		if err != nil {
			t.Errorf("dropping the test role %q: %v (the next run's sweep retries)", role, err)
		}
	})
}

// roleExists reports whether a role exists.
func roleExists(t *testing.T, role string) bool {
	t.Helper()
	var n int
	queryRow(t, adminConn(t, "postgres"), `SELECT count(*) FROM pg_roles WHERE rolname = $1`, []any{role}, &n)
	return n == 1
}

// factories serve the provider under test in-process.
var factories = map[string]func() (tfprotov6.ProviderServer, error){
	"azurepg": providerserver.NewProtocol6WithError(provider.New("live")()),
}

// providerBlock logs the provider in to host as the Entra admin; client,
// tenant and OIDC settings come from the ARM_* variables, as in CI.
func providerBlock(host string) string {
	return fmt.Sprintf(`
provider "azurepg" {
  host        = %s
  username    = %s
  auth_method = %s
}
`, hclquote.String(host), hclquote.String(env.Admin), hclquote.String(env.AuthMethod))
}

// needResources skips the test, with one line, when this build of the
// provider lacks a resource type (one being built on another branch).
func needResources(t *testing.T, types ...string) {
	t.Helper()
	have := map[string]bool{}
	p := provider.New("live")()
	for _, f := range p.Resources(context.Background()) {
		var resp resource.MetadataResponse
		f().Metadata(context.Background(), resource.MetadataRequest{ProviderTypeName: "azurepg"}, &resp)
		have[resp.TypeName] = true
	}
	for _, ty := range types {
		if !have[ty] {
			t.Skipf("this build of the provider has no %s", ty)
		}
	}
}

// principalRow is a row of pgaadauth_list_principals, read by position
// (one column is rolname or rolename depending on the server version).
type principalRow struct {
	Name, Type, ObjectID, TenantID string
	MFA, Admin                     int
	Found                          bool
}

func listedPrincipal(t *testing.T, conn *pgx.Conn, role string) principalRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rows, err := conn.Query(ctx, `SELECT * FROM pgaadauth_list_principals(false)`)
	if err != nil {
		t.Fatalf("pgaadauth_list_principals(false): %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p principalRow
		var typ, oid, tid *string
		var mfa, admin any
		if err := rows.Scan(&p.Name, &typ, &oid, &tid, &mfa, &admin); err != nil {
			t.Fatalf("reading pgaadauth_list_principals: %v", err)
		}
		if p.Name != role {
			continue
		}
		p.Found = true
		p.Type, p.ObjectID, p.TenantID = deref(typ), deref(oid), deref(tid)
		p.MFA, p.Admin = asInt(mfa), asInt(admin)
		return p
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reading pgaadauth_list_principals: %v", err)
	}
	return principalRow{Name: role}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// asInt reads ismfa / isadmin, integers 0/1 on the servers seen so far
// (booleans are accepted too, in case a version changes that).
func asInt(v any) int {
	switch x := v.(type) {
	case int32:
		return int(x)
	case int64:
		return int(x)
	case int16:
		return int(x)
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

// createByOID creates a non-admin Entra principal of this run for the test
// identity by object id, as the Entra admin, dropped at the end of the test.
func createByOID(t *testing.T, role string) {
	t.Helper()
	need(t, "AZUREPG_LIVE_MI_OBJECT_ID", env.MIObjectID)
	dropRoleAtEnd(t, role)
	mustExec(t, adminConn(t, "postgres"), `SELECT pgaadauth_create_principal_with_oid($1, $2, 'service', false, false)`, role, env.MIObjectID)
}
