package emulator_test

// Tests of the emulator against the running server: one emulator for the
// whole package, started by TestMain when TF_ACC is set (make test sets it),
// asserted over real connections with pgx.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

const resourcePublic = "https://ossrdbms-aad.database.windows.net"

var (
	em          *emulator.Emulator
	startWall   time.Duration // wall time of emulator.Start in TestMain
	startCached bool          // whether the label module was already built before TestMain's Start
	counter     atomic.Int64
)

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("TF_ACC") == "" {
		// Every test skips through need(t); nothing to start.
		os.Exit(m.Run())
	}
	// Settings from the developer's shell that would change which managed
	// identity source azidentity picks or where it logs in.
	for _, k := range []string{"IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
		"AZURE_CLIENT_ID", "PGSSLMODE", "PGSSLROOTCERT", "PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE"} {
		os.Unsetenv(k)
	}
	startCached = moduleCached()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	began := time.Now()
	var err error
	em, err = emulator.Start(ctx, emulator.Options{})
	startWall = time.Since(began)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the emulator: %v\n", err)
		os.Exit(1)
	}
	// TestOptionsAndStop's emulator boots while the other tests run.
	var secondDir string
	if wanted("TestOptionsAndStop") {
		secondDir, _ = os.MkdirTemp("", "emulator-test-")
		second = make(chan started, 1)
		go func() { second <- startSecond(secondDir) }()
	}
	code := m.Run()
	if second != nil {
		if s := <-second; s.e != nil {
			s.e.Stop()
		}
		os.RemoveAll(secondDir)
	}
	stopModes()
	em.Stop()
	os.Exit(code)
}

// wanted reports whether -test.run selects the top-level test.
func wanted(test string) bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	pattern := strings.SplitN(f.Value.String(), "/", 2)[0]
	re, err := regexp.Compile(pattern)
	return err != nil || re.MatchString(test)
}

// moduleCached reports whether some build of the label module is in the
// user's cache (an approximation of "warm" for the start-up figures).
func moduleCached() bool {
	cache, err := os.UserCacheDir()
	if err != nil {
		return false
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "azurepg-emulator", "*", "pgaadauth_emulator.so"))
	return len(matches) > 0
}

// need skips the test without TF_ACC and returns the package's emulator.
func need(t *testing.T) *emulator.Emulator {
	t.Helper()
	if em == nil {
		t.Skip("emulator test: set TF_ACC=1 (make test does)")
	}
	return em
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// uniq returns prefix plus a number unique in this test binary.
func uniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, counter.Add(1)) }

// hostile returns a unique name with a quote, double quotes, a semicolon,
// spaces, %, a backslash, @ and non-ASCII characters.
func hostile(prefix string) string {
	return uniq(prefix + ` O'Brien "x"; -- 100%\ ñø@`)
}

// open connects with a connection string; the connection is closed at cleanup.
func open(t *testing.T, connString string) (*pgx.Conn, error) {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), connString)
	if err == nil {
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	return conn, err
}

func mustOpen(t *testing.T, connString string) *pgx.Conn {
	t.Helper()
	conn, err := open(t, connString)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return conn
}

// super connects to a database as the bootstrap superuser.
func super(t *testing.T, database string) *pgx.Conn {
	t.Helper()
	return mustOpen(t, need(t).SuperuserURL(database))
}

// admin connects to a database as the Entra admin, with a token.
func admin(t *testing.T, database string) *pgx.Conn {
	t.Helper()
	e := need(t)
	tok, err := e.IssueToken(testCtx(t), resourcePublic, "")
	if err != nil {
		t.Fatalf("issuing a token for the admin: %v", err)
	}
	return mustOpen(t, e.URL(e.AdminName(), tok.Value, database))
}

// exec runs SQL and fails the test on error.
func exec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(testCtx(t), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// scalar runs a query returning one value.
func scalar[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(testCtx(t), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// pgErr asserts that err is a server error with the SQLSTATE and, unless
// msg is empty, exactly the message.
func pgErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	_ = serverError(t, err, code, msg)
}

// serverError is pgErr returning the error, to check more of it.
func serverError(t *testing.T, err error, code, msg string) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("want SQLSTATE %s %q, got %v", code, msg, err)
	}
	if pe.Code != code || (msg != "" && pe.Message != msg) {
		t.Fatalf("want SQLSTATE %s %q, got %s %q", code, msg, pe.Code, pe.Message)
	}
	return pe
}

// newLogin creates a plain password login (not an Entra principal, not an admin).
func newLogin(t *testing.T) (name, password string) {
	t.Helper()
	name, password = hostile("plain"), uniq("pw-")
	exec(t, super(t, "postgres"), fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD %s",
		pgx.Identifier{name}.Sanitize(), literal(password)))
	return name, password
}

