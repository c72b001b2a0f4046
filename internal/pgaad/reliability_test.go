package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

const reliabilityApp = "terraform-provider-azurepg/pgaad-reliability"

// reliabilityClient logs in as the Entra admin with an application name of
// its own, so that a test can terminate exactly its connections.
func reliabilityClient(t *testing.T, maxConns int32) *pgaad.Client {
	t.Helper()
	return reliabilityClientLog(t, maxConns, nil)
}

// reliabilityClientLog is reliabilityClient with a Config.Log.
func reliabilityClientLog(t *testing.T, maxConns int32, log func(context.Context, string, map[string]any)) *pgaad.Client {
	t.Helper()
	e := pgtest.Emulator(t)
	src, err := entratoken.New(entratoken.Settings{Method: "managed_identity"})
	if err != nil {
		t.Fatal(err)
	}
	c := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: e.AdminName(), SSLMode: "verify-full", SSLRootCert: e.CAFile(),
		MaxConns: maxConns, ApplicationName: reliabilityApp, Password: src.Password, Entra: true, Log: log})
	t.Cleanup(c.Close)
	return c
}

// terminateOwn kills every backend of reliabilityClient and says how many.
func terminateOwn(t *testing.T) int {
	t.Helper()
	var n int
	pgtest.SuperQueryRow(t, "postgres",
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", []any{reliabilityApp}, &n)
	return n
}

// TestReadsSurviveTerminatedConnections: the pool hands out a connection
// that was used less than a second ago without pinging it. When the server
// killed it meanwhile (pg_terminate_backend, a failover), the read must be
// retried on a new connection, not reported to the user.
func TestReadsSurviveTerminatedConnections(t *testing.T) {
	c := reliabilityClient(t, 2)
	ctx := context.Background()
	o := pgtest.NewObject(t, "group", "pgaad reliability")
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(context.Background(), o.Name, "") })

	for i := range 5 {
		// Fill the pool, so that every pooled connection is a dead one next.
		if _, err := c.ListPrincipals(ctx, false); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Principal(ctx, o.Name); err != nil {
			t.Fatal(err)
		}
		if n := terminateOwn(t); n == 0 {
			t.Fatalf("round %d: no connection of %s to terminate", i, reliabilityApp)
		}
		if _, err := c.Principal(ctx, o.Name); err != nil {
			t.Fatalf("round %d: reading after pg_terminate_backend: %v", i, err)
		}
		terminateOwn(t)
		if ps, err := c.ListPrincipals(ctx, false); err != nil || len(ps) == 0 {
			t.Fatalf("round %d: listing after pg_terminate_backend: %d principals, %v", i, len(ps), err)
		}
	}

	// Writes: a create whose connection died before it was sent, and a drop.
	o2 := pgtest.NewObject(t, "user", "pgaad-reliability-create")
	terminateOwn(t)
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o2.Name}); err != nil {
		t.Fatalf("creating after pg_terminate_backend: %v", err)
	}
	terminateOwn(t)
	if err := c.DropPrincipal(ctx, o2.Name, ""); err != nil {
		t.Fatalf("dropping after pg_terminate_backend: %v", err)
	}
	if pgtest.RoleExists(t, o2.Name) {
		t.Fatalf("role %q still exists", o2.Name)
	}
}

// TestClientSurvivesRestart: after the server restarts (as in a failover
// or maintenance), every pooled connection is dead; the next operations
// succeed on new connections.
func TestClientSurvivesRestart(t *testing.T) {
	e := pgtest.Emulator(t)
	c := reliabilityClient(t, 4)
	ctx := context.Background()
	o := pgtest.NewObject(t, "managed_identity", "pgaad-restart-mi")
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(context.Background(), o.Name, "") })
	// Several connections in the pool, all used just now.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { _, _ = c.Principal(ctx, o.Name) })
	}
	wg.Wait()

	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := e.Restart(rctx); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		p, err := c.Principal(ctx, o.Name)
		if err != nil {
			t.Fatalf("read %d after the restart: %v", i, err)
		}
		if p.ObjectID != o.ObjectID {
			t.Fatalf("read %+v", p)
		}
	}
	if _, err := c.ListPrincipals(ctx, true); err != nil {
		t.Fatalf("list after the restart: %v", err)
	}
}

