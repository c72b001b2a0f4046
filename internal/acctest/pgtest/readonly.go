package pgtest

import (
	"context"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// SetReadOnly makes the emulator's server read-only for every role (on),
// or writable again, and returns once a new session sees the change; a
// read-only server is made writable again when the test ends.
//
// It sets the server parameter default_transaction_read_only (ALTER SYSTEM,
// then pg_reload_conf()), so that every change fails with SQLSTATE 25006, as
// on an Azure server whose storage is 95% full. GUESS: that Azure's
// read-only mode is this parameter; Learn says only that the server "is
// automatically switched to read-only mode" (concepts-storage,
// concepts-limits). A live test on a server filled to 95% would settle it.
// Sessions that are open pick the change up before their next statement
// (PostgreSQL reloads the configuration between statements).
//
// The emulator is shared by the test binary: call it only from a test that
// runs alone (no t.Parallel), which Go runs before the parallel ones.
func SetReadOnly(t testing.TB, e *emulator.Emulator, on bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), statementTimeout)
	defer cancel()
	conn := connect(t, e.SuperuserURL("postgres"))
	defer conn.Close(context.Background())
	// The session itself must be writable to change the setting back.
	stmts := []string{"SET default_transaction_read_only = off", "ALTER SYSTEM RESET default_transaction_read_only"}
	if on {
		stmts[1] = "ALTER SYSTEM SET default_transaction_read_only = on"
	}
	for _, s := range append(stmts, "SELECT pg_reload_conf()") {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("as superuser on port %d: %s: %v", e.Port(), s, err)
		}
	}
	want := "off"
	if on {
		want = "on"
		t.Cleanup(func() { SetReadOnly(t, e, false) })
	}
	// pg_reload_conf() only signals the postmaster: wait until it has read
	// the file (new sessions then start with the new value, and it has
	// signalled the open ones).
	WaitFor(t, "default_transaction_read_only = "+want+" in a new session", func() bool {
		c := connect(t, e.SuperuserURL("postgres"))
		defer c.Close(context.Background())
		var got string
		if err := c.QueryRow(ctx, "SHOW default_transaction_read_only").Scan(&got); err != nil {
			t.Fatalf("SHOW default_transaction_read_only: %v", err)
		}
		return got == want
	})
}
