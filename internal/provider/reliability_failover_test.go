package provider_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// A failover or planned maintenance: the server goes away for a while (60
// to 120 s on Azure, with the same host name) and comes back. The provider
// waits for it within failover_timeout and the command succeeds; with a
// bound shorter than the outage, the error says that the server was
// unreachable for the whole bound.

// outage takes the emulator down for pause, then up again.
func outage(t *testing.T, pause time.Duration) {
	t.Helper()
	e := acctest.Emulator(t)
	if err := e.Down(); err != nil {
		t.Fatalf("stopping the emulator: %v", err)
	}
	time.Sleep(pause) // the outage itself: its length is the test's input, not a wait for a condition
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Up(ctx); err != nil {
		t.Fatalf("starting the emulator again: %v", err)
	}
}

// TestReliabilityFailoverDuringApplyAndRefresh: the server is down for 8 s
// in the middle of an apply of 300 principals, and again in the middle of a
// refresh. Both commands succeed, the state matches the server, and the
// provider logged its waiting.
//
// The outages hit the commands in flight whatever the machine's speed: every
// creation reads the tenant's directory, which a held lock keeps to itself
// until the server goes down; the refresh's read waits on a lock of
// pg_auth_members in the same way. Each outage begins once a provider
// connection waits on the lock, so the provider has reached the server
// before (the condition for waiting out an outage).
func TestReliabilityFailoverDuringApplyAndRefresh(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	prefix := acctest.Name("rel-failover")
	names := tenantObjects(t, "user", prefix, 300)
	w := acctest.NewWorkdir(t, forEachConfig(admin, keyed(names)), nil)
	t.Cleanup(func() { w.Run("destroy", "-auto-approve", "-input=false") })
	w.MustRun("version")

	acctest.HoldTransaction(t, "postgres", "LOCK TABLE azure_emulator.directory IN ACCESS EXCLUSIVE MODE") // ends with the server
	apply := runInBackground(w, "apply", "-auto-approve", "-input=false", "-no-color")
	t.Cleanup(func() { apply.wait() })
	acctest.WaitFor(t, "a creation of the apply waiting on the tenant's directory", func() bool {
		apply.running(t, "the outage (no principal can be created before it)")
		return providerLockWaits(t, admin.Name, "postgres") > 0
	})
	outage(t, 8*time.Second)
	r := apply.wait()
	if r.Err != nil {
		t.Fatalf("apply across an 8 s outage failed (%v):\n%s\n%s", r.Err, r.Stdout, r.Stderr)
	}
	if got := checkStateMatchesServer(t, w, prefix); got != 300 {
		t.Fatalf("%d principals after the apply, want 300", got)
	}
	if !w.LogsContain("server unreachable, waiting for it") || !w.LogsContain("the server answers again") {
		t.Error("the provider's log has no line for the wait")
	}
	t.Logf("apply of 300 principals across an 8 s outage: %s", r.Duration.Round(time.Millisecond))

	acctest.HoldCatalogLock(t, "postgres", "pg_auth_members")
	plan := runInBackground(w, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	t.Cleanup(func() { plan.wait() })
	acctest.WaitFor(t, "a read of the refresh waiting on pg_auth_members", func() bool {
		plan.running(t, "the outage (its reads were held)")
		return providerLockWaits(t, admin.Name, "") > 0
	})
	outage(t, 8*time.Second)
	if r := plan.wait(); r.Err != nil {
		t.Fatalf("refresh across an 8 s outage: plan failed or not empty (%v):\n%s\n%s", r.Err, r.Stdout, r.Stderr)
	}
	if got := checkStateMatchesServer(t, w, prefix); got != 300 {
		t.Fatalf("%d principals after the refresh, want 300", got)
	}
}

// TestReliabilityOutageLongerThanBound: with failover_timeout = 3 the
// server stays down until the command has ended; the error names the
// server and says that it was unreachable for the whole of the 3 s.
func TestReliabilityOutageLongerThanBound(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	prefix := acctest.Name("rel-outage")
	names := tenantObjects(t, "user", prefix, 20)
	config := forEachConfig(admin, keyed(names))
	config = strings.Replace(config, acctest.ProviderBlock(admin, ""), acctest.ProviderBlock(admin, "connect_timeout = 2\n  failover_timeout = 3"), 1)
	w := acctest.NewWorkdir(t, config, nil)
	w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	t.Cleanup(func() { w.Run("destroy", "-auto-approve", "-input=false") })

	acctest.HoldCatalogLock(t, "postgres", "pg_auth_members")
	plan := runInBackground(w, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	acctest.WaitFor(t, "a read of the refresh waiting on pg_auth_members", func() bool {
		plan.running(t, "the outage (its reads were held)")
		return providerLockWaits(t, admin.Name, "") > 0
	})
	e := acctest.Emulator(t)
	if err := e.Down(); err != nil {
		t.Fatal(err)
	}
	r := plan.wait() // the server stays down until the plan has ended: the outage outlasts the bound
	t.Logf("plan with the server down: %s", r.Duration.Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Up(ctx); err != nil {
		t.Fatal(err)
	}
	out := strings.Join(strings.Fields(r.Stdout+r.Stderr), " ")
	if r.Err == nil || !strings.Contains(out, "unreachable for the whole of the 3s allowed for an outage") || !strings.Contains(out, "localhost") {
		t.Fatalf("plan with the server down past failover_timeout (%v):\n%s\n%s", r.Err, r.Stdout, r.Stderr)
	}
}
