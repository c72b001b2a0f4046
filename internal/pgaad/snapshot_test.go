package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// TestPrincipalSnapshot: the first read fetches every role in one
// statement, the next ones are answered from it; after a write of the same
// client, a read is never stale (a created role is found, a dropped one is
// not), even while other reads fetch snapshots concurrently with the writes.
func TestPrincipalSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := adminClient(t)     // the provider process under test
	other := adminClient(t) // another process (drift)
	a := pgtest.NewObject(t, "user", "snap-a")
	b := pgtest.NewObject(t, "user", "snap b; \"x\"")
	plain := pgtest.Name("snap-plain")
	for _, o := range []string{a.Name, b.Name} {
		if _, err := other.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o}); err != nil {
			t.Fatal(err)
		}
	}
	pgtest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{plain}.Sanitize())
	t.Cleanup(func() {
		for _, n := range []string{a.Name, b.Name, plain} {
			pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{n}.Sanitize())
		}
	})

	// One fetch answers every read, with the same answers as a single read.
	began := time.Now()
	if p, err := c.Principal(ctx, a.Name); err != nil || p.ObjectID != a.ObjectID {
		t.Fatalf("read %s: %+v, %v", a.Name, p, err)
	}
	if p, err := c.Principal(ctx, b.Name); err != nil || p.ObjectID != b.ObjectID || p.Type != "user" {
		t.Fatalf("read %s: %+v, %v", b.Name, p, err)
	}
	if _, err := c.Principal(ctx, pgtest.Name("snap-missing")); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("a missing role from the snapshot: %v, want ErrNotFound", err)
	}
	if _, err := c.Principal(ctx, plain); !errors.Is(err, pgaad.ErrNotEntraPrincipal) {
		t.Fatalf("a plain role from the snapshot: %v, want ErrNotEntraPrincipal", err)
	}
	if n := c.SnapshotFetches(); n < 1 || n > fetchesWithin(1, began) {
		t.Fatalf("%d snapshots fetched for 4 reads, want 1", n)
	}

	// A write of this client: the next reads see it at once.
	x := pgtest.NewObject(t, "user", "snap-x")
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: x.Name}); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Principal(ctx, x.Name); err != nil || p.ObjectID != x.ObjectID {
		t.Fatalf("read after create: %+v, %v (stale snapshot?)", p, err)
	}
	if err := c.DropPrincipal(ctx, a.Name, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Principal(ctx, a.Name); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("read after drop: %v, want ErrNotFound (stale snapshot?)", err)
	}
	if err := c.DropPrincipal(ctx, x.Name, ""); err != nil {
		t.Fatal(err)
	}

	// A forgotten snapshot (a new Terraform walk) shows drift made by another process.
	if _, err := c.Principal(ctx, b.Name); err != nil {
		t.Fatal(err)
	}
	if err := other.DropPrincipal(ctx, b.Name, ""); err != nil {
		t.Fatal(err)
	}
	c.ForgetSnapshots()
	if _, err := c.Principal(ctx, b.Name); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("read in a new walk after another process dropped the role: %v, want ErrNotFound", err)
	}
}

// TestPrincipalSnapshotRace: writers create and drop roles and read each
// back right after their own write, while readers keep fetching snapshots
// (no quiet time after a write, so every write is followed by fetches): no read after a write returns what was
// there before it.
func TestPrincipalSnapshotRace(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := adminClient(t)
	pgaad.SetQuietAfterWrite(c, time.Nanosecond)
	const writers, rounds = 3, 8
	objs := make([][]string, writers)
	for w := range objs {
		for i := 0; i < rounds; i++ {
			objs[w] = append(objs[w], pgtest.NewObject(t, "user", fmt.Sprintf("snap-race-%d-%d", w, i)).Name)
		}
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Each write drops the snapshot, so these reads keep fetching new ones.
				_, _ = c.Principal(ctx, "snap-race-reader")
			}
		}()
	}
	var writersWG sync.WaitGroup
	errs := make(chan error, writers*rounds*2)
	for w := 0; w < writers; w++ {
		writersWG.Add(1)
		go func(names []string) {
			defer writersWG.Done()
			for _, n := range names {
				if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: n}); err != nil {
					errs <- err
					return
				}
				if _, err := c.Principal(ctx, n); err != nil {
					errs <- fmt.Errorf("read right after creating %s: %w", n, err)
				}
				if err := c.DropPrincipal(ctx, n, ""); err != nil {
					errs <- err
					return
				}
				if _, err := c.Principal(ctx, n); !errors.Is(err, pgaad.ErrNotFound) {
					errs <- fmt.Errorf("read right after dropping %s: %w, want ErrNotFound", n, err)
				}
			}
		}(objs[w])
	}
	writersWG.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.SnapshotFetches(); n < 2 {
		t.Errorf("only %d snapshots fetched: the race was not exercised", n)
	}
}

// TestExtensionSnapshot: a database's extensions are read in one statement
// and a write of the same client is seen by the next read.
func TestExtensionSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := adminClient(t)
	db := extensionDatabase(t, true)
	v := pgtest.AzureAIVersion(t, pgtest.Emulator(t).PGMajor())
	if _, err := pgtest.AdminConn(t, db).Exec(ctx, "CREATE EXTENSION azure_ai VERSION '"+v+"'"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if x, err := c.Extension(ctx, db, "azure_ai"); err != nil || x.Version != v || x.Schema != "azure_ai" {
		t.Fatalf("read azure_ai: %+v, %v", x, err)
	}
	if _, err := c.Extension(ctx, db, "hstore"); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("a missing extension from the snapshot: %v, want ErrNotFound", err)
	}
	if n := c.SnapshotFetches(); n < 1 || n > fetchesWithin(1, began) {
		t.Fatalf("%d snapshots fetched for 2 reads of one database, want 1", n)
	}
	if err := c.DropExtension(ctx, db, "azure_ai"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Extension(ctx, db, "azure_ai"); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("read after drop: %v, want ErrNotFound (stale snapshot?)", err)
	}
}

// fetchesWithin is the most snapshot fetches that reads of keys snapshots,
// made since began, may take: one per key, and one more each time a
// snapshot ages out (pgaad.SnapshotTTL). It is keys while the reads took
// less than that, which is all a check of "one fetch" may rely on.
func fetchesWithin(keys int, began time.Time) int {
	return keys * (1 + int(time.Since(began)/pgaad.SnapshotTTL))
}
