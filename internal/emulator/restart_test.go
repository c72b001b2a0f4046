package emulator_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// Restart is a fast shutdown and start on the same port, as a failover:
// open connections break, roles and tokens survive, the server log is kept.
func TestRestart(t *testing.T) {
	e := need(t)
	before := admin(t, "postgres")
	port := e.Port()
	marker := uniq("before-restart-marker-")
	exec(t, super(t, "postgres"), "DO $$ BEGIN RAISE WARNING '"+marker+"'; END $$")
	tok, err := e.IssueToken(testCtx(t), resourcePublic, "")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Restart(ctx); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if e.Port() != port {
		t.Errorf("port changed from %d to %d", port, e.Port())
	}
	if err := before.Ping(testCtx(t)); err == nil {
		t.Error("a connection opened before the restart still works")
	}
	// The admin's current token still logs in; the superuser pool is new.
	conn := mustOpen(t, e.URL(e.AdminName(), tok.Value, "postgres"))
	if n := scalar[int](t, conn, "SELECT count(*) FROM pgaadauth_list_principals(true)"); n < 1 {
		t.Errorf("list_principals after restart: %d rows", n)
	}
	var one int
	if err := e.Superuser().QueryRow(testCtx(t), "SELECT 1").Scan(&one); err != nil {
		t.Errorf("superuser pool after restart: %v", err)
	}
	log, err := os.ReadFile(e.ServerLog())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), marker) {
		t.Error("the server log written before the restart is gone")
	}
}
