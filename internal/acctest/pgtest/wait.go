package pgtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Tests that inject a fault make its condition happen, or wait for it, and
// judge only then: no verdict may depend on how fast the machine is. These
// helpers are the waiting half.

// WaitDeadline bounds every wait for a condition: far longer than any
// condition takes on a loaded machine, so that reaching it means the
// condition never came, and the test fails saying what it waited for.
const WaitDeadline = 2 * time.Minute

// WaitFor calls cond (every 10 ms) until it returns true; after
// WaitDeadline it fails the test, naming what it waited for. Call it from
// the test's goroutine.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: it never happened (the test cannot judge without it)", WaitDeadline, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SleepUntil returns once the wall clock (which the emulator's front door
// and PostgreSQL read to judge a token's expiry) has reached at.
func SleepUntil(at time.Time) {
	for d := time.Until(at); d > 0; d = time.Until(at) {
		time.Sleep(d)
	}
}

// HoldTransaction runs the statements in a transaction of the bootstrap
// superuser in database and leaves it open until release (called at the
// end of the test at the latest, and harmless after a restart killed the
// session): whatever conflicts with what they locked or wrote waits. E.g.
// "LOCK TABLE t IN ACCESS EXCLUSIVE MODE" makes every statement that reads
// t wait, and an uncommitted CREATE ROLE makes another session's CREATE
// ROLE of that name wait, so that a test can stop an operation at a known
// point, look, and let it go.
func HoldTransaction(t testing.TB, database string, statements ...string) (release func()) {
	t.Helper()
	_, release = holdOpen(t, database, statements)
	return release
}

// holdOpen is HoldTransaction, with the session that holds the transaction.
func holdOpen(t testing.TB, database string, statements []string) (*pgx.Conn, func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, Emulator(t).SuperuserURL(database))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			_, _ = conn.Exec(context.Background(), "ROLLBACK")
			_ = conn.Close(context.Background())
		})
	}
	t.Cleanup(release)
	for _, sql := range append([]string{"BEGIN"}, statements...) {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("holding a transaction open: %s: %v", sql, err)
		}
	}
	return conn, release
}

// HoldCatalogLock holds an ACCESS EXCLUSIVE lock on a shared catalog that
// the provider's reads use (pg_auth_members) in a transaction of the
// bootstrap superuser in database, as HoldTransaction does: every
// statement that reads the catalog waits, and logging in does not.
//
// Logging in reads pg_auth_members too, when the server must rebuild its
// cache of the shared catalogs' descriptions (global/pg_internal.init):
// after a restart, and after a VACUUM or ANALYZE of a shared catalog
// changes its row in pg_class, as autovacuum does at a time of its own
// once a test has created many roles. A login then waits on the lock
// before it shows in pg_stat_activity, and a test that waits for the
// provider's read to wait there waits in vain. So the same transaction
// also holds the other shared catalogs that the cache describes in SHARE
// UPDATE EXCLUSIVE mode, which VACUUM and ANALYZE need and reads, log-ins
// and role changes do not; and the locks are taken again until the
// cache's file is there while they are held (a new session's log-in
// writes it).
func HoldCatalogLock(t testing.TB, database, catalog string) (release func()) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		conn, release := holdOpen(t, database, []string{
			"LOCK TABLE pg_catalog.pg_authid, pg_catalog.pg_auth_members, pg_catalog.pg_database, pg_catalog.pg_shseclabel IN SHARE UPDATE EXCLUSIVE MODE",
			"LOCK TABLE pg_catalog." + pgx.Identifier{catalog}.Sanitize() + " IN ACCESS EXCLUSIVE MODE"})
		var cached bool
		if err := conn.QueryRow(context.Background(), "SELECT (pg_stat_file('global/pg_internal.init', true)).size IS NOT NULL").Scan(&cached); err != nil {
			t.Fatalf("holding a lock on %s: %v", catalog, err)
		}
		if cached {
			return release
		}
		release()
		if attempt == 20 {
			t.Fatalf("holding a lock on %s: the server's cache of the shared catalogs was never there with the locks held (%d attempts)", catalog, attempt)
		}
	}
}
