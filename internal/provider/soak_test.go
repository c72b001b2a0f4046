package provider_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestSoak (make soak; skipped unless AZUREPG_SOAK=1) applies, refreshes,
// changes and destroys 2,000 azurepg_principal and 500 azurepg_grant with
// the real CLI, through a latency proxy, while in every phase the
// provider's connections are killed, every token it holds expires and the
// identity endpoint throttles (429, Retry-After), and during the apply the
// server fails over (down for several seconds, then up, within
// failover_timeout). After apply and change the state, the server and the
// configuration agree on every principal and grant; after destroy nothing
// is left: no role, no privilege.
//
// Every fault is certain to hit the phase it is meant for, whatever the
// machine's speed: each phase is held open by a gate, a transaction of the
// superuser that one of the phase's statements must wait for (an
// uncommitted GRANT on a grant's table in the apply and the change, a lock
// of pg_auth_members in the refresh, an uncommitted COMMENT ON ROLE of a
// principal in the destroy), so the phase cannot end before the faults are
// over and the gate is released. The faults come when the server shows the
// phase's progress (roles created, relabelled or dropped, tables granted or
// revoked),
// each waits for its premise (a connection of the provider to kill; every
// token issued so far expired; the 429s answered and a token issued after
// them), and the test fails when a fault did not happen.
func TestSoak(t *testing.T) {
	if os.Getenv("AZUREPG_SOAK") == "" {
		t.Skip("soak test: set AZUREPG_SOAK=1 (make soak does)")
	}
	cfg := soakSettingsFromEnv(t)
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	e.SetTokenLifetime(admin.ClientID, cfg.tokenLifetime)

	began := time.Now()
	prefix := acctest.Name("soak")
	ps := soakNames(t, e, prefix, cfg.principals)
	gs := soakGrants(ps, cfg.grants)
	owner, schema, gate := acctest.Name("soak-owner"), prefix+` sch "s"; ü`, acctest.Name("soak-gate")
	seedSoakTables(t, admin, owner, schema, gs)
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+qi(gate))
	t.Cleanup(func() {
		acctest.SuperExec(t, "postgres", fmt.Sprintf("DROP SCHEMA IF EXISTS %s CASCADE; DROP ROLE IF EXISTS %s; DROP ROLE IF EXISTS %s",
			qi(schema), qi(owner), qi(gate)))
	})
	t.Logf("seeded %d tenant objects and %d tables in %s", len(ps), len(gs), time.Since(began).Round(time.Millisecond))

	s := &soak{t: t, e: e, admin: admin, cfg: cfg, prefix: prefix}
	s.proxy = acctest.StartLatencyProxy(t, fmt.Sprintf("127.0.0.1:%d", e.Port()), cfg.rtt)
	s.throttle = acctest.StartIdentityThrottle(t, e.TokenEndpoint())
	w := acctest.NewWorkdir(t, soakConfig(admin, schema, ps, gs, false), map[string]string{
		"PGPORT":            fmt.Sprint(s.proxy.Port()),
		"IDENTITY_ENDPOINT": s.throttle.URL,
		// The provider's decisions (retries, waits, tokens) at DEBUG, counted
		// per phase; Terraform's own TRACE would be gigabytes here.
		"TF_LOG": "", "TF_LOG_CORE": "", "TF_LOG_PROVIDER": "DEBUG",
	})
	w.Timeout = time.Hour
	s.w = w
	t.Cleanup(func() {
		if len(w.State()) > 0 {
			w.Run("destroy", "-auto-approve", "-input=false", "-no-color")
		}
	})
	w.MustRun("version")
	n := len(ps)

	// A grant is created after its principal, and revoked before it is
	// dropped: each phase's faults fire on the progress of both types.
	created := func() int {
		return superCount(t, "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)", prefix)
	}
	dropped := func() int { return n - created() }
	granted := func(privilege string) func() int {
		return func() int {
			return superCount(t, `SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
				WHERE s.nspname = $1 AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) x WHERE x.grantee <> c.relowner AND x.privilege_type = $2)`, schema, privilege)
		}
	}
	revoked := func() int { return len(gs) - granted("SELECT")() }
	relabelled := func() int {
		return superCount(t, `SELECT count(*) FROM pg_roles r JOIN pg_shseclabel s ON s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass
			AND s.provider = 'pgaadauth' WHERE starts_with(r.rolname, $1) AND s.label ~ '(^|,)mfa(,|$)'`, prefix)
	}
	holdGrant := func(g soakGrant) func() {
		return acctest.HoldTransaction(t, "postgres", fmt.Sprintf("GRANT SELECT ON TABLE %s TO %s", pgx.Identifier{schema, g.table}.Sanitize(), qi(gate)))
	}

	// Apply: connections killed and then tokens expired and the endpoint
	// throttling while the principals are created, the failover while the
	// grants are. The gate is a GRANT on one grant's table, left
	// uncommitted (the failover ends it).
	s.phase("apply", holdGrant(gs[len(gs)/5]), func() {
		s.waitProgress("roles created", n/5, created)
		s.kill()
		s.waitProgress("roles created", 3*n/5, created)
		s.expireAndThrottle()
		s.waitProgress("tables granted", len(gs)/2, granted("SELECT"))
		s.waitLocked("the gated grant waiting on a connection opened since the last kill")
		s.failover()
	}, "apply", "-auto-approve", "-input=false", "-no-color")
	checkSoakState(t, w, prefix, schema, ps, gs, false)

	// Refresh: a plan that must find nothing to do; every read of the
	// principals waits on pg_auth_members meanwhile.
	release := acctest.HoldCatalogLock(t, "postgres", "pg_auth_members")
	s.phase("refresh", release, func() {
		s.waitLocked("a read of the refresh waiting on pg_auth_members")
		s.kill()
		s.expireAndThrottle()
	}, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	checkSoakState(t, w, prefix, schema, ps, gs, false)

	// Change: mfa and admin of some principals, privileges and the grant
	// option of some grants, in place; the gate is a GRANT on the table of
	// a grant whose privileges change.
	w.SetConfig(soakConfig(admin, schema, ps, gs, true))
	mfa, insert := 0, 0
	for _, p := range ps {
		if p.mfa {
			mfa++
		}
	}
	for _, g := range gs {
		if g.insert {
			insert++
		}
	}
	s.phase("change", holdGrant(gs[len(gs)/5&^1]), func() {
		s.waitProgress("principals relabelled with mfa", mfa/2, relabelled)
		s.kill()
		s.waitProgress("tables granted INSERT", insert/4, granted("INSERT"))
		s.expireAndThrottle()
	}, "apply", "-auto-approve", "-input=false", "-no-color")
	checkSoakState(t, w, prefix, schema, ps, gs, true)
	if r := w.Run("plan", "-input=false", "-no-color", "-detailed-exitcode"); r.Err != nil {
		t.Fatalf("the plan after the change is not empty (%v):\n%s\n%s", r.Err, tail(r.Stdout), r.Stderr)
	}

	// Destroy: connections killed while the grants are revoked, tokens
	// expired and the endpoint throttling while the principals are
	// dropped. The gate is a principal, locked by an uncommitted COMMENT
	// ON ROLE (DROP ROLE waits for the lock on the role).
	release = acctest.HoldTransaction(t, "postgres", fmt.Sprintf("COMMENT ON ROLE %s IS 'soak gate'", qi(ps[n/2].name)))
	s.phase("destroy", release, func() {
		s.waitProgress("tables revoked", len(gs)/2, revoked)
		s.kill()
		s.waitProgress("roles dropped", n/5, dropped)
		s.expireAndThrottle()
	}, "destroy", "-auto-approve", "-input=false", "-no-color")
	if left := created(); left != 0 {
		t.Errorf("%d roles of the soak left on the server after the destroy", left)
	}
	if left := superCount(t, `SELECT count(*) FROM pg_class c, pg_namespace n, aclexplode(c.relacl) x
		WHERE n.oid = c.relnamespace AND n.nspname = $1 AND x.grantee <> c.relowner`, schema); left != 0 {
		t.Errorf("%d privileges left on the soak's tables after the destroy", left)
	}
	if st := w.State(); len(st) != 0 {
		t.Errorf("%d resources left in the state after the destroy", len(st))
	}
	failovers := 0
	for _, f := range s.phases {
		if f.failover > 0 {
			failovers++
		}
	}
	if failovers != 1 {
		t.Errorf("%d failovers, want 1", failovers)
	}
	s.report(time.Since(began))
}

