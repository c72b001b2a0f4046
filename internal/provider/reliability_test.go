package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// Faults injected here, with the real Terraform CLI and the provider in a
// process of its own (acctest.Workdir), as a user would run them:
//   - the server restarted in the middle of an apply of 200 principals;
//   - pg_terminate_backend of the provider's connections during a refresh
//     and during an apply whose token expired meanwhile;
//   - one principal of 50 that the tenant does not know;
//   - two applies at once, on different principals and on the same one.

// tenantObjects adds n tenant objects named prefix-NNN (users, so
// that the names are UPNs) and returns their names.
func tenantObjects(t *testing.T, kind, prefix string, n int) []string {
	t.Helper()
	e := acctest.Emulator(t)
	names := make([]string, n)
	for i := range names {
		o := emulator.Object{Kind: kind, Name: fmt.Sprintf("%s-%03d", prefix, i)}
		if kind == "user" {
			o.Name += "@contoso.com"
		}
		if _, err := e.AddObject(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		names[i] = o.Name
	}
	return names
}

// forEachConfig is a provider that logs in as admin and one
// azurepg_principal "p" per entry of names (key → role name).
func forEachConfig(admin emulator.Object, names map[string]string) string {
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(acctest.RequiredProviders)
	b.WriteString(acctest.ProviderBlock(admin, ""))
	b.WriteString("locals {\n  principals = {\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "    %q = %q\n", k, names[k])
	}
	b.WriteString("  }\n}\n\nresource \"azurepg_principal\" \"p\" {\n  for_each = local.principals\n  name     = each.value\n}\n")
	return b.String()
}

func keyed(names []string) map[string]string {
	m := map[string]string{}
	for i, n := range names {
		m[fmt.Sprintf("k%03d", i)] = n
	}
	return m
}

// rolesLike lists the roles whose name starts with prefix.
func rolesLike(t *testing.T, prefix string) map[string]bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), acctest.Emulator(t).SuperuserURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)", prefix)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// stateNames is the name of every azurepg_principal in the state.
func stateNames(w *acctest.Workdir) map[string]bool {
	out := map[string]bool{}
	for _, r := range w.State() {
		if r.Type == "azurepg_principal" {
			out[r.Values["name"].(string)] = true
		}
	}
	return out
}

// checkStateMatchesServer: every principal in the state exists on the
// server and no role with the prefix exists that the state does not know.
func checkStateMatchesServer(t *testing.T, w *acctest.Workdir, prefix string) (inState int) {
	t.Helper()
	state, server := stateNames(w), rolesLike(t, prefix)
	for n := range state {
		if !server[n] {
			t.Errorf("%q is in the state but not on the server", n)
		}
	}
	for n := range server {
		if !state[n] {
			t.Errorf("%q is on the server but not in the state: Terraform lost track of it", n)
		}
	}
	return len(state)
}

// errorAddresses are the resource addresses that Terraform's error
// diagnostics name ("with azurepg_principal.p[\"k001\"],").
func errorAddresses(stderr string) map[string]int {
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`with (azurepg_principal\.p\["[^"]+"\])`).FindAllStringSubmatch(stderr, -1) {
		out[m[1]]++
	}
	return out
}

// background is a terraform command that runs in a goroutine while the
// test makes a fault happen in its middle.
type background struct {
	done chan struct{}
	r    acctest.CLIResult
}

// runInBackground starts the command. The caller registers a cleanup that
// lets it end (releases what holds it) and then waits for it.
func runInBackground(w *acctest.Workdir, args ...string) *background {
	b := &background{done: make(chan struct{})}
	go func() { defer close(b.done); b.r = w.Run(args...) }()
	return b
}

// running fails the test when the command has already ended: the fault
// was meant to hit it in flight.
func (b *background) running(t *testing.T, what string) {
	t.Helper()
	select {
	case <-b.done:
		t.Fatalf("terraform ended before %s (%v):\n%s\n%s", what, b.r.Err, b.r.Stdout, b.r.Stderr)
	default:
	}
}

// wait returns the command's result once it has ended.
func (b *background) wait() acctest.CLIResult { <-b.done; return b.r }

