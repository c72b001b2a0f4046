package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// TestReliabilityRestartDuringExtensionApply restarts the server while an
// apply creates azure_ai and its settings in 12 databases (one pool per
// database). Afterwards each database's extension and settings are on the
// server exactly when they are in the state, the next apply converges and
// the plan after it is empty.
func TestReliabilityRestartDuringExtensionApply(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	ctx := context.Background()
	var dbs []string
	var cfg strings.Builder
	cfg.WriteString(acctest.RequiredProviders + acctest.ProviderBlock(admin, ""))
	for i := range 12 {
		db := acctest.Name(fmt.Sprintf("rel ext %02d", i))
		dbs = append(dbs, db)
		acctest.SuperExec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
		acctest.SuperExec(t, "postgres", "GRANT CREATE ON DATABASE "+pgx.Identifier{db}.Sanitize()+" TO azure_pg_admin")
		t.Cleanup(func() {
			acctest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
		})
		fmt.Fprintf(&cfg, `
resource "azurepg_extension" "ai%02d" {
  database = %s
  name     = "azure_ai"
}
resource "azurepg_ai_settings" "s%02d" {
  database = azurepg_extension.ai%02d.database
  azure_openai {
    endpoint  = "https://rel%02d.openai.azure.com"
    auth_type = "managed-identity"
  }
}
`, i, hclquote.String(db), i, i, i)
	}
	w := acctest.NewWorkdir(t, cfg.String(), nil)
	t.Cleanup(func() { w.Run("destroy", "-auto-approve", "-input=false") })
	w.MustRun("version") // writes the CLI configuration here, not in the apply's goroutine

	// Restart in the middle of the apply, whatever the machine's speed: in
	// one database a lock on pg_extension holds CREATE EXTENSION (and so
	// that database's settings), so the apply cannot have finished; the
	// restart comes once the provider waits there and azure_ai is in at
	// least 6 of the other 11 databases.
	heldDB := dbs[5]
	release := acctest.HoldTransaction(t, heldDB, "LOCK TABLE pg_catalog.pg_extension IN ACCESS EXCLUSIVE MODE")
	apply := runInBackground(w, "apply", "-auto-approve", "-input=false", "-no-color")
	t.Cleanup(func() { release(); apply.wait() })
	others := map[string]*pgx.Conn{}
	for _, db := range dbs {
		if db == heldDB {
			continue
		}
		conn, err := pgx.Connect(ctx, e.SuperuserURL(db))
		if err != nil {
			t.Fatal(err)
		}
		others[db] = conn
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	installedThen := 0
	acctest.WaitFor(t, "the provider waiting on the lock in "+heldDB+", and azure_ai in 6 of the other 11 databases", func() bool {
		apply.running(t, "the restart (azure_ai cannot be created in "+heldDB+" before it)")
		if providerLockWaits(t, admin.Name, heldDB) == 0 {
			return false
		}
		installedThen = 0
		for db, conn := range others {
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_extension WHERE extname = 'azure_ai'").Scan(&n); err != nil {
				t.Fatalf("database %q: %v", db, err)
			}
			installedThen += n
		}
		return installedThen >= 6
	})
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	err := e.Restart(rctx)
	cancel()
	if err != nil {
		t.Fatalf("restart during the apply: %v", err)
	}
	first := apply.wait()
	state := w.State()
	installed, set := checkExtensionsMatchServer(t, e, dbs, state)
	t.Logf("apply 1 with a restart (azure_ai in %d other databases then): err=%v; %d of 12 extensions and %d of 12 settings in state and on the server", installedThen, first.Err, installed, set)

	w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	if installed, set := checkExtensionsMatchServer(t, e, dbs, w.State()); installed != 12 || set != 12 {
		t.Fatalf("after the second apply %d extensions and %d settings, want 12 and 12", installed, set)
	}
	if r := w.Run("plan", "-input=false", "-no-color", "-detailed-exitcode"); r.Err != nil {
		t.Fatalf("plan after convergence is not empty (%v):\n%s", r.Err, r.Stdout)
	}
}

// checkExtensionsMatchServer: in each database, azure_ai is installed
// exactly when its azurepg_extension is in the state, and the endpoint is
// set exactly when its azurepg_ai_settings is.
func checkExtensionsMatchServer(t *testing.T, e *emulator.Emulator, dbs []string, state map[string]acctest.StateResource) (installed, set int) {
	t.Helper()
	ctx := context.Background()
	for i, db := range dbs {
		conn, err := pgx.Connect(ctx, e.SuperuserURL(db))
		if err != nil {
			t.Fatal(err)
		}
		var ext int
		var endpoint *string
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_extension WHERE extname = 'azure_ai'").Scan(&ext); err != nil {
			t.Fatal(err)
		}
		if ext == 1 {
			if err := conn.QueryRow(ctx, "SELECT azure_ai.get_setting('azure_openai.endpoint')").Scan(&endpoint); err != nil {
				t.Fatal(err)
			}
		}
		conn.Close(ctx)
		_, extInState := state[fmt.Sprintf("azurepg_extension.ai%02d", i)]
		_, setInState := state[fmt.Sprintf("azurepg_ai_settings.s%02d", i)]
		if (ext == 1) != extInState {
			t.Errorf("database %q: azure_ai installed %v, in the state %v", db, ext == 1, extInState)
		}
		if (endpoint != nil) != setInState {
			t.Errorf("database %q: endpoint set %v, settings in the state %v", db, endpoint != nil, setInState)
		}
		if ext == 1 {
			installed++
		}
		if endpoint != nil {
			set++
		}
	}
	return installed, set
}
