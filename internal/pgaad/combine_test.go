package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// combinedCreates starts the creation of names (a principal each) on a
// client with one connection while a first creation, of blocker, waits on
// the server for a transaction held open; it returns once all of them
// wait in the queue to share a round trip, and a function that waits for
// their outcomes, by name.
func combinedCreates(t *testing.T, c *pgaad.Client, blocker string, names []string) func() map[string]error {
	t.Helper()
	return combinedWrites(t, c, pgaad.PrincipalsDatabase, blocker, names, func(name string) error {
		_, err := c.CreatePrincipal(context.Background(), pgaad.NewPrincipal{Name: name})
		return err
	})
}

// combinedWrites runs write(blocker), waits until it waits on the server
// (for a transaction held open), then runs write for each of names and
// waits until they are all sent behind it (or queued); it returns a
// function that waits for their outcomes, by name.
func combinedWrites(t *testing.T, c *pgaad.Client, database, blocker string, names []string, write func(name string) error) func() map[string]error {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	out := map[string]error{}
	var wg sync.WaitGroup
	run := func(name string) {
		defer wg.Done()
		err := write(name)
		mu.Lock()
		out[name] = err
		mu.Unlock()
	}
	wg.Add(1)
	go run(blocker)
	pgtest.WaitFor(t, "the first write to wait for the held transaction", func() bool { return ownLockWaits(t) == 1 })
	for _, n := range names {
		wg.Add(1)
		go run(n)
	}
	pgtest.WaitFor(t, "every write to be sent behind the first", func() bool {
		return pgaad.PendingWrites(ctx, c, database) == len(names)+1
	})
	return func() map[string]error { wg.Wait(); return out }
}

// sharedRounds collects the client's log lines of writes that shared a
// round trip: those that joined a pipeline in flight, and those that left
// together in a new one.
type sharedRounds struct {
	mu       sync.Mutex
	joined   int
	writes   []int
	fallback int // grants that went the general way
}

// reset forgets what was logged so far.
func (s *sharedRounds) reset() {
	s.mu.Lock()
	s.joined, s.writes, s.fallback = 0, nil, 0
	s.mu.Unlock()
}

// expect fails unless the n writes joined the pipeline of the first, in
// flight, and exactly fallback of them then went the general way (what:
// the step, and why).
func (s *sharedRounds) expect(t *testing.T, what string, n, fallback int, why string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joined != n || len(s.writes) != 0 {
		t.Errorf("%s: %d writes joined the pipeline in flight and %v left together in new ones, want %d and none", what, s.joined, s.writes, n)
	}
	if s.fallback != fallback {
		t.Errorf("%s: %d writes went the general way, want %d (%s)", what, s.fallback, fallback, why)
	}
}

func (s *sharedRounds) log(_ context.Context, msg string, f map[string]any) {
	if msg == "pgaad: a write joins a pipeline in flight" {
		s.mu.Lock()
		s.joined++
		s.mu.Unlock()
	}
	if msg == "pgaad: writes share a round trip" {
		s.mu.Lock()
		s.writes = append(s.writes, f["writes"].(int))
		s.mu.Unlock()
	}
	if strings.HasSuffix(msg, "the general way") {
		s.mu.Lock()
		s.fallback++
		s.mu.Unlock()
	}
}

// creations makes a blocker and n other Entra objects to create as
// principals (names from prefix, hostile, each n-th made long), dropped at
// the end of the test.
func creations(t *testing.T, prefix string, n, length int) (blocker string, names []string) {
	t.Helper()
	blocker = pgtest.NewObject(t, "group", prefix+` "blocker" @ é`).Name
	for i := range n {
		names = append(names, pgtest.NewObject(t, "group", pgtest.LongName(fmt.Sprintf(`%s "ok" %d @ ü `, prefix, i), length)).Name)
	}
	t.Cleanup(func() {
		for _, n := range append(names, blocker) {
			pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+quoteIdent(n))
		}
	})
	return blocker, names
}

