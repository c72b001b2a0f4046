// Package pgtest is the emulator fixture and the SQL helpers that tests
// share: one emulator per test binary, SQL as the bootstrap superuser or as
// the Entra admin, tenant objects. It does not import the provider, so the
// tests of internal/pgaad do not build it; Terraform-specific helpers are
// in internal/acctest.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

var (
	once    sync.Once
	shared  *emulator.Emulator
	err     error
	counter atomic.Int64

	secondOnce sync.Once
	second     *emulator.Emulator
	secondErr  error
)

// Emulator returns the test binary's emulator, starting it on first use and
// pointing the provider's environment variables at it (as the Entra admin,
// with the managed identity). Tests skip without TF_ACC.
func Emulator(t testing.TB) *emulator.Emulator {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared, err = emulator.Start(ctx, emulator.Options{})
		if err != nil {
			return
		}
		for k, v := range shared.Env() {
			os.Setenv(k, v)
		}
		// Settings that would leak in from the developer's shell.
		for _, k := range []string{"PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE", "AZURE_CLIENT_ID", "ARM_CLIENT_ID", "AZUREPG_ACCESS_TOKEN", "ARM_ENVIRONMENT"} {
			os.Unsetenv(k)
		}
	})
	if err != nil {
		t.Fatalf("starting the emulator: %v", err)
	}
	return shared
}

// SecondEmulator returns the test binary's second emulator, starting it
// (and the first) on first use: another server of the first's cloud and
// tenant (emulator.Options.SameCloudAs), as a subscription has many Azure
// servers. Both are named localhost, on two ports; the first's CA file
// (PGSSLROOTCERT) verifies both, a token from the first's managed-identity
// endpoint (IDENTITY_ENDPOINT) logs in on both, objects added to the
// tenant (NewObject) are in both directories, and the Entra admin is the
// same principal. The provider's environment stays the first's: a resource
// reaches the second with host = "localhost" and port =
// SecondEmulator(t).Port(). Stopped by Main (Stop); a test that takes it
// down (Down) brings it up again.
func SecondEmulator(t testing.TB) *emulator.Emulator {
	t.Helper()
	first := Emulator(t)
	secondOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		second, secondErr = emulator.Start(ctx, emulator.Options{SameCloudAs: first})
	})
	if secondErr != nil {
		t.Fatalf("starting the second emulator: %v", secondErr)
	}
	return second
}

// Main runs the tests and stops the emulators afterwards. Use it in TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the emulators that were started.
func Stop() {
	if second != nil {
		second.Stop()
	}
	if shared != nil {
		shared.Stop()
	}
}

// Name returns a unique name for a test object, starting with prefix.
func Name(prefix string) string {
	return fmt.Sprintf("%s-%d-%s", prefix, counter.Add(1), uuid.NewString()[:8])
}

// SuperExec runs SQL as the bootstrap superuser in a database.
func SuperExec(t testing.TB, database, sql string, args ...any) {
	t.Helper()
	SuperExecOn(t, Emulator(t), database, sql, args...)
}

// SuperExecOn is SuperExec on the given emulator (e.g. SecondEmulator).
func SuperExecOn(t testing.TB, e *emulator.Emulator, database, sql string, args ...any) {
	t.Helper()
	conn := connect(t, e.SuperuserURL(database))
	defer conn.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), statementTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("as superuser in %s on port %d: %s: %v", database, e.Port(), sql, err)
	}
}

// SuperQueryRow runs a query as the bootstrap superuser and scans one row.
func SuperQueryRow(t testing.TB, database, sql string, args []any, dest ...any) {
	t.Helper()
	SuperQueryRowOn(t, Emulator(t), database, sql, args, dest...)
}

// SuperQueryRowOn is SuperQueryRow on the given emulator (e.g. SecondEmulator).
func SuperQueryRowOn(t testing.TB, e *emulator.Emulator, database, sql string, args []any, dest ...any) {
	t.Helper()
	conn := connect(t, e.SuperuserURL(database))
	defer conn.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), statementTimeout)
	defer cancel()
	if err := conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
		t.Fatalf("as superuser in %s on port %d: %s: %v", database, e.Port(), sql, err)
	}
}

// AdminConn connects to a database as the Entra admin, with a token.
func AdminConn(t testing.TB, database string) *pgx.Conn {
	t.Helper()
	return AdminConnOn(t, Emulator(t), database)
}

// AdminConnOn is AdminConn on the given emulator (e.g. SecondEmulator),
// with a token from the first emulator's endpoint, as the provider's.
func AdminConnOn(t testing.TB, e *emulator.Emulator, database string) *pgx.Conn {
	t.Helper()
	tok, err := Emulator(t).IssueToken(context.Background(), "https://ossrdbms-aad.database.windows.net", "")
	if err != nil {
		t.Fatalf("issuing a token: %v", err)
	}
	conn := connect(t, e.URL(e.AdminName(), tok.Value, database))
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// statementTimeout bounds a test's own log-in and statement: a hang fails
// the test in minutes, with its name, instead of the whole run at -timeout.
const statementTimeout = 2 * time.Minute

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), statementTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return conn
}

// RoleExists reports whether a role exists.
func RoleExists(t testing.TB, name string) bool {
	t.Helper()
	return RoleExistsOn(t, Emulator(t), name)
}

// RoleExistsOn is RoleExists on the given emulator (e.g. SecondEmulator).
func RoleExistsOn(t testing.TB, e *emulator.Emulator, name string) bool {
	t.Helper()
	var n int
	SuperQueryRowOn(t, e, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname = $1", []any{name}, &n)
	return n == 1
}

// NewObject adds a tenant object with a unique name (prefix + suffix).
func NewObject(t testing.TB, kind, prefix string) emulator.Object {
	t.Helper()
	e := Emulator(t)
	name := Name(prefix)
	if kind == "user" && !strings.Contains(prefix, "@") {
		name += "@contoso.com"
	}
	o, err := e.AddObject(context.Background(), emulator.Object{Kind: kind, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// NewAdmin adds a managed identity to the tenant and makes it an Entra admin
// of the server, so that a test can log in with tokens of its own (its own
// lifetime, its own request counts) without disturbing other tests.
func NewAdmin(t testing.TB) emulator.Object {
	t.Helper()
	o := NewObject(t, "managed_identity", "admin-mi")
	MakeAdminOn(t, Emulator(t), o)
	return o
}

// MakeAdminOn makes a managed identity of the tenant (from NewAdmin, or
// NewObject) an Entra admin of the given emulator too, e.g. of
// SecondEmulator, so that one provider block logs in on both.
func MakeAdminOn(t testing.TB, e *emulator.Emulator, o emulator.Object) {
	t.Helper()
	SuperExecOn(t, e, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, true, false)", o.Name, o.ObjectID)
}