// soak drives the faults of one run and keeps its figures.
type soak struct {
	t        *testing.T
	e        *emulator.Emulator
	w        *acctest.Workdir
	admin    emulator.Object
	cfg      soakSettings
	prefix   string
	proxy    *acctest.LatencyProxy
	throttle *acctest.IdentityThrottle

	cmd      *background
	lastKill time.Time // server time of the last kill
	cur      *phaseFigures
	phases   []*phaseFigures
}

// phaseFigures are one phase's figures.
type phaseFigures struct {
	name                  string
	wall                  time.Duration
	kills                 []int // provider connections killed, per kill
	expiries              int   // moments when every token the provider held had expired
	throttled             int   // 429s answered
	identityRequests      int   // requests to the identity endpoint (429s included)
	tokensIssued          int   // requests the emulator's endpoint answered
	roundTrips, connected int64 // through the latency proxy
	failover              time.Duration
	retries, waits        int // the provider's log: retried operations, waits for the server
}

// soakWaitDeadline bounds each wait of the soak: a phase of thousands of
// resources on a loaded machine takes minutes before it shows a given
// progress; reaching the bound means the premise never came.
const soakWaitDeadline = 20 * time.Minute

// wait polls cond until it holds; the command of the phase must still run
// (the gate holds it).
func (s *soak) wait(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(soakWaitDeadline)
	for {
		s.cmd.running(s.t, what+" (its gate is still held)")
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: waited %s for %s: it never happened", s.cur.name, soakWaitDeadline, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// phase runs one terraform command in the background, drives the faults
// while its gate holds it open, releases the gate and judges the command.
func (s *soak) phase(name string, release func(), faults func(), args ...string) {
	s.t.Helper()
	f := &phaseFigures{name: name}
	s.cur = f
	s.phases = append(s.phases, f)
	c0, tok0, trips0, conns0 := s.throttle.Counts(), s.e.TokenRequestsFor(s.admin.ClientID), s.proxy.RoundTrips(), s.proxy.Connections()
	s.lastKill = time.Time{}
	cmd := runInBackground(s.w, args...)
	s.cmd = cmd
	s.t.Cleanup(func() { release(); cmd.wait() })
	faults()
	release()
	r := s.cmd.wait()
	c := s.throttle.Counts()
	f.wall = r.Duration
	f.throttled, f.identityRequests = c.Refused-c0.Refused, c.Requests-c0.Requests
	f.tokensIssued = s.e.TokenRequestsFor(s.admin.ClientID) - tok0
	f.roundTrips, f.connected = s.proxy.RoundTrips()-trips0, s.proxy.Connections()-conns0
	f.retries, f.waits = s.countLog(args[0], "pgaad: retrying"), s.countLog(args[0], "pgaad: server unreachable, waiting for it")
	s.t.Logf("%s: %s, exit %v; %d kills %v, %d expiries, %d throttled, %d identity requests, %d tokens issued, %d round trips over %d connections, %d retries and %d waits logged%s",
		name, f.wall.Round(time.Millisecond), r.Err, len(f.kills), f.kills, f.expiries, f.throttled, f.identityRequests, f.tokensIssued,
		f.roundTrips, f.connected, f.retries, f.waits, failoverNote(f.failover))
	if r.Err != nil {
		s.t.Fatalf("%s failed under the faults (%v):\n%s\n%s", name, r.Err, tail(r.Stdout), r.Stderr)
	}
	if len(f.kills) == 0 || f.expiries == 0 || f.throttled < s.cfg.throttled {
		s.t.Fatalf("%s: a fault did not happen: %d kills, %d expiries, %d of %d 429s", name, len(f.kills), f.expiries, f.throttled, s.cfg.throttled)
	}
	if f.roundTrips == 0 {
		s.t.Fatalf("%s: nothing went through the latency proxy", name)
	}
	if f.failover > 0 && f.waits == 0 {
		s.t.Fatalf("%s: the server failed over, but the provider logged no wait for it", name)
	}
}

func failoverNote(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("; failover: server down %s", d.Round(time.Millisecond))
}

// waitProgress waits until progress() reaches at least n.
func (s *soak) waitProgress(what string, n int, progress func() int) {
	s.t.Helper()
	s.wait(fmt.Sprintf("%d %s", n, what), func() bool { return progress() >= n })
}

// providerConns counts the provider's connections opened since the last
// kill; with locked, only those waiting for a lock.
func (s *soak) providerConns(locked bool) int {
	return superCount(s.t, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND application_name LIKE $2
		AND backend_start > $3 AND (NOT $4 OR wait_event_type = 'Lock')`,
		s.admin.Name, acctest.ProviderApplicationPrefix+"%", s.lastKill, locked)
}

// waitLocked waits for a connection of the provider, opened since the
// last kill, to wait for a lock (the gate's, in the apply and refresh).
func (s *soak) waitLocked(what string) {
	s.t.Helper()
	s.wait(what, func() bool { return s.providerConns(true) > 0 })
}

// kill terminates every connection of the provider, once one opened since
// the last kill exists, and records how many.
func (s *soak) kill() {
	s.t.Helper()
	var killed int
	s.wait("a connection of the provider opened since the last kill, to kill", func() bool {
		if s.providerConns(false) == 0 {
			return false
		}
		if err := s.e.Superuser().QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)), statement_timestamp()
			FROM pg_stat_activity WHERE usename = $1 AND application_name LIKE $2`,
			s.admin.Name, acctest.ProviderApplicationPrefix+"%").Scan(&killed, &s.lastKill); err != nil {
			s.t.Fatal(err)
		}
		return killed > 0
	})
	s.cur.kills = append(s.cur.kills, killed)
}