// newDatabase creates a database owned by the Entra admin (as an admin would
// on Azure) and drops it at cleanup.
func newDatabase(t *testing.T) string {
	t.Helper()
	name := hostile("db")
	exec(t, admin(t, "postgres"), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), em.SuperuserURL("postgres"))
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			conn.Close(context.Background())
		}
	})
	return name
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// quoteIdent is PostgreSQL's quote_ident for names that are not keywords.
func quoteIdent(s string) string {
	if plainIdent.MatchString(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func TestEnv(t *testing.T) {
	e := need(t)
	env := e.Env()
	want := map[string]string{
		"AZUREPG_HOST":        "localhost", // the name in the certificate
		"PGPORT":              strconv.Itoa(e.Port()),
		"AZUREPG_USERNAME":    e.AdminName(),
		"AZUREPG_AUTH_METHOD": "managed_identity",
		"IDENTITY_ENDPOINT":   e.TokenEndpoint(),
		"IDENTITY_HEADER":     e.IdentityHeader(),
		"PGSSLROOTCERT":       e.CAFile(),
	}
	for k, v := range want {
		if env[k] != v || v == "" {
			t.Errorf("Env()[%s] = %q, want %q (non-empty)", k, env[k], v)
		}
	}
	if !strings.HasPrefix(e.TokenEndpoint(), "http://127.0.0.1:") {
		t.Errorf("token endpoint %q is not on loopback", e.TokenEndpoint())
	}
}

// The Entra admin and the server admin are members of azure_pg_admin and not
// superusers; pg_authid is not readable to them, as on Azure.
func TestAdminsAreNotSuperusers(t *testing.T) {
	e := need(t)
	for _, c := range []struct {
		who  string
		conn *pgx.Conn
	}{
		{e.AdminName(), admin(t, "postgres")},
		{emulator.ServerAdmin, mustOpen(t, e.URL(emulator.ServerAdmin, e.ServerAdminPassword(), "postgres"))},
	} {
		var isSuper, inAdmin bool
		if err := c.conn.QueryRow(testCtx(t), `SELECT rolsuper, pg_has_role(current_user, 'azure_pg_admin', 'member')
			FROM pg_roles WHERE rolname = current_user`).Scan(&isSuper, &inAdmin); err != nil {
			t.Fatal(err)
		}
		if isSuper || !inAdmin {
			t.Errorf("%s: superuser %v, member of azure_pg_admin %v; want false, true", c.who, isSuper, inAdmin)
		}
		_, err := c.conn.Exec(testCtx(t), "SELECT count(*) FROM pg_authid")
		pgErr(t, err, "42501", "permission denied for table pg_authid")
		// Both may list principals (members of azure_pg_admin).
		if n := scalar[int](t, c.conn, "SELECT count(*) FROM pgaadauth_list_principals(true)"); n < 1 {
			t.Errorf("%s: list_principals(true) returned %d rows, want the Entra admin at least", c.who, n)
		}
	}
}

// PostgreSQL refuses to run as root: as root the server runs as the
// unprivileged "postgres" user; as anybody else it runs as that user.
func TestServerRunsUnprivileged(t *testing.T) {
	e := need(t)
	conn := super(t, "postgres")
	dataDir := scalar[string](t, conn, "SHOW data_directory")
	pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatalf("reading the pid file: %v", err)
	}
	postmaster, err := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	if err != nil {
		t.Fatalf("pid file %q: %v", pidFile, err)
	}
	backend := scalar[int32](t, conn, "SELECT pg_backend_pid()")

	want := os.Geteuid()
	if want == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		want, _ = strconv.Atoi(u.Uid)
		if want == 0 {
			t.Fatal(`the OS user "postgres" is root`)
		}
	}
	for name, pid := range map[string]int{"postmaster": postmaster, "backend": int(backend)} {
		uids := procUIDs(t, pid)
		for _, uid := range uids {
			if uid != want {
				t.Errorf("%s (pid %d) runs with uids %v, want all %d", name, pid, uids, want)
				break
			}
		}
	}
	if ppid := procField(t, int(backend), "PPid"); ppid != strconv.Itoa(postmaster) {
		t.Errorf("backend's parent is %s, want the postmaster %d", ppid, postmaster)
	}
	_ = e
}

func procField(t *testing.T, pid int, field string) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return ""
}

// procUIDs returns the real, effective, saved and filesystem uids of a process.
func procUIDs(t *testing.T, pid int) []int {
	t.Helper()
	var uids []int
	for _, f := range strings.Fields(procField(t, pid, "Uid")) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		uids = append(uids, n)
	}
	return uids
}