// superCount runs a count query as the superuser (on the emulator's
// current pool: a restart replaces it).
func superCount(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := acctest.Emulator(t).Superuser().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// providerLockWaits counts the provider's connections (logged in as role)
// that wait for a lock, in database ("" for any).
func providerLockWaits(t *testing.T, role, database string) int {
	t.Helper()
	return superCount(t, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND application_name LIKE $2
		AND wait_event_type = 'Lock' AND ($3 = '' OR datname = $3)`, role, acctest.ProviderApplicationPrefix+"%", database)
}

// TestReliabilityRestartDuringApply restarts the server while an apply of
// 200 principals runs. Whatever failed is reported by address; the state
// matches the server exactly (no role that Terraform does not know, no
// state entry without its role); the next apply converges with no manual
// step and the plan after it is empty. Then the provider's connections are
// killed during refreshes: the reads are retried and the plans stay empty.
//
// Both faults hit the command in flight whatever the machine's speed: the
// restart comes once 40 roles exist while the creation of another waits
// behind an uncommitted CREATE ROLE of its name (a transaction that the
// restart ends), so the apply cannot have finished; each kill comes while
// the refresh's read waits for a lock on pg_auth_members (which the
// principals' query reads and, held by HoldCatalogLock, logging in does
// not), released after it.
func TestReliabilityRestartDuringApply(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	prefix := acctest.Name("rel-restart")
	names := tenantObjects(t, "user", prefix, 200)
	w := acctest.NewWorkdir(t, forEachConfig(admin, keyed(names)), nil)
	t.Cleanup(func() { w.Run("destroy", "-auto-approve", "-input=false") })
	w.MustRun("version") // writes the CLI configuration here, not in a command's goroutine

	held := names[137]
	release := acctest.HoldTransaction(t, "postgres", "CREATE ROLE "+pgx.Identifier{held}.Sanitize())
	began := time.Now()
	apply := runInBackground(w, "apply", "-auto-approve", "-input=false", "-no-color")
	t.Cleanup(func() { release(); apply.wait() })
	var n int
	acctest.WaitFor(t, "40 of the 200 roles, and the creation of "+held+" waiting behind the held CREATE ROLE", func() bool {
		apply.running(t, "the restart ("+held+" cannot be created before it)")
		n = superCount(t, "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)", prefix)
		return n >= 40 && superCount(t, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1
			AND wait_event_type = 'Lock' AND wait_event = 'transactionid'`, admin.Name) > 0
	})
	rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err := e.Restart(rctx)
	cancel()
	if err != nil {
		t.Fatalf("restarting the emulator: %v", err)
	}
	first := apply.wait()
	created := checkStateMatchesServer(t, w, prefix)
	failed := errorAddresses(first.Stderr)
	t.Logf("apply 1 (restart after %d roles): %s, err=%v; %d principals in state and on the server, %d reported failed",
		n, time.Since(began).Round(time.Millisecond), first.Err, created, len(failed))
	if first.Err == nil && created != 200 {
		t.Fatalf("the apply succeeded with %d of 200 principals", created)
	}
	if created+len(failed) != 200 {
		t.Errorf("%d created + %d reported failed != 200:\n%s", created, len(failed), first.Stderr)
	}
	for addr, times := range failed {
		if times != 1 {
			t.Errorf("%s reported %d times", addr, times)
		}
	}

	second := w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	if got := checkStateMatchesServer(t, w, prefix); got != 200 {
		t.Fatalf("after the second apply %d principals, want 200\n%s", got, second.Stdout)
	}
	if r := w.Run("plan", "-input=false", "-no-color", "-detailed-exitcode"); r.Err != nil {
		t.Fatalf("plan after convergence is not empty (%v):\n%s\n%s", r.Err, r.Stdout, r.Stderr)
	}
	// Errors raised under faults must not carry the token either.
	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	w.CheckNoSecrets(map[string]string{"access token": tok.Value, "identity header": e.IdentityHeader()})

	// pg_terminate_backend during a refresh of 200 principals.
	for round := range 3 {
		release := acctest.HoldCatalogLock(t, "postgres", "pg_auth_members")
		plan := runInBackground(w, "plan", "-input=false", "-no-color", "-detailed-exitcode")
		t.Cleanup(func() { release(); plan.wait() })
		acctest.WaitFor(t, fmt.Sprintf("round %d: a read of the refresh waiting on pg_auth_members", round), func() bool {
			plan.running(t, "its reads were held")
			return providerLockWaits(t, admin.Name, "") > 0
		})
		killed := superCount(t, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE usename = $1 AND application_name LIKE $2 AND wait_event_type = 'Lock'`, admin.Name, acctest.ProviderApplicationPrefix+"%")
		release()
		r := plan.wait()
		if killed == 0 {
			t.Fatalf("round %d: no connection to kill, although a read waited on a lock that was still held", round)
		}
		if r.Err != nil {
			t.Fatalf("round %d: plan after killing %d connections during the refresh (%v):\n%s\n%s", round, killed, r.Err, r.Stdout, r.Stderr)
		}
		t.Logf("refresh %d: %d provider connections killed while reading, plan empty in %s", round, killed, r.Duration.Round(time.Millisecond))
	}
}

// TestReliabilityTokenExpiresDuringApply: tokens live 2 s, and an apply of
// 300 principals is held mid-flight while, in each of 3 rounds, every token
// issued to the identity so far expires for real and the provider's
// connections are killed: it must log in again with a new token (the
// server refuses an expired one, as Azure does) in the middle of the apply.
// The apply succeeds.
//
// The premise is made, not hoped for, however fast the apply: every
// creation reads the tenant's directory (pgaadauth_create_principal), which
// a lock keeps to itself until the rounds are over (logging in and reading
// roles do not touch it), so the provider's connections wait inside
// creations. Each round waits for a connection opened since the last kill
// to wait there, for a token issued since the last round (the reconnection
// needed one), for every token issued so far to expire, and for every
// busy connection of the provider to wait on the lock (an idle one in the
// pool carries no creation); then it kills those that wait. Only
// connections that wait on the lock are killed, so no retry's check of a
// lost COMMIT is hit by a kill.
func TestReliabilityTokenExpiresDuringApply(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	const lifetime, rounds = 2 * time.Second, 3
	e.SetTokenLifetime(admin.ClientID, lifetime)
	prefix := acctest.Name("rel-expiry")
	names := tenantObjects(t, "group", prefix, 300)
	w := acctest.NewWorkdir(t, forEachConfig(admin, keyed(names)), nil)
	t.Cleanup(func() { w.Run("destroy", "-auto-approve", "-input=false") })
	w.MustRun("version") // writes the CLI configuration here, not in the apply's goroutine

	release := acctest.HoldTransaction(t, "postgres", "LOCK TABLE azure_emulator.directory IN ACCESS EXCLUSIVE MODE")
	before := e.TokenRequestsFor(admin.ClientID)
	// Terraform's default parallelism: connections that still log in with
	// the previous token while others fetch the next must work, as on Azure
	// (the emulator's front door accepts every unexpired token).
	apply := runInBackground(w, "apply", "-auto-approve", "-input=false", "-no-color")
	t.Cleanup(func() { release(); apply.wait() })

	app := acctest.ProviderApplicationPrefix + "%"
	super := e.Superuser()
	var lastKill time.Time // server time of the last kill
	var expired time.Time  // when every token issued before the last kill had expired
	for round := 1; round <= rounds; round++ {
		acctest.WaitFor(t, fmt.Sprintf("round %d: a connection of the provider opened since the last kill, waiting inside a creation, with a token issued since", round), func() bool {
			apply.running(t, "the rounds (every creation is held)")
			return e.LastTokenExpiry(admin.ClientID).After(expired) &&
				superCount(t, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND application_name LIKE $2
					AND wait_event_type = 'Lock' AND backend_start > $3`, admin.Name, app, lastKill) > 0
		})
		expired = e.LastTokenExpiry(admin.ClientID)
		acctest.SleepUntil(expired)
		// Busy connections only: an idle one (the pool keeps a connection
		// for up to two minutes after its last use, e.g. the one that
		// confirmed a lost COMMIT) carries no creation, and the retries'
		// pool reset drops it.
		acctest.WaitFor(t, fmt.Sprintf("round %d: every busy connection of the provider waiting on the lock", round), func() bool {
			apply.running(t, "the rounds (every creation is held)")
			var waiting, elsewhere int
			if err := super.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),
				count(*) FILTER (WHERE wait_event_type IS DISTINCT FROM 'Lock' AND state IS DISTINCT FROM 'idle')
				FROM pg_stat_activity WHERE usename = $1 AND application_name LIKE $2`, admin.Name, app).Scan(&waiting, &elsewhere); err != nil {
				t.Fatal(err)
			}
			return waiting > 0 && elsewhere == 0
		})
		var killed int
		if err := super.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)), statement_timestamp()
			FROM pg_stat_activity WHERE usename = $1 AND application_name LIKE $2 AND wait_event_type = 'Lock'`,
			admin.Name, app).Scan(&killed, &lastKill); err != nil {
			t.Fatal(err)
		}
		if killed == 0 {
			t.Fatalf("round %d: no connection to kill, although all of them waited on a lock that is still held", round)
		}
		t.Logf("round %d: every token expired at %s; killed %d connections waiting inside creations; %d token requests so far",
			round, expired.Format(time.TimeOnly), killed, e.TokenRequestsFor(admin.ClientID)-before)
	}
	release()
	r := apply.wait()
	if r.Err != nil {
		t.Fatalf("apply with %s tokens and connections killed in %d rounds: %v\n%s", lifetime, rounds, r.Err, r.Stderr)
	}
	tokens := e.TokenRequestsFor(admin.ClientID) - before
	t.Logf("apply of 300 principals in %s with %s tokens: %d token requests, connections killed in %d rounds",
		r.Duration.Round(time.Millisecond), lifetime, tokens, rounds)
	// One token before the first round, one after each kill.
	if tokens < rounds+1 {
		t.Errorf("%d token requests, want at least %d", tokens, rounds+1)
	}
	if last := e.LastTokenExpiry(admin.ClientID); !last.After(expired) {
		t.Errorf("no token was issued after the last kill (the last expires at %s): the provider did not log in again", last.Format(time.TimeOnly))
	}
	if got := checkStateMatchesServer(t, w, prefix); got != 300 {
		t.Fatalf("%d principals, want 300", got)
	}
}