// expireAndThrottle arms the endpoint's 429s, waits until every token the
// provider was issued has expired, kills its connections (it must log in
// again, and so fetch a token, to go on), and waits until the 429s were
// answered and a token was issued after them.
func (s *soak) expireAndThrottle() {
	s.t.Helper()
	s.throttle.Throttle(s.cfg.throttled)
	id := s.admin.ClientID
	var expired time.Time
	s.wait("a moment when every token issued to the provider has expired", func() bool {
		expired = s.e.LastTokenExpiry(id)
		acctest.SleepUntil(expired)
		return s.e.LastTokenExpiry(id).Equal(expired) // none issued meanwhile: all expired now
	})
	s.cur.expiries++
	s.kill()
	s.wait("the 429s answered, then a token issued after every earlier one expired", func() bool {
		c := s.throttle.Counts()
		return c.Pending == 0 && c.PassedSinceRefusal > 0 && s.e.LastTokenExpiry(id).After(expired)
	})
}

// failover takes the server down while a connection of the provider waits
// on the gate (the apply's gated creation), for cfg.outage, and up again.
func (s *soak) failover() {
	s.t.Helper()
	s.waitLocked("the gated creation waiting on a connection opened since the last kill")
	began := time.Now()
	if err := s.e.Down(); err != nil {
		s.t.Fatalf("failover: stopping the emulator: %v", err)
	}
	time.Sleep(s.cfg.outage) // the outage's length is the test's input, not a wait for a condition
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.e.Up(ctx); err != nil {
		s.t.Fatalf("failover: starting the emulator again: %v", err)
	}
	s.cur.failover = time.Since(began)
}

