package emulator_test

import (
	"testing"
	"time"
)

// waitDeadline bounds every wait for a condition: far longer than any
// condition takes on a loaded machine, so that reaching it means the
// condition never came, not that the machine is slow.
const waitDeadline = 2 * time.Minute

// waitFor calls cond (every 10 ms) until it returns true; after
// waitDeadline it fails the test, naming what it waited for.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: it never happened (the test cannot judge without it)", waitDeadline, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkExpiry checks the expiry of a token issued between before and
// after that lives lifetime (the endpoint truncates it to the second).
func checkExpiry(t *testing.T, what string, expiresOn, before, after time.Time, lifetime time.Duration) {
	t.Helper()
	if expiresOn.Before(before.Add(lifetime).Add(-time.Second)) || expiresOn.After(after.Add(lifetime)) {
		t.Errorf("%s expires at %s; issued between %s and %s with a lifetime of %s", what,
			expiresOn.Format(time.StampMilli), before.Format(time.StampMilli), after.Format(time.StampMilli), lifetime)
	}
}