// expectCreated fails for each name whose creation failed or whose role is
// not on the server.
func expectCreated(t *testing.T, errs map[string]error, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := errs[n]; err != nil {
			t.Errorf("creating %q: %v", n, err)
		}
		if !pgtest.RoleExists(t, n) {
			t.Errorf("%q was not created", n)
		}
	}
}

// TestCombinedWritesFailAlone: 21 creations join the pipeline of a first
// one, which waits on the server, on the one connection; the one whose name the tenant does not know
// fails with its own error, the 20 others are created.
func TestCombinedWritesFailAlone(t *testing.T) {
	var rounds sharedRounds
	c := reliabilityClientLog(t, 1, rounds.log)
	blocker, names := creations(t, "combine", 20, 50)
	missing := pgtest.LongName(`combine "nobody" @ ø `, 63)
	names = append(names[:7], append([]string{missing}, names[7:]...)...)

	release := pgtest.HoldTransaction(t, "postgres", "CREATE ROLE "+quoteIdent(blocker))
	wait := combinedCreates(t, c, blocker, names)
	release()
	errs := wait()

	for _, n := range append([]string{blocker}, names...) {
		err := errs[n]
		if n == missing {
			if !errors.Is(err, pgaad.ErrNotInTenant) || !strings.Contains(err.Error(), missing) {
				t.Errorf("creating %q: got %v, want its own ErrNotInTenant", n, err)
			}
			if pgtest.RoleExists(t, n) {
				t.Errorf("%q exists, but its creation failed", n)
			}
			continue
		}
		expectCreated(t, errs, n)
	}
	rounds.mu.Lock()
	defer rounds.mu.Unlock()
	if rounds.joined != len(names) || len(rounds.writes) != 0 {
		t.Errorf("%d writes joined the pipeline in flight and %v left together in new ones, want %d and none", rounds.joined, rounds.writes, len(names))
	}
}

// TestCombinedWritesSurviveKilledConnection: the connection that carries
// 21 creations is terminated while the server runs one of them (it waits
// for a CREATE ROLE held open elsewhere): those before it committed, the
// rest did not run. Every creation ends applied and reported as such:
// those whose outcome the client did not see are confirmed or run again.
func TestCombinedWritesSurviveKilledConnection(t *testing.T) {
	c := reliabilityClientLog(t, 1, nil)
	blocker, names := creations(t, "combine-kill", 21, 63)
	release := pgtest.HoldTransaction(t, "postgres", "CREATE ROLE "+quoteIdent(blocker))
	releaseMid := pgtest.HoldTransaction(t, "postgres", "CREATE ROLE "+quoteIdent(names[10]))
	wait := combinedCreates(t, c, blocker, names)
	release()
	pgtest.WaitFor(t, "the pipeline to wait at the held creation", func() bool {
		return ownLockWaits(t) == 1 && pgtest.RoleExists(t, blocker)
	})
	if terminateOwn(t) != 1 {
		t.Fatal("no connection to terminate")
	}
	releaseMid()
	expectCreated(t, wait(), names...)
}

// TestCombinedWritesBeyondOneCarrier: 40 creations arrive while a first
// one waits on the server, on a client with one connection. A carrier
// takes 32 writes in all (the first and 31 that join it); the 9 others
// wait for the connection and leave together once the carrier gives it
// back, so that a write that needs a connection of its own is not kept
// waiting without end. All 41 are created.
func TestCombinedWritesBeyondOneCarrier(t *testing.T) {
	var rounds sharedRounds
	c := reliabilityClientLog(t, 1, rounds.log)
	blocker, names := creations(t, "combine-cap", 40, 40)
	release := pgtest.HoldTransaction(t, "postgres", "CREATE ROLE "+quoteIdent(blocker))
	wait := combinedCreates(t, c, blocker, names)
	release()
	expectCreated(t, wait(), append([]string{blocker}, names...)...)
	rounds.mu.Lock()
	defer rounds.mu.Unlock()
	if rounds.joined != pgaad.MaxSegments-1 || !slices.Equal(rounds.writes, []int{len(names) + 1 - pgaad.MaxSegments}) {
		t.Errorf("%d writes joined the carrier in flight and %v left together in new pipelines, want %d and [%d]",
			rounds.joined, rounds.writes, pgaad.MaxSegments-1, len(names)+1-pgaad.MaxSegments)
	}
}

