package provider_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestReliabilityPartialFailure: 50 principals, one of which the tenant
// does not know. The 49 others are created and in the state, the missing
// one is neither in the state nor on the server, and the one error names
// it (address and name). After the name is fixed the next apply converges.
func TestReliabilityPartialFailure(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	prefix := acctest.Name("rel-partial")
	names := keyed(tenantObjects(t, "group", prefix, 50))
	missing := prefix + " not in the tenant"
	names["k025"] = missing
	w := acctest.NewWorkdir(t, forEachConfig(admin, names), nil)
	t.Cleanup(func() { w.Run("destroy", "-auto-approve", "-input=false") })

	r := w.Run("apply", "-auto-approve", "-input=false", "-no-color")
	if r.Err == nil {
		t.Fatal("the apply succeeded with a name that the tenant does not know")
	}
	if got := checkStateMatchesServer(t, w, prefix); got != 49 {
		t.Fatalf("%d principals in the state, want 49", got)
	}
	if stateNames(w)[missing] || acctest.RoleExists(t, missing) {
		t.Fatalf("%q was created", missing)
	}
	failed := errorAddresses(r.Stderr)
	if len(failed) != 1 || failed[`azurepg_principal.p["k025"]`] != 1 {
		t.Fatalf("errors for %v, want exactly one for azurepg_principal.p[\"k025\"]:\n%s", failed, r.Stderr)
	}
	if want := words("Error: Name not found in the Microsoft Entra tenant", `creating principal "`+missing+`"`,
		"Check the spelling and case"); !want.MatchString(r.Stderr) {
		t.Fatalf("the error does not say which name and why:\n%s", r.Stderr)
	}

	// Fix the name: the tenant now has the object.
	fixed := prefix + "-025b"
	if _, err := e.AddObject(context.Background(), emulator.Object{Kind: "group", Name: fixed}); err != nil {
		t.Fatal(err)
	}
	names["k025"] = fixed
	w.SetConfig(forEachConfig(admin, names))
	w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	if got := checkStateMatchesServer(t, w, prefix); got != 50 {
		t.Fatalf("%d principals after the fix, want 50", got)
	}
	if r := w.Run("plan", "-input=false", "-no-color", "-detailed-exitcode"); r.Err != nil {
		t.Fatalf("plan after the fix is not empty (%v):\n%s", r.Err, r.Stdout)
	}
}

// TestReliabilityConcurrentApplies runs two Terraform processes (each with
// its own provider process and pool) against one server at once. On
// different principals both succeed; on the same principal exactly one
// succeeds and the other gets the already-exists error with its import hint.
func TestReliabilityConcurrentApplies(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	prefix := acctest.Name("rel-concurrent")
	all := tenantObjects(t, "managed_identity", prefix, 40)
	a := acctest.NewWorkdir(t, forEachConfig(admin, keyed(all[:20])), nil)
	b := acctest.NewWorkdir(t, forEachConfig(admin, keyed(all[20:])), nil)
	t.Cleanup(func() {
		a.Run("destroy", "-auto-approve", "-input=false")
		b.Run("destroy", "-auto-approve", "-input=false")
	})
	ra, rb := both(func() acctest.CLIResult { return a.Run("apply", "-auto-approve", "-input=false", "-no-color") },
		func() acctest.CLIResult { return b.Run("apply", "-auto-approve", "-input=false", "-no-color") })
	for i, r := range []acctest.CLIResult{ra, rb} {
		if r.Err != nil {
			t.Fatalf("apply %d of 2 failed: %v\n%s", i+1, r.Err, r.Stderr)
		}
	}
	if len(stateNames(a)) != 20 || len(stateNames(b)) != 20 || len(rolesLike(t, prefix)) != 40 {
		t.Fatalf("states %d + %d, server %d; want 20 + 20 and 40", len(stateNames(a)), len(stateNames(b)), len(rolesLike(t, prefix)))
	}
	t.Logf("two concurrent applies of 20 principals each: %s and %s", ra.Duration.Round(time.Millisecond), rb.Duration.Round(time.Millisecond))

	// The same principal from both, several times (the race is in the
	// server: both sessions pass pgaadauth's existence check, one CREATE
	// ROLE waits for the other's commit).
	for round := range 3 {
		same := tenantObjects(t, "user", fmt.Sprintf("%s-same%d", prefix, round), 1)[0]
		one := map[string]string{"same": same}
		c := acctest.NewWorkdir(t, forEachConfig(admin, one), nil)
		d := acctest.NewWorkdir(t, forEachConfig(admin, one), nil)
		rc, rd := both(func() acctest.CLIResult { return c.Run("apply", "-auto-approve", "-input=false", "-no-color") },
			func() acctest.CLIResult { return d.Run("apply", "-auto-approve", "-input=false", "-no-color") })
		if (rc.Err == nil) == (rd.Err == nil) {
			t.Fatalf("round %d: want exactly one success, got %v and %v\n%s\n%s", round, rc.Err, rd.Err, rc.Stderr, rd.Stderr)
		}
		winner, loser := c, rd
		if rc.Err != nil {
			winner, loser = d, rc
		}
		want := words("Error: Role already exists", `creating principal "`+same+`"`,
			"Terraform did not change or drop the existing role", "terraform import 'azurepg_principal.<name>' '"+same+"'")
		if !want.MatchString(loser.Stderr) {
			t.Fatalf("round %d: the losing apply does not give the already-exists error with the import hint:\n%s", round, loser.Stderr)
		}
		if !stateNames(winner)[same] || !acctest.RoleExists(t, same) {
			t.Fatalf("round %d: the winner's principal is not in its state and on the server", round)
		}
		winner.MustRun("destroy", "-auto-approve", "-input=false")
		t.Logf("round %d: loser said %q", round, firstLine(loser.Stderr, "Error:"))
	}
}

// both runs two functions at once (released together) and returns their results.
func both(f, g func() acctest.CLIResult) (acctest.CLIResult, acctest.CLIResult) {
	var rf, rg acctest.CLIResult
	var wg sync.WaitGroup
	var ready atomic.Int32
	start := make(chan struct{})
	wg.Go(func() { ready.Add(1); <-start; rf = f() })
	wg.Go(func() { ready.Add(1); <-start; rg = g() })
	for ready.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(start)
	wg.Wait()
	return rf, rg
}

func firstLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, prefix) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