// countLog counts the lines of the last log of a command that contain needle.
func (s *soak) countLog(command, needle string) int {
	files, _ := filepath.Glob(filepath.Join(s.w.Dir, "trace-*-"+command+".log"))
	if len(files) == 0 {
		return 0
	}
	f, err := os.Open(files[len(files)-1]) // numbered with two digits: the last sorts last
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), needle) {
			n++
		}
	}
	return n
}

// report prints the figures of every phase as a table.
func (s *soak) report(total time.Duration) {
	var b strings.Builder
	major := os.Getenv("PG_MAJOR")
	if major == "" {
		major = "15"
	}
	fmt.Fprintf(&b, "soak of %d principals and %d grants, PostgreSQL %s, round trip %s, tokens of %s, %d 429s a phase, outage %s: %s in all\n",
		s.cfg.principals, s.cfg.grants, major, s.cfg.rtt, s.cfg.tokenLifetime, s.cfg.throttled, s.cfg.outage, total.Round(time.Second))
	fmt.Fprintf(&b, "%-8s %10s %6s %-16s %8s %9s %9s %7s %11s %8s %7s %6s %9s\n",
		"phase", "wall", "kills", "killed", "expiries", "throttled", "identity", "tokens", "round trips", "connects", "retries", "waits", "failover")
	for _, f := range s.phases {
		fo := "-"
		if f.failover > 0 {
			fo = f.failover.Round(time.Millisecond).String()
		}
		fmt.Fprintf(&b, "%-8s %10s %6d %-16s %8d %9d %9d %7d %11d %8d %7d %6d %9s\n", f.name, f.wall.Round(time.Millisecond), len(f.kills),
			strings.Trim(fmt.Sprint(f.kills), "[]"), f.expiries, f.throttled, f.identityRequests, f.tokensIssued, f.roundTrips, f.connected, f.retries, f.waits, fo)
	}
	s.t.Log("\n" + b.String())
}

// tail is the end of a long output.
func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