// TestCombinedWriteCanceledWhileInFlight: a creation that joined a carrier
// whose first segment waits on the server is cancelled (Terraform stopped
// the operation). It returns at once, without waiting for the server, and
// the carrier's connection is closed: the first creation, whose outcome
// that hides, is confirmed or run again once the server lets it, and ends
// created.
func TestCombinedWriteCanceledWhileInFlight(t *testing.T) {
	c := reliabilityClientLog(t, 1, nil)
	blocker := pgtest.NewObject(t, "group", `combine-cancel "blocker"`)
	other := pgtest.NewObject(t, "group", `combine-cancel "other" @ é`)
	t.Cleanup(func() {
		for _, n := range []string{blocker.Name, other.Name} {
			pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+quoteIdent(n))
		}
	})
	release := pgtest.HoldTransaction(t, "postgres", "CREATE ROLE "+quoteIdent(blocker.Name))
	ctx, cancel := context.WithCancel(context.Background())
	var otherErr error
	otherDone := make(chan struct{})
	first := combinedWrites(t, c, pgaad.PrincipalsDatabase, blocker.Name, nil, func(name string) error {
		_, err := c.CreatePrincipal(context.Background(), pgaad.NewPrincipal{Name: name})
		return err
	})
	go func() {
		defer close(otherDone)
		_, otherErr = c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: other.Name})
	}()
	pgtest.WaitFor(t, "the second creation to be sent behind the first", func() bool {
		return pgaad.PendingWrites(context.Background(), c, pgaad.PrincipalsDatabase) == 2
	})
	cancel()
	<-otherDone // the hold is still there: it did not wait for the server
	if !errors.Is(otherErr, context.Canceled) {
		t.Errorf("the cancelled creation returned %v, want context.Canceled", otherErr)
	}
	release()
	if err := first()[blocker.Name]; err != nil {
		t.Errorf("creating %q: %v", blocker.Name, err)
	}
	if !pgtest.RoleExists(t, blocker.Name) {
		t.Errorf("%q was not created", blocker.Name)
	}
}

func quoteIdent(n string) string { return `"` + strings.ReplaceAll(n, `"`, `""`) + `"` }

// TestCombinedGrantsFailAlone: 21 grants, each on a table of its own, wait
// for the one connection and go in one pipeline, each in one round trip;
// the one whose table does not exist fails with its own error (after the
// general write, which explains it), the 20 others are granted. Revoking
// them goes the same way.
func TestCombinedGrantsFailAlone(t *testing.T) {
	f := newAccessFixture(t)
	combinedGrants(t, f, f.owner)
}

// TestCombinedGrantsAsSetOnlyOwner: the same when the tables' owner is a
// role the login may SET ROLE to but whose privileges it does not have
// (PostgreSQL 16+: how the login holds the roles it creates, unless
// createrole_self_grant gives INHERIT too). Each grant still goes in one
// round trip, shared, acting as the owner, which PostgreSQL records as the
// grantor, as the general write's SET LOCAL ROLE does.
func TestCombinedGrantsAsSetOnlyOwner(t *testing.T) {
	e := pgtest.Emulator(t)
	if e.PGMajor() < 16 {
		t.Skip("PostgreSQL 15 memberships have no INHERIT or SET option")
	}
	f := newAccessFixture(t)
	owner := setOnlyRole(t, f, `set-only owner "o"; ü @`)
	pgtest.SuperExec(t, f.db, "GRANT CREATE, USAGE ON SCHEMA "+q(f.schema)+" TO "+q(owner))
	var inherits bool
	pgtest.SuperQueryRow(t, "postgres", "SELECT pg_has_role($1, $2, 'USAGE')", []any{e.AdminName(), owner}, &inherits)
	if inherits {
		t.Fatalf("the premise: the admin must not have the privileges of %q", owner)
	}
	combinedGrants(t, f, owner)
}

