package emulator_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

var (
	modeMu  sync.Mutex
	modeEms = map[emulator.TokenLogin]*emulator.Emulator{}
)

// withMode returns an emulator that checks tokens the given way: the
// package's own when that is its mode, otherwise one started for these tests
// (stopped by TestMain through stopModes).
func withMode(t testing.TB, mode emulator.TokenLogin) *emulator.Emulator {
	t.Helper()
	if em == nil {
		t.Skip("emulator test: set TF_ACC=1 (make test does)")
	}
	if em.TokenLogin() == mode {
		return em
	}
	modeMu.Lock()
	defer modeMu.Unlock()
	if e := modeEms[mode]; e != nil {
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := emulator.Start(ctx, emulator.Options{TokenLogin: mode})
	if err != nil {
		t.Fatalf("starting an emulator with token login %q: %v", mode, err)
	}
	modeEms[mode] = e
	return e
}

func front(t testing.TB) *emulator.Emulator { return withMode(t, emulator.TokenLoginFrontDoor) }

func stopModes() {
	modeMu.Lock()
	defer modeMu.Unlock()
	for _, e := range modeEms {
		e.Stop()
	}
}

// The old way stays usable (Options.TokenLogin = password): a new token
// becomes the role's password and replaces the previous one.
func TestPasswordTokenLogin(t *testing.T) {
	e := withMode(t, emulator.TokenLoginPassword)
	mi := frontIdentity(t, e, hostile("password mode"))
	t1 := frontToken(t, e, mi.ClientID)
	if _, err := frontLogin(t, e, mi.Name, t1); err != nil {
		t.Fatal(err)
	}
	e.RevokeTokens()
	t2 := frontToken(t, e, mi.ClientID)
	if _, err := frontLogin(t, e, mi.Name, t2); err != nil {
		t.Fatal(err)
	}
	_, err := frontLogin(t, e, mi.Name, t1)
	pgErr(t, err, "28P01", `password authentication failed for user "`+mi.Name+`"`)
	if _, err := frontLogin(t, e, emulator.ServerAdmin, e.ServerAdminPassword()); err != nil {
		t.Errorf("server admin: %v", err)
	}
}

// frontIdentity adds a managed identity named name to e's tenant and makes
// it a principal.
func frontIdentity(t *testing.T, e *emulator.Emulator, name string) emulator.Object {
	t.Helper()
	o, err := e.AddObject(testCtx(t), emulator.Object{Kind: "managed_identity", Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Superuser().Exec(testCtx(t), "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", o.Name, o.ObjectID); err != nil {
		t.Fatal(err)
	}
	return o
}

func frontToken(t *testing.T, e *emulator.Emulator, clientID string) string {
	t.Helper()
	tok, err := e.IssueToken(testCtx(t), resourcePublic, clientID)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

func frontLogin(t *testing.T, e *emulator.Emulator, role, token string) (*pgx.Conn, error) {
	t.Helper()
	return open(t, e.URL(role, token, "postgres"))
}

// Azure's texts for refused tokens (sources in jwt.go).
const (
	msgExpired  = "The access token has expired. Please acquire a new token and retry."
	msgAudience = `The access token does not have a valid audience claim. Please acquire a new token for the resource "https://ossrdbms-aad.database.windows.net".`
	msgFormat   = "The access token has invalid format. Please ensure the token is passed exactly as returned by the authentication endpoint and retry."
	msgInvalid  = "An error occurred while validating the access token. Please acquire a new token and retry."
)

// oidMismatch is the emulator's text for a service principal's token for a
// role labelled with another service principal (GUESS: jwt.go).
func oidMismatch(role, roleOID, appid, oid string) string {
	return "Service principal oid mismatch for role[" + role + "]: the role's object id " + roleOID +
		" does not match the appid " + appid + " or oid " + oid + " in the token"
}

// refused asserts that the token is refused with the client message msg
// (empty: PostgreSQL's wrong-password text for the role) and, unless why is
// empty, that the server log gives the reason.
func refused(t *testing.T, e *emulator.Emulator, role, token, msg, why string) {
	t.Helper()
	if msg == "" {
		msg = `password authentication failed for user "` + role + `"`
	}
	_, err := frontLogin(t, e, role, token)
	pgErr(t, err, "28P01", msg)
	if why == "" {
		return
	}
	// The reason is in the server log only, as PostgreSQL's DETAIL of a failed login.
	log, rerr := os.ReadFile(e.ServerLog())
	if rerr != nil {
		t.Fatal(rerr)
	}
	if !strings.Contains(string(log), "@postgres DETAIL:  "+why) {
		t.Errorf("the server log does not give the reason %q", why)
	}
}

// Two unexpired tokens of one identity both log in, and sessions opened with
// either live on: Azure checks a token, it does not store one per identity.
func TestFrontDoorEveryUnexpiredToken(t *testing.T) {
	e := front(t)
	mi := frontIdentity(t, e, hostile("two tokens"))
	t1 := frontToken(t, e, mi.ClientID)
	e.RevokeTokens() // the next request mints a new token
	t2 := frontToken(t, e, mi.ClientID)
	if t1 == t2 {
		t.Fatal("RevokeTokens did not make a new token")
	}
	china, err := e.IssueToken(testCtx(t), resourceChina, mi.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range []string{t1, t2, china.Value, t1} {
		conn, err := frontLogin(t, e, mi.Name, tok)
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if u := scalar[string](t, conn, "SELECT current_user"); u != mi.Name {
			t.Errorf("token %d: current_user %q", i, u)
		}
	}
}

func TestFrontDoorRefusesTokens(t *testing.T) {
	e := front(t)
	mi := frontIdentity(t, e, hostile("refused"))
	other := frontIdentity(t, e, hostile("other"))
	good := frontToken(t, e, mi.ClientID)
	c := claims(t, good)
	now := time.Now().Unix()
	signed := func(change map[string]any) string {
		m := map[string]any{}
		for k, v := range c {
			m[k] = v
		}
		for k, v := range change {
			m[k] = v
		}
		return e.SignTokenForTest(m)
	}
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding
	otherClaims, _ := json.Marshal(map[string]any{"aud": resourcePublic, "oid": mi.ObjectID, "tid": e.TenantID(), "exp": now + 3600, "nbf": now})
	none, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})

	cases := []struct{ name, token, msg, why string }{
		{"bad signature", parts[0] + "." + parts[1] + "." + enc.EncodeToString([]byte("not the signature of these claims")), msgInvalid, "the token's signature is not valid"},
		{"claims changed under the signature", parts[0] + "." + enc.EncodeToString(otherClaims) + "." + parts[2], msgInvalid, "the token's signature is not valid"},
		{"unsigned", enc.EncodeToString(none) + "." + parts[1] + ".", msgInvalid, "the token's signature is not valid"},
		{"expired", signed(map[string]any{"exp": now - 1}), msgExpired, "the token expired at "},
		{"not yet valid", signed(map[string]any{"nbf": now + 600}), msgInvalid, "the token is not valid before "},
		{"wrong audience", signed(map[string]any{"aud": "https://management.azure.com"}), msgAudience, `the token's audience "https://management.azure.com" is not Azure Database for PostgreSQL`},
		{"another tenant", signed(map[string]any{"tid": "11111111-2222-3333-4444-555555555555"}), msgInvalid, "the token is for tenant 11111111-2222-3333-4444-555555555555"},
		{"another identity's oid", signed(map[string]any{"oid": other.ObjectID}),
			oidMismatch(mi.Name, mi.ObjectID, mi.ClientID, other.ObjectID), "the token is for object id " + other.ObjectID},
		{"another identity's token", frontToken(t, e, other.ClientID),
			oidMismatch(mi.Name, mi.ObjectID, other.ClientID, other.ObjectID), "the token is for object id " + other.ObjectID},
		// A user's token (no appid) of another object: PostgreSQL's wrong-password text.
		{"a user's token", signed(map[string]any{"oid": other.ObjectID, "appid": ""}), "", "the token is for object id " + other.ObjectID},
		{"a password", "not-a-token", msgFormat, "the password is not an Entra access token"},
		{"wrapped in braces", "{" + good + "}", msgFormat, "the password is not an Entra access token"},
		{"empty", "", msgFormat, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { refused(t, e, mi.Name, tc.token, tc.msg, tc.why) })
	}
	// A managed identity's token for a role labelled as a user.
	user, err := e.AddObject(testCtx(t), emulator.Object{Kind: "user", Name: hostile("user") + "@contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Superuser().Exec(testCtx(t), "SELECT azure_emulator.create_role($1, 'user', $2, false, false)", user.Name, user.ObjectID); err != nil {
		t.Fatal(err)
	}
	refused(t, e, user.Name, good, "Service Principals cannot generate AAD_AUTH_TOKENTYPE_APP_USER tokens for role["+user.Name+"]",
		"the token is for object id "+mi.ObjectID)
	// A correctly signed token with another sovereign cloud's audience logs in.
	if _, err := frontLogin(t, e, mi.Name, signed(map[string]any{"aud": resourceUSGov})); err != nil {
		t.Errorf("US Government audience: %v", err)
	}
	if _, err := frontLogin(t, e, mi.Name, good); err != nil {
		t.Errorf("the good token after the refusals: %v", err)
	}
	// A role that is no principal gets PostgreSQL's own answer, as does a
	// missing database after a good token.
	_, err = frontLogin(t, e, hostile("no such role"), good)
	pgErr(t, err, "28P01", "")
	_, err = open(t, e.URL(mi.Name, good, "no such db"))
	pgErr(t, err, "3D000", `database "no such db" does not exist`)
}

// An expired token is refused on a new connection; one opened before lives on.
func TestFrontDoorExpiry(t *testing.T) {
	e := front(t)
	mi := frontIdentity(t, e, hostile("expiring"))
	e.SetTokenLifetime(mi.ClientID, 2*time.Second)
	tok, err := e.IssueToken(testCtx(t), resourcePublic, mi.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	live, err := frontLogin(t, e, mi.Name, tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(tok.ExpiresOn) + 1100*time.Millisecond)
	refused(t, e, mi.Name, tok.Value, msgExpired, "the token expired at "+tok.ExpiresOn.UTC().Format(time.RFC3339))
	if v := scalar[int](t, live, "SELECT 1"); v != 1 {
		t.Error("the session opened before expiry broke")
	}
}

// Role names are hostile: quotes, spaces, @, non-ASCII, 63 bytes.
func TestFrontDoorHostileNames(t *testing.T) {
	e := front(t)
	long := uniq("ñ@ 'q\" ")
	long += strings.Repeat("x", 63-len(long))
	for _, name := range []string{hostile("hostile"), uniq(`a"b'c d@e.com `), uniq("Ünïcødé 名前 "), long} {
		mi := frontIdentity(t, e, name)
		conn, err := frontLogin(t, e, mi.Name, frontToken(t, e, mi.ClientID))
		if err != nil {
			t.Errorf("%q (%d bytes): %v", name, len(name), err)
			continue
		}
		if u := scalar[string](t, conn, "SELECT current_user"); u != name {
			t.Errorf("current_user %q, want %q", u, name)
		}
	}
}

// The session is PostgreSQL's own: TLS, its pid, cancel, the application
// name, pg_terminate_backend, and password logins checked by PostgreSQL.
func TestFrontDoorSession(t *testing.T) {
	e := front(t)
	mi := frontIdentity(t, e, hostile("session"))
	conn := mustOpen(t, e.URL(mi.Name, frontToken(t, e, mi.ClientID), "postgres")+"&application_name="+uniq("fd-app-"))
	app := conn.Config().RuntimeParams["application_name"]
	pid := conn.PgConn().PID()
	var ssl bool
	var gotApp string
	if err := e.Superuser().QueryRow(testCtx(t), `SELECT s.ssl, a.application_name FROM pg_stat_ssl s
		JOIN pg_stat_activity a USING (pid) WHERE pid = $1`, int32(pid)).Scan(&ssl, &gotApp); err != nil {
		t.Fatalf("the client's pid %d is no PostgreSQL session: %v", pid, err)
	}
	if !ssl || gotApp != app {
		t.Errorf("session: ssl %v, application_name %q; want true, %q", ssl, gotApp, app)
	}

	t.Run("cancel", func(t *testing.T) {
		// A CancelRequest (over TLS, as pgx sends it for a TLS session)
		// reaches the session's PostgreSQL process: sent once the statement
		// runs, and without a context deadline that would cancel it too.
		cancelled := make(chan error, 1)
		go func() {
			deadline := time.Now().Add(waitDeadline)
			for {
				var running bool
				if err := e.Superuser().QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
					WHERE pid = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep%')`, int32(pid)).Scan(&running); err != nil {
					cancelled <- err
					return
				}
				if running {
					break
				}
				if time.Now().After(deadline) {
					cancelled <- fmt.Errorf("the statement was not seen running within %s", waitDeadline)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancelled <- conn.PgConn().CancelRequest(context.Background())
		}()
		// Were the cancel lost, the statement would end without an error.
		_, err := conn.Exec(context.Background(), "SELECT pg_sleep(150)")
		if cerr := <-cancelled; cerr != nil {
			t.Fatalf("CancelRequest: %v", cerr)
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" {
			t.Fatalf("want 57014 canceling statement due to user request, got %v", err)
		}
		if v := scalar[int](t, conn, "SELECT 2"); v != 2 {
			t.Error("the session did not survive the cancel")
		}
	})

	t.Run("pg_terminate_backend", func(t *testing.T) {
		var ok bool
		if err := e.Superuser().QueryRow(testCtx(t), "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&ok); err != nil || !ok {
			t.Fatalf("pg_terminate_backend: %v %v", ok, err)
		}
		// It signals; the backend leaves pg_stat_activity once it has exited.
		waitFor(t, "the terminated backend to exit", func() bool {
			var n int
			if err := e.Superuser().QueryRow(testCtx(t), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", int32(pid)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 0
		})
		if _, err := conn.Exec(testCtx(t), "SELECT 1"); err == nil {
			t.Error("the client's connection outlived its terminated backend")
		}
	})

	t.Run("passwords", func(t *testing.T) {
		c := mustOpen(t, e.URL(emulator.ServerAdmin, e.ServerAdminPassword(), "postgres"))
		if u := scalar[string](t, c, "SELECT current_user"); u != emulator.ServerAdmin {
			t.Errorf("current_user %q", u)
		}
		_, err := open(t, e.URL(emulator.ServerAdmin, "wrong", "postgres"))
		pgErr(t, err, "28P01", fmt.Sprintf(`password authentication failed for user "%s"`, emulator.ServerAdmin))
		// An Entra principal never logs in with a password, a token never as a plain role.
		_, err = open(t, e.URL(emulator.ServerAdmin, frontToken(t, e, ""), "postgres"))
		pgErr(t, err, "28P01", "")
	})

	t.Run("plaintext refused", func(t *testing.T) {
		u := strings.Replace(e.URL(mi.Name, frontToken(t, e, mi.ClientID), "postgres"), "sslmode=verify-full", "sslmode=disable", 1)
		_, err := open(t, u)
		pgErr(t, err, "28000", `no pg_hba.conf entry for host "127.0.0.1", user "`+mi.Name+`", database "postgres", no encryption`)
	})
}

// BenchmarkTokenLogin starts an emulator of each kind and logs in 200 times
// with one token (pgx.Connect, SELECT 1, Close), in one run:
//
//	TF_ACC=1 go test ./internal/emulator -run '^$' -bench TokenLogin -benchtime 1x
func BenchmarkTokenLogin(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("emulator benchmark: set TF_ACC=1")
	}
	for _, mode := range []emulator.TokenLogin{emulator.TokenLoginPassword, emulator.TokenLoginFrontDoor} {
		b.Run(string(mode), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			e, err := emulator.Start(ctx, emulator.Options{TokenLogin: mode})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Stop()
			tok, err := e.IssueToken(ctx, resourcePublic, "")
			if err != nil {
				b.Fatal(err)
			}
			url := e.URL(e.AdminName(), tok.Value, "postgres")
			b.ResetTimer()
			for range b.N {
				for range 200 {
					conn, err := pgx.Connect(ctx, url)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
						b.Fatal(err)
					}
					conn.Close(ctx)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*200)/1000, "ms/login")
			b.ReportMetric(float64(e.StartupTime.Milliseconds()), "startup-ms") // after ResetTimer, which drops metrics
		})
	}
}