// TestConcurrentCreateSameName: several sessions create the same principal
// at once. One wins; every other gets ErrAlreadyExists (which the provider
// turns into the import hint), not a raw unique-violation.
func TestConcurrentCreateSameName(t *testing.T) {
	c := reliabilityClient(t, 8)
	ctx := context.Background()
	for round := range 3 {
		o := pgtest.NewObject(t, "user", "pgaad-race")
		start := make(chan struct{})
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				<-start
				_, errs[i] = c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name})
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, pgaad.ErrAlreadyExists):
			default:
				t.Errorf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d creations succeeded, want 1", round, won)
		}
		if err := c.DropPrincipal(ctx, o.Name, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDropRefusesNUL: pgx drops NUL bytes while quoting an identifier, so
// dropping "a\x00b" would drop the role "ab". DropPrincipal refuses it.
func TestDropRefusesNUL(t *testing.T) {
	c := reliabilityClient(t, 1)
	victim := pgtest.Name("pgaad-nul-victim")
	pgtest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{victim}.Sanitize())
	t.Cleanup(func() { pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{victim}.Sanitize()) })
	withNUL := victim[:4] + "\x00" + victim[4:]
	err := c.DropPrincipal(context.Background(), withNUL, "")
	if err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Fatalf("dropping %q: %v", withNUL, err)
	}
	if !pgtest.RoleExists(t, victim) {
		t.Fatalf("dropping %q dropped %q", withNUL, victim)
	}
}

// TestExtensionAndAIReadsSurviveTerminatedConnections: the same for the
// reads of azurepg_extension and azurepg_ai_settings, on their database's
// own pool.
func TestExtensionAndAIReadsSurviveTerminatedConnections(t *testing.T) {
	c := reliabilityClient(t, 2)
	ctx := context.Background()
	db := pgtest.Name("pgaad reliability ai")
	pgtest.SuperExec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	t.Cleanup(func() {
		c.Close()
		pgtest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	})
	pgtest.SuperExec(t, db, "CREATE EXTENSION azure_ai")
	pgtest.SuperExec(t, db, "GRANT azure_ai_settings_manager TO azure_pg_admin")
	for i := range 3 {
		if _, err := c.Extension(ctx, db, "azure_ai"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.AISettingsOverview(ctx, db); err != nil {
			t.Fatal(err)
		}
		terminateOwn(t)
		if x, err := c.Extension(ctx, db, "azure_ai"); err != nil || x.Name != "azure_ai" {
			t.Fatalf("round %d: reading the extension after pg_terminate_backend: %+v, %v", i, x, err)
		}
		terminateOwn(t)
		if _, _, err := c.AISettingsOverview(ctx, db); err != nil {
			t.Fatalf("round %d: reading azure_ai settings after pg_terminate_backend: %v", i, err)
		}
	}
}

// TestExtensionAndAIWritesSurviveTerminatedConnections: creating, updating
// and dropping an extension and applying azure_ai settings on a pool whose
// connections were all killed just before.
func TestExtensionAndAIWritesSurviveTerminatedConnections(t *testing.T) {
	c := reliabilityClient(t, 2)
	ctx := context.Background()
	db := pgtest.Name("pgaad reliability writes")
	pgtest.SuperExec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	t.Cleanup(func() {
		c.Close()
		pgtest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	})
	pgtest.SuperExec(t, "postgres", "GRANT CREATE ON DATABASE "+pgx.Identifier{db}.Sanitize()+" TO azure_pg_admin")
	pgtest.SuperExec(t, db, "CREATE EXTENSION azure_ai")
	pgtest.SuperExec(t, db, "GRANT azure_ai_settings_manager TO azure_pg_admin")

	warm := func() {
		if _, err := c.Extension(ctx, db, "azure_ai"); err != nil {
			t.Fatal(err)
		}
		terminateOwn(t)
	}
	warm()
	if x, err := c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "hstore"}); err != nil || x.Name != "hstore" {
		t.Fatalf("creating an extension after pg_terminate_backend: %+v, %v", x, err)
	}
	warm()
	if _, err := c.UpdateExtension(ctx, db, "hstore", "1.8"); err != nil {
		t.Fatalf("updating an extension after pg_terminate_backend: %v", err)
	}
	warm()
	endpoint := "https://reliability.openai.azure.com"
	if err := c.ApplyAISettings(ctx, db, []pgaad.AISettingChange{{Key: pgaad.AIOpenAIEndpoint, Value: &endpoint}}); err != nil {
		t.Fatalf("applying azure_ai settings after pg_terminate_backend: %v", err)
	}
	warm()
	if err := c.DropExtension(ctx, db, "hstore"); err != nil {
		t.Fatalf("dropping an extension after pg_terminate_backend: %v", err)
	}
	var n int
	pgtest.SuperQueryRow(t, db, "SELECT count(*) FROM pg_extension WHERE extname = 'hstore'", nil, &n)
	if n != 0 {
		t.Fatal("hstore is still installed")
	}
	var got *string
	pgtest.SuperQueryRow(t, db, "SELECT azure_ai.get_setting($1)", []any{pgaad.AIOpenAIEndpoint}, &got)
	if got == nil || *got != endpoint {
		t.Fatalf("the endpoint on the server is %v", got)
	}
}

