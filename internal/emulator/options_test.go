package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// Start refuses an admin that cannot log in with a managed-identity token.
func TestStartRefusesBadAdmin(t *testing.T) {
	need(t)
	for _, name := range []string{"nobody-mi", "alice@contoso.com", "DBA Team"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		e, err := emulator.Start(ctx, emulator.Options{AdminName: name})
		cancel()
		if err == nil {
			e.Stop()
			t.Errorf("Start with admin %q succeeded", name)
			continue
		}
		if want := fmt.Sprintf("the admin %q is not a managed identity or service principal of the tenant", name); err.Error() != want {
			t.Errorf("admin %q: %v, want %q", name, err, want)
		}
	}
}

var errTaken = errors.New("taken by TestOptionsAndStop")

// optionsTenantID is the tenant of the second emulator.
const optionsTenantID = "11111111-2222-3333-4444-555555555555"

type started struct {
	e      *emulator.Emulator
	port   int
	logged []string
	err    error
}

// second is the emulator of TestOptionsAndStop, started by TestMain in the
// background while the other tests run.
var second chan started

// startSecond starts an emulator with every option set.
func startSecond(dir string) started {
	tenant := filepath.Join(dir, "tenant.json")
	if err := os.WriteFile(tenant, []byte(`{"tenant_id": "`+optionsTenantID+`", "objects": [
		{"kind": "service_principal", "name": "deploy sp", "object_id": "11111111-0000-0000-0000-000000000001", "client_id": "11111111-0000-0000-0000-0000000000c1"},
		{"kind": "user", "name": "dora@fabrikam.com", "object_id": "11111111-0000-0000-0000-000000000002"}
	]}`), 0o644); err != nil {
		return started{err: err}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return started{err: err}
	}
	s := started{port: l.Addr().(*net.TCPAddr).Port}
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.e, s.err = emulator.Start(ctx, emulator.Options{
		Port: s.port, AdminName: "deploy sp", TokenLifetime: 90 * time.Second,
		Extensions: []string{"btree_gin", "azure_ai"}, TenantFile: tenant, AllowPlaintext: true,
		Logf: func(format string, args ...any) { s.logged = append(s.logged, fmt.Sprintf(format, args...)) },
	})
	return s
}

// A second emulator with every option set; Stop leaves nothing behind.
func TestOptionsAndStop(t *testing.T) {
	need(t)
	if second == nil {
		t.Fatal("TestMain did not start the second emulator")
	}
	s := <-second
	second <- started{err: errTaken}
	if errors.Is(s.err, errTaken) {
		t.Skip("the second emulator was stopped by an earlier run of this test (-count > 1)")
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	e, port, logged, tid := s.e, s.port, s.logged, optionsTenantID
	ctx := testCtx(t)
	stopped := false
	defer func() {
		if !stopped {
			e.Stop()
		}
	}()
	if e.Port() != port || e.AdminName() != "deploy sp" || e.TenantID() != tid || e.AdminClientID() != "11111111-0000-0000-0000-0000000000c1" {
		t.Errorf("port %d, admin %q, tenant %s, client %s", e.Port(), e.AdminName(), e.TenantID(), e.AdminClientID())
	}
	if len(logged) == 0 || !strings.Contains(logged[len(logged)-1], "emulator ready on 127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("Logf got %q", logged)
	}
	if _, ok := e.Object("alice@contoso.com"); ok {
		t.Error("the embedded tenant was loaded too")
	}

	before := time.Now()
	tok, err := e.IssueToken(ctx, resourcePublic, "")
	if err != nil {
		t.Fatal(err)
	}
	checkExpiry(t, "a token of the default lifetime (90 s)", tok.ExpiresOn, before, time.Now(), 90*time.Second)
	// Plaintext allowed on request.
	u, _ := url.Parse(e.URL(e.AdminName(), tok.Value, "postgres"))
	u.RawQuery = "sslmode=disable"
	conn := mustOpen(t, u.String())
	if ssl := scalar[bool](t, conn, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); ssl {
		t.Error("sslmode=disable connected with TLS")
	}
	got := scalar[string](t, conn, "SELECT pgaadauth_create_principal('dora@fabrikam.com', false, false)")
	if got != `Created role for "dora@fabrikam.com"` {
		t.Errorf("create_principal: %q", got)
	}
	if l := scalar[string](t, conn, "SELECT tenantid FROM pgaadauth_list_principals(false) WHERE rolname = 'dora@fabrikam.com'"); l != tid {
		t.Errorf("tenant id in the label: %s", l)
	}
	// The allow-list given.
	db := "opts db"
	exec(t, conn, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	dbURL, _ := url.Parse(e.URL(e.AdminName(), tok.Value, db))
	dbConn := mustOpen(t, dbURL.String())
	exec(t, dbConn, "CREATE EXTENSION btree_gin")
	_, err = dbConn.Exec(testCtx(t), "CREATE EXTENSION hstore")
	pgErr(t, err, "0A000", `extension "hstore" is not allow-listed for "azure_pg_admin" users in Azure Database for PostgreSQL`)
	dbConn.Close(context.Background())
	conn.Close(context.Background())

	// Stop: server gone, files gone, endpoint closed; Stop again is harmless.
	dataDir := scalar[string](t, mustOpen(t, e.SuperuserURL("postgres")), "SHOW data_directory")
	pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	endpoint := e.TokenEndpoint()
	began := time.Now()
	e.Stop()
	stopped = true
	t.Logf("Stop took %s", time.Since(began).Round(time.Millisecond))
	e.Stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postmaster %d still there after Stop: %v", pid, err)
	}
	if _, err := os.Stat(filepath.Dir(dataDir)); !os.IsNotExist(err) {
		t.Errorf("the emulator's directory is still there: %v", err)
	}
	if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		t.Error("the server port still accepts connections")
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get(endpoint); err == nil {
		resp.Body.Close()
		t.Error("the token endpoint still answers")
	}
}
