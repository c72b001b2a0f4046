package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// combinedCreates starts the creation of names (a principal each) on a
// client with one connection while a first creation, of blocker, waits on
// the server for holdBlocker's transaction; it returns once all of them
// wait in the queue to share a round trip, and a function that waits for
// their outcomes, by name.
func combinedCreates(t *testing.T, c *pgaad.Client, blocker string, names []string) func() map[string]error {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	out := map[string]error{}
	var wg sync.WaitGroup
	create := func(name string) {
		defer wg.Done()
		_, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: name})
		mu.Lock()
		out[name] = err
		mu.Unlock()
	}
	wg.Add(1)
	go create(blocker)
	pgtest.WaitFor(t, "the first creation to wait for the held CREATE ROLE", func() bool {
		var n int
		pgtest.SuperQueryRow(t, "postgres", `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, []any{reliabilityApp}, &n)
		return n == 1
	})
	for _, n := range names {
		wg.Add(1)
		go create(n)
	}
	pgtest.WaitFor(t, "every creation to wait in the queue", func() bool {
		return pgaad.QueuedWrites(ctx, c, pgaad.PrincipalsDatabase) == len(names)
	})
	return func() map[string]error { wg.Wait(); return out }
}

// sharedRounds collects the client's "writes share a round trip" log lines.
type sharedRounds struct {
	mu     sync.Mutex
	writes []int
}

func (s *sharedRounds) log(_ context.Context, msg string, f map[string]any) {
	if msg == "pgaad: writes share a round trip" {
		s.mu.Lock()
		s.writes = append(s.writes, f["writes"].(int))
		s.mu.Unlock()
	}
}

// TestCombinedWritesFailAlone: 21 creations wait for the one connection
// and go in one pipeline; the one whose name the tenant does not know
// fails with its own error, the 20 others are created.
func TestCombinedWritesFailAlone(t *testing.T) {
	var rounds sharedRounds
	c := reliabilityClientLog(t, 1, rounds.log)
	blocker := pgtest.NewObject(t, "group", `combine "blocker" @ é`)
	var names []string
	for i := range 20 {
		names = append(names, pgtest.NewObject(t, "group", pgtest.LongName(fmt.Sprintf(`combine "ok" %d @ ü `, i), 50)).Name)
	}
	missing := pgtest.LongName(`combine "nobody" @ ø `, 63)
	names = append(names[:7], append([]string{missing}, names[7:]...)...)
	t.Cleanup(func() {
		for _, n := range append(names, blocker.Name) {
			pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+quoteIdent(n))
		}
	})

	release := pgtest.HoldTransaction(t, "postgres", "CREATE ROLE "+quoteIdent(blocker.Name))
	wait := combinedCreates(t, c, blocker.Name, names)
	release()
	errs := wait()

	for _, n := range append([]string{blocker.Name}, names...) {
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
		if err != nil {
			t.Errorf("creating %q: %v", n, err)
		}
		if !pgtest.RoleExists(t, n) {
			t.Errorf("%q was not created", n)
		}
	}
	rounds.mu.Lock()
	defer rounds.mu.Unlock()
	if len(rounds.writes) != 1 || rounds.writes[0] != len(names) {
		t.Errorf("shared round trips: %v, want one of %d writes", rounds.writes, len(names))
	}
}

// TestCombinedWritesSurviveKilledConnection: the connection that carries
// 21 creations is terminated while the server runs one of them (it waits
// for a CREATE ROLE held open elsewhere): those before it committed, the
// rest did not run. Every creation ends applied and reported as such:
// those whose outcome the client did not see are confirmed or run again.
func TestCombinedWritesSurviveKilledConnection(t *testing.T) {
	c := reliabilityClientLog(t, 1, nil)
	blocker := pgtest.NewObject(t, "group", `combine-kill "blocker"`)
	var names []string
	for i := range 21 {
		names = append(names, pgtest.NewObject(t, "group", pgtest.LongName(fmt.Sprintf(`combine-kill "ok" %d @ ü `, i), 63)).Name)
	}
	t.Cleanup(func() {
		for _, n := range append(names, blocker.Name) {
			pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+quoteIdent(n))
		}
	})

	release := pgtest.HoldTransaction(t, "postgres", "CREATE ROLE "+quoteIdent(blocker.Name))
	releaseMid := pgtest.HoldTransaction(t, "postgres", "CREATE ROLE "+quoteIdent(names[10]))
	wait := combinedCreates(t, c, blocker.Name, names)
	release()
	pgtest.WaitFor(t, "the pipeline to wait at the held creation", func() bool {
		var n int
		pgtest.SuperQueryRow(t, "postgres", `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, []any{reliabilityApp}, &n)
		return n == 1 && pgtest.RoleExists(t, blocker.Name)
	})
	if terminateOwn(t) != 1 {
		t.Fatal("no connection to terminate")
	}
	releaseMid()
	errs := wait()
	for _, n := range names {
		if err := errs[n]; err != nil {
			t.Errorf("creating %q: %v", n, err)
		}
		if !pgtest.RoleExists(t, n) {
			t.Errorf("%q was not created", n)
		}
	}
}

func quoteIdent(n string) string { return `"` + strings.ReplaceAll(n, `"`, `""`) + `"` }