// combinedGrants is TestCombinedGrantsFailAlone with tables owned by owner;
// it checks that every grant names owner as the grantor.
func combinedGrants(t *testing.T, f accessFixture, owner string) {
	var rounds sharedRounds
	c := reliabilityClientLog(t, 1, rounds.log)
	var tables []string
	for i := range 20 {
		tables = append(tables, pgtest.LongName(fmt.Sprintf(`t "%d" @ ü `, i), 63))
	}
	blocker := pgtest.LongName(`blocker "t" é`, 63)
	missing := pgtest.LongName(`missing "t" ø`, 63)
	stmts := "SET ROLE " + q(owner) + "; CREATE TABLE " + q(f.schema) + "." + q(blocker) + " (id int);"
	for _, tb := range tables {
		stmts += "CREATE TABLE " + q(f.schema) + "." + q(tb) + " (id int);"
	}
	pgtest.SuperExec(t, f.db, stmts)
	var key int64
	pgtest.SuperQueryRow(t, f.db, `SELECT (x'617a7067'::bigint << 32) | c.oid::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, []any{f.schema, blocker}, &key)
	names := append(append([]string{}, tables[:5]...), append([]string{missing}, tables[5:]...)...)
	target := func(table string) pgaad.GrantTarget {
		return pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: "table", Schema: f.schema, Objects: []string{table}}
	}

	for _, revoke := range []bool{false, true} {
		rounds.reset()
		release := pgtest.HoldTransaction(t, f.db, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", key))
		wait := combinedWrites(t, c, f.db, blocker, names, func(table string) error {
			if revoke {
				return c.RevokeGrant(context.Background(), target(table))
			}
			_, err := c.ApplyGrant(context.Background(), target(table), []string{"SELECT"}, false)
			return err
		})
		release()
		errs := wait()
		for _, n := range append([]string{blocker}, names...) {
			err := errs[n]
			if n == missing {
				missingFailedAlone(t, revoke, "on the missing table", missing, err)
				continue
			}
			want := []string{"SELECT"}
			if revoke {
				want = []string{}
			}
			if err != nil {
				t.Errorf("revoke %v on %q: %v", revoke, n, err)
			} else if got := tablePrivileges(t, f.db, f.schema, n, f.grantee); !slices.Equal(got, want) {
				t.Errorf("revoke %v: %q: the grantee holds %v, want %v", revoke, n, got, want)
			} else if got := tableGrantors(t, f.db, f.schema, n, f.grantee); !revoke && !slices.Equal(got, []string{owner}) {
				t.Errorf("%q: granted by %q, want the owner %q", n, got, owner)
			}
		}
		rounds.expect(t, fmt.Sprintf("revoke %v", revoke), len(names), 1, "the missing table")
	}
}

// missingFailedAlone checks the outcome of a write whose object (what, named
// missing) does not exist: a revoke has nothing to do, a grant fails with
// its own ErrNotFound, which names it.
func missingFailedAlone(t *testing.T, revoke bool, what, missing string, err error) {
	t.Helper()
	if revoke {
		if err != nil {
			t.Errorf("revoking %s: %v", what, err)
		}
		return
	}
	if !errors.Is(err, pgaad.ErrNotFound) || !strings.Contains(err.Error(), fmt.Sprintf("%q", missing)) {
		t.Errorf("granting %s %q: got %v, want its own ErrNotFound", what, missing, err)
	}
}

// TestCombinedMembershipsFailAlone: 21 memberships wait for the one
// connection and go in one pipeline, each in one round trip; the one whose
// member does not exist fails with its own error (after the general write,
// which explains it), the 20 others are granted, then revoked the same way.
func TestCombinedMembershipsFailAlone(t *testing.T) {
	var rounds sharedRounds
	c := reliabilityClientLog(t, 1, rounds.log)
	group := plainRole(t, pgtest.LongName(`combine group "g" @ é`, 63))
	blocker := plainRole(t, pgtest.LongName(`combine blocker "m"`, 63))
	var members []string
	for i := range 20 {
		members = append(members, plainRole(t, pgtest.LongName(fmt.Sprintf(`combine member "%d" ü `, i), 63)))
	}
	missing := pgtest.LongName(`combine nobody "m" ø`, 63)
	names := append(append([]string{}, members[:3]...), append([]string{missing}, members[3:]...)...)

	for _, revoke := range []bool{false, true} {
		rounds.reset()
		// The memberships' reads wait behind this lock (logging in does not:
		// HoldCatalogLock).
		release := pgtest.HoldCatalogLock(t, "postgres", "pg_auth_members")
		wait := combinedWrites(t, c, pgaad.PrincipalsDatabase, blocker, names, func(member string) error {
			if revoke {
				return c.RevokeMembership(context.Background(), group, member)
			}
			_, err := c.GrantMembership(context.Background(), pgaad.Membership{Role: group, Member: member})
			return err
		})
		release()
		errs := wait()
		for _, n := range append([]string{blocker}, names...) {
			err := errs[n]
			if n == missing {
				missingFailedAlone(t, revoke, "to the missing member", missing, err)
				continue
			}
			if err != nil {
				t.Errorf("revoke %v, member %q: %v", revoke, n, err)
			} else if grants, _ := serverMembership(t, group, n); grants != map[bool]int{false: 1, true: 0}[revoke] {
				t.Errorf("revoke %v: %q has %d grants of the group", revoke, n, grants)
			}
		}
		rounds.expect(t, fmt.Sprintf("revoke %v", revoke), len(names), 1, "the missing member")
	}
}

// TestDefaultPrivilegesInOneRoundTrip: with the owner's privileges, the
// default privileges are written in one segment (no general write), and
// read back; a role that does not exist goes the general way, which says
// so.
func TestDefaultPrivilegesInOneRoundTrip(t *testing.T) {
	var rounds sharedRounds
	c := reliabilityClientLog(t, 1, rounds.log)
	ctx := context.Background()
	e := pgtest.Emulator(t)
	f := newAccessFixture(t)
	owners := []string{f.owner}
	if e.PGMajor() >= 16 {
		// A role the login may SET ROLE to without its privileges (how the
		// login holds the roles it creates from 16 on) goes in one round
		// trip too, acting as the owner.
		owners = append(owners, setOnlyRole(t, f, `set-only defaults "o"; ü @`))
	}
	for _, owner := range owners {
		rounds.reset()
		target := pgaad.DefaultPrivilegesTarget{Role: f.grantee, Database: f.db, Owner: owner, Schema: f.schema, ObjectType: "table"}
		d, err := c.ApplyDefaultPrivileges(ctx, target, []string{"INSERT", "SELECT"}, false)
		if err != nil || !slices.Equal(d.Privileges, []string{"INSERT", "SELECT"}) {
			t.Fatalf("owner %q: got %+v, %v", owner, d, err)
		}
		var on int
		pgtest.SuperQueryRow(t, f.db, `SELECT count(*) FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
			WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND n.nspname = $2`, []any{owner, f.schema}, &on)
		if on != 1 {
			t.Errorf("owner %q: %d default ACL rows for the owner in the schema, want 1", owner, on)
		}
		if err := c.RevokeDefaultPrivileges(ctx, target); err != nil {
			t.Fatal(err)
		}
		if got, err := c.ReadDefaultPrivileges(ctx, target); err != nil || len(got.Privileges) != 0 {
			t.Fatalf("owner %q: after the revoke: %+v, %v", owner, got, err)
		}
		rounds.mu.Lock()
		if rounds.fallback != 0 {
			t.Errorf("owner %q: %d writes went the general way, want none", owner, rounds.fallback)
		}
		rounds.mu.Unlock()
	}
	rounds.reset()
	target := pgaad.DefaultPrivilegesTarget{Role: f.grantee, Database: f.db, Owner: f.owner, Schema: f.schema, ObjectType: "table"}

	missing := target
	missing.Role = pgtest.Name(`nobody "r"`)
	_, err := c.ApplyDefaultPrivileges(ctx, missing, []string{"SELECT"}, false)
	if !errors.Is(err, pgaad.ErrNotFound) || !strings.Contains(err.Error(), fmt.Sprintf("%q", missing.Role)) {
		t.Fatalf("a missing role: %v, want its ErrNotFound", err)
	}
	rounds.mu.Lock()
	if rounds.fallback != 1 {
		t.Errorf("%d writes went the general way, want 1", rounds.fallback)
	}
	rounds.mu.Unlock()
}

// TestCarrierReadsPastNoticesAndParameterChanges: segments that join a
// carrier make the server send what pgconn would otherwise have handled: a
// notice, parameter changes (application_name, set for the session by one
// segment and back by another), an error in the middle of a segment, an
// empty statement. Each writer gets its own answer, and the connection
// goes back to the pool usable, its application name as before.
func TestCarrierReadsPastNoticesAndParameterChanges(t *testing.T) {
	var rounds sharedRounds
	c := reliabilityClientLog(t, 1, rounds.log)
	ctx := context.Background()
	results, run, release, wait := segmentsBehindLock(t, c, 4242, 4)
	renamed := `carrier "test"; drop` // application_name keeps ASCII only
	run(1, `DO $$BEGIN RAISE NOTICE 'a notice for the carrier'; END$$`,
		`SELECT set_config('application_name', '`+strings.ReplaceAll(renamed, `'`, `''`)+`', false)`,
		`SELECT current_setting('application_name')`)
	pgtest.WaitFor(t, "the second segment to be sent", func() bool { return pgaad.PendingWrites(ctx, c, "postgres") == 2 })
	run(2, "SELECT 1::text", "SELECT (1/0)::text", "SELECT 2::text")
	pgtest.WaitFor(t, "the third segment to be sent", func() bool { return pgaad.PendingWrites(ctx, c, "postgres") == 3 })
	run(3, "", `SELECT set_config('application_name', '`+reliabilityApp+`', false)`)
	pgtest.WaitFor(t, "the fourth segment to be sent", func() bool { return pgaad.PendingWrites(ctx, c, "postgres") == 4 })
	release()
	wait()

	check := func(i, done int, rows []string, code string) {
		t.Helper()
		r := results[i]
		var pgErr *pgconn.PgError
		switch {
		case code == "" && r.Err != nil:
			t.Errorf("segment %d: %v", i, r.Err)
		case code != "" && (!errors.As(r.Err, &pgErr) || pgErr.Code != code):
			t.Errorf("segment %d: got %v, want SQLSTATE %s", i, r.Err, code)
		}
		if r.Done != done || !slices.Equal(r.Rows, rows) {
			t.Errorf("segment %d: %d statements done, rows %q; want %d, %q", i, r.Done, r.Rows, done, rows)
		}
	}
	check(0, 1, []string{""}, "")
	check(1, 3, []string{"", renamed, renamed}, "")
	check(2, 1, []string{"1", "", ""}, "22012")
	check(3, 2, []string{"", reliabilityApp}, "")
	rounds.mu.Lock()
	if rounds.joined != 3 {
		t.Errorf("%d segments joined the carrier in flight, want 3", rounds.joined)
	}
	rounds.mu.Unlock()

	// pgx reads the same connection again (the client has one).
	if app, err := pgaad.QueryText(ctx, c, "postgres", "SELECT current_setting('application_name')"); err != nil || app != reliabilityApp {
		t.Errorf("the connection after the carrier: %v, application_name %q", err, app)
	}
}

// setOnlyRole makes a role (a 63-byte name from prefix) that the Entra
// admin may SET ROLE to without its privileges, as the login holds the
// roles it creates from PostgreSQL 16 on; dropped, with what it owns in
// f's database, at the end of the test.
func setOnlyRole(t *testing.T, f accessFixture, prefix string) string {
	t.Helper()
	role := pgtest.LongName(prefix, 63)
	pgtest.SuperExec(t, "postgres", "CREATE ROLE "+q(role))
	t.Cleanup(func() {
		pgtest.SuperExec(t, f.db, "DROP OWNED BY "+q(role))
		pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+q(role))
	})
	pgtest.SuperExec(t, "postgres", "GRANT "+q(role)+" TO "+q(pgtest.Emulator(t).AdminName())+" WITH INHERIT FALSE, SET TRUE")
	return role
}