// TLS is on with a CA the tests can verify against; the hba accepts only
// TLS connections.
func TestTLS(t *testing.T) {
	e := need(t)
	tok, err := e.IssueToken(testCtx(t), resourcePublic, "")
	if err != nil {
		t.Fatal(err)
	}
	connString := func(host, mode, rootCert string) string {
		q := url.Values{"sslmode": {mode}}
		if rootCert != "" {
			q.Set("sslrootcert", rootCert)
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword(e.AdminName(), tok.Value),
			Host: fmt.Sprintf("%s:%d", host, e.Port()), Path: "/postgres", RawQuery: q.Encode()}
		return u.String()
	}
	if e.Env()["PGSSLROOTCERT"] != e.CAFile() {
		t.Fatalf("PGSSLROOTCERT %q is not the CA file %q", e.Env()["PGSSLROOTCERT"], e.CAFile())
	}

	for _, host := range []string{"localhost"} {
		t.Run("verify-full "+host, func(t *testing.T) {
			conn := mustOpen(t, connString(host, "verify-full", e.CAFile()))
			var ssl bool
			var version string
			if err := conn.QueryRow(testCtx(t), "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl, &version); err != nil {
				t.Fatal(err)
			}
			if !ssl || !strings.HasPrefix(version, "TLSv1.") {
				t.Errorf("pg_stat_ssl: ssl %v, version %q", ssl, version)
			}
		})
	}

	t.Run("verify-full fails without the CA", func(t *testing.T) {
		// The system roots do not know the emulator's CA.
		_, err := open(t, connString("127.0.0.1", "verify-full", filepath.Join(t.TempDir(), "missing.crt")))
		if err == nil {
			t.Fatal("verify-full with a missing CA file connected")
		}
		_, err = open(t, connString("127.0.0.1", "verify-full", otherCA(t)))
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("verify-full with another CA: want a certificate error, got %v", err)
		}
	})

	t.Run("verify-full refuses the address, which is not in the certificate", func(t *testing.T) {
		_, err := open(t, connString("127.0.0.1", "verify-full", e.CAFile()))
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("want a host name mismatch for 127.0.0.1, got %v", err)
		}
	})

	t.Run("verify-full checks the host name", func(t *testing.T) {
		cfg, err := pgx.ParseConfig(connString("127.0.0.1", "verify-full", e.CAFile()))
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLSConfig.ServerName = "db.example.com"
		_, err = pgx.ConnectConfig(testCtx(t), cfg)
		if err == nil || !strings.Contains(err.Error(), "db.example.com") {
			t.Fatalf("want a host name mismatch, got %v", err)
		}
	})

	t.Run("plaintext refused", func(t *testing.T) {
		_, err := open(t, connString("127.0.0.1", "disable", ""))
		pgErr(t, err, "28000", fmt.Sprintf(`no pg_hba.conf entry for host "127.0.0.1", user %q, database "postgres", no encryption`, e.AdminName()))
		// The superuser too.
		u, _ := url.Parse(e.SuperuserURL("postgres"))
		q := u.Query()
		q.Set("sslmode", "disable")
		u.RawQuery = q.Encode()
		_, err = open(t, u.String())
		pgErr(t, err, "28000", "")
	})
}

// otherCA writes a self-signed CA certificate unrelated to the emulator's.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "unrelated test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "other-ca.crt")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestStartupTime reports how long TestMain's Start took. BenchmarkStart
// measures cold and cached starts:
//
//	TF_ACC=1 go test ./internal/emulator -run '^$' -bench Start -benchtime 3x
func TestStartupTime(t *testing.T) {
	need(t)
	state := "cold: label module built"
	if startCached {
		state = "label module cached"
	}
	t.Logf("emulator Start (%s): %s", state, startWall.Round(time.Millisecond))
	if em.StartupTime <= 0 || em.StartupTime > startWall {
		t.Errorf("StartupTime %s, measured %s", em.StartupTime, startWall)
	}
}

// BenchmarkStart starts and stops emulators: "cold" with an empty cache, so
// that the label module is built with PGXS each time, and "cached".
func BenchmarkStart(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("emulator benchmark: set TF_ACC=1")
	}
	for _, cold := range []bool{true, false} {
		name := "cached"
		if cold {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			b.Setenv("XDG_CACHE_HOME", b.TempDir())
			if !cold {
				startStop(b) // fill the cache
			}
			b.ResetTimer()
			for range b.N {
				if cold {
					b.StopTimer()
					os.Setenv("XDG_CACHE_HOME", b.TempDir())
					b.StartTimer()
				}
				startStop(b)
			}
		})
	}
}

func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// startStop starts an emulator, checks it answers, and stops it (the stop is
// not timed).
func startStop(b *testing.B) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cpu0 := cpuTime()
	e, err := emulator.Start(ctx, emulator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	defer b.StartTimer()
	// CPU of this process and its finished children (initdb, make, cc): a
	// figure less dependent on the machine's load than the wall time.
	b.ReportMetric(float64((cpuTime() - cpu0).Milliseconds()), "cpu-ms")
	var one int
	if err := e.Superuser().QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		b.Errorf("SELECT 1: %v", err)
	}
	b.ReportMetric(float64(e.StartupTime.Milliseconds()), "startup-ms")
	e.Stop()
}
