package provider_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
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

	// Restart 400 ms after the provider's first connection as this admin.
	wt := newWatcher(t)
	restarted := make(chan error, 1)
	var sawProvider atomic.Bool
	wt.done.Go(func() {
		for !wt.stopped() {
			if wt.count(ctx, "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", admin.Name) > 0 {
				sawProvider.Store(true)
				time.Sleep(400 * time.Millisecond)
				rctx, cancel := context.WithTimeout(ctx, time.Minute)
				restarted <- e.Restart(rctx)
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		restarted <- nil
	})
	first := w.Run("apply", "-auto-approve", "-input=false", "-no-color")
	wt.Stop()
	if err := <-restarted; err != nil || !sawProvider.Load() {
		t.Fatalf("restart during the apply: %v (provider seen: %v)", err, sawProvider.Load())
	}
	state := w.State()
	installed, set := checkExtensionsMatchServer(t, e, dbs, state)
	t.Logf("apply 1 with a restart: err=%v; %d of 12 extensions and %d of 12 settings in state and on the server", first.Err, installed, set)

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