// TestCreatesSurviveRepeatedKills: principals created 6 at a time while
// every connection of the client is killed 5 times, after 50, 100, 150, 200
// and 250 of the 300 creations, wherever each transaction is then (before
// its statements, between them, at COMMIT). The creations are let through
// in batches, at most 25 past the next kill, so that the work cannot outrun
// the kills on a fast machine and each kill meets live connections with
// creations to follow. Every creation succeeds exactly once.
func TestCreatesSurviveRepeatedKills(t *testing.T) {
	c := reliabilityClient(t, 6)
	ctx := context.Background()
	names := make(chan string, 300)
	for range cap(names) {
		names <- pgtest.NewObject(t, "group", "pgaad kill").Name
	}
	close(names)
	permits := make(chan struct{}, cap(names))
	granted := 0
	grantUpTo := func(n int) {
		for ; granted < min(n, cap(names)); granted++ {
			permits <- struct{}{}
		}
	}
	var mu sync.Mutex
	var created []string
	t.Cleanup(func() {
		for _, n := range created {
			_ = c.DropPrincipal(context.Background(), n, "")
		}
	})
	var done atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for n := range names {
				<-permits
				// Half with a type to check (BEGIN in the batch, then COMMIT), half without (one implicit transaction).
				np := pgaad.NewPrincipal{Name: n}
				if len(n)%2 == 0 {
					np.Type = "group"
				}
				_, err := c.CreatePrincipal(ctx, np)
				mu.Lock()
				created = append(created, n)
				mu.Unlock()
				if err != nil {
					t.Error(err)
				}
				done.Add(1)
			}
		})
	}
	// A failed wait below: the creations end before the client closes.
	t.Cleanup(func() { grantUpTo(cap(names)); wg.Wait() })
	// At each kill the client has live connections: at least 25 creations
	// ran since the last kill, and none of their connections was killed.
	for _, at := range []int{50, 100, 150, 200, 250} {
		grantUpTo(at + 25)
		pgtest.WaitFor(t, fmt.Sprintf("%d creations", at), func() bool { return done.Load() >= int64(at) })
		if n := terminateOwn(t); n == 0 {
			t.Errorf("after %d creations: no connection of the client to kill", done.Load())
		}
	}
	grantUpTo(cap(names))
	wg.Wait()
	for _, n := range created {
		if !pgtest.RoleExists(t, n) {
			t.Errorf("%q was not created", n)
		}
	}
	t.Logf("%d creations, 6 at a time, with the connections killed 5 times", len(created))
}

// TestHoldCatalogLockLetsLoginsIn: the reliability tests hold a lock on
// pg_auth_members to stop the provider's reads at a known point, and
// expect its logins to go through. An ANALYZE of pg_authid (as autovacuum
// runs after many roles were created) drops the server's cache of the
// shared catalogs' descriptions, and a login that must rebuild it waits
// on that lock. With HoldCatalogLock the ANALYZE waits instead, and the
// login goes through.
func TestHoldCatalogLockLetsLoginsIn(t *testing.T) {
	e := pgtest.Emulator(t)
	release := pgtest.HoldCatalogLock(t, "postgres", "pg_auth_members")
	analyzed := make(chan struct{})
	go func() {
		defer close(analyzed)
		conn, err := pgx.Connect(context.Background(), e.SuperuserURL("postgres"))
		if err == nil {
			_, _ = conn.Exec(context.Background(), "ANALYZE pg_catalog.pg_authid")
			_ = conn.Close(context.Background())
		}
	}()
	pgtest.WaitFor(t, "the ANALYZE to wait for the held locks, or to be done", func() bool {
		select {
		case <-analyzed:
			return true
		default:
		}
		var n int
		pgtest.SuperQueryRow(t, "postgres", `SELECT count(*) FROM pg_stat_activity
			WHERE query LIKE 'ANALYZE pg_catalog.pg_authid%' AND wait_event_type = 'Lock'`, nil, &n)
		return n == 1
	})
	done := make(chan error, 1)
	go func() {
		conn, err := pgx.Connect(context.Background(), e.SuperuserURL("postgres"))
		if err == nil {
			_ = conn.Close(context.Background())
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("logging in with the lock held: %v", err)
		}
	case <-time.After(pgtest.WaitDeadline):
		t.Fatalf("logging in waited %s with the lock on pg_auth_members held", pgtest.WaitDeadline)
	}
	release()
	<-analyzed
}