// TestCarrierLargeSegmentsDoNotStall: segments whose statements and
// answers are far larger than the sockets' buffers (2 MB each way, 16 of
// them) join a carrier whose first segment waits on the server. Sending
// one must not hold up the reading of the others' answers, or the client
// and the server would each wait for the other to read. All are answered.
func TestCarrierLargeSegmentsDoNotStall(t *testing.T) {
	var rounds sharedRounds
	c := reliabilityClientLog(t, 1, rounds.log)
	ctx := context.Background()
	const n, size = 16, 2 << 20
	results, run, release, wait := segmentsBehindLock(t, c, 4343, n+1)
	big := "SELECT length('" + strings.Repeat("x", size) + "')::text || repeat('y', " + fmt.Sprint(size) + ")"
	for i := 1; i <= n; i++ {
		run(i, big)
	}
	pgtest.WaitFor(t, "every large segment to be in flight", func() bool { return pgaad.PendingWrites(ctx, c, "postgres") == n+1 })
	release()
	answered := make(chan struct{})
	go func() { wait(); close(answered) }()
	select {
	case <-answered:
	case <-time.After(pgtest.WaitDeadline):
		t.Fatalf("the segments were not all answered in %s: the client and the server wait for each other", pgtest.WaitDeadline)
	}
	want := fmt.Sprint(size) + strings.Repeat("y", size)
	for i, r := range results {
		if r.Err != nil || r.Done != 1 || (i > 0 && r.Rows[0] != want) {
			t.Errorf("segment %d: %d done, %v, %d bytes back", i, r.Done, r.Err, len(r.Rows[0]))
		}
	}
	rounds.mu.Lock()
	defer rounds.mu.Unlock()
	if rounds.joined != n {
		t.Errorf("%d segments joined the carrier in flight, want %d", rounds.joined, n)
	}
}

// segmentsBehindLock sends a first segment (results[0]) on a client with
// one connection that waits on the server for an advisory lock of key,
// held by the test until release, and returns once it waits there. run
// sends segment i (results[i]) behind it; wait waits for every segment
// sent.
func segmentsBehindLock(t *testing.T, c *pgaad.Client, key, n int) (results []pgaad.SegmentResult,
	run func(i int, statements ...string), release, wait func()) {
	t.Helper()
	release = pgtest.HoldTransaction(t, "postgres", fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", key))
	results = make([]pgaad.SegmentResult, n)
	var wg sync.WaitGroup
	run = func(i int, statements ...string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = pgaad.SendSegment(context.Background(), c, "postgres", statements...)
		}()
	}
	run(0, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)::text", key))
	pgtest.WaitFor(t, "the first segment to wait for the lock", func() bool { return ownLockWaits(t) == 1 })
	return results, run, release, wg.Wait
}

// ownLockWaits is how many of the test clients' connections wait on a lock.
func ownLockWaits(t *testing.T) int {
	t.Helper()
	var n int
	pgtest.SuperQueryRow(t, "postgres", `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND wait_event_type = 'Lock'`, []any{reliabilityApp}, &n)
	return n
}
