package provider_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// connSampler counts, from the server's side (pg_stat_activity, sampled by
// the superuser every 5 ms), the backends of one login role.
type connSampler struct {
	mu           sync.Mutex
	max, samples int
	stop         chan struct{}
	stopOnce     sync.Once
	done         sync.WaitGroup
}

func sampleConnections(t *testing.T, role string) *connSampler {
	t.Helper()
	s := &connSampler{stop: make(chan struct{})}
	conn := acctest.Emulator(t).Superuser()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			var n int
			if err := conn.QueryRow(context.Background(),
				"SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend'", role).Scan(&n); err != nil {
				t.Errorf("sampling pg_stat_activity: %v", err)
				return
			}
			s.observe(n)
		}
	}()
	t.Cleanup(func() { s.finish() })
	return s
}

// observe records a count taken outside the sampler.
func (s *connSampler) observe(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	s.max = max(s.max, n)
}

func (s *connSampler) finish() (maxOpen, samples int) {
	s.stopOnce.Do(func() { close(s.stop) })
	s.done.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.samples
}

// TestAccMaxConnectionsAcrossDatabases: ai_settings in 12 databases with
// max_connections = 4. Each database has its own pool, and before 2026-12
// each could open 4 (48 in all); now the server never sees more than 4 of
// the provider's connections at once, while the apply, refresh and destroy
// of all 12 succeed (idle connections of one database give way to another).
//
// The server's side is sampled throughout, and once for certain at the
// point of most demand: during the apply a lock on azure_ai.settings_store
// in every database holds each write, until 4 of the provider's connections
// wait on it (10 operations at once want one); then the count is taken and
// the locks released.
func TestAccMaxConnectionsAcrossDatabases(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	var dbs []string
	var cfg strings.Builder
	for i := range 12 {
		db := aiDatabase(t, acctest.Name("maxconn"), true)
		dbs = append(dbs, db)
		fmt.Fprintf(&cfg, `
resource "azurepg_ai_settings" "s%d" {
  database = %s
  azure_openai {
    endpoint         = "https://maxconn-%d.openai.azure.com"
    auth_type        = "subscription-key"
    subscription_key = "key-%d"
  }
}
`, i, hclquote.String(db), i, i)
	}
	// connect_timeout 44: settings of their own, so a client of their own.
	config := acctest.ProviderBlock(admin, "max_connections = 4\n  connect_timeout = 44") + cfg.String()
	checkAll := func(cleared bool) resource.TestCheckFunc {
		return func(*terraform.State) error {
			for i, db := range dbs {
				want := map[string]*string{"azure_openai.endpoint": str(fmt.Sprintf("https://maxconn-%d.openai.azure.com", i))}
				if cleared {
					want["azure_openai.endpoint"] = nil
				}
				if err := checkAISettings(t, db, want)(nil); err != nil {
					return fmt.Errorf("database %s: %w", db, err)
				}
			}
			return nil
		}
	}
	s := sampleConnections(t, admin.Name)
	held := make(chan int, 1) // the provider's connections when 4 waited
	hold := func() {
		var releases []func()
		for _, db := range dbs {
			releases = append(releases, acctest.HoldTransaction(t, db, "LOCK TABLE azure_ai.settings_store IN ACCESS EXCLUSIVE MODE"))
		}
		// Not the test's goroutine: resource.Test runs the apply meanwhile.
		go func() {
			defer func() {
				for _, release := range releases {
					release()
				}
			}()
			conn := acctest.Emulator(t).Superuser()
			for deadline := time.Now().Add(acctest.WaitDeadline); ; time.Sleep(10 * time.Millisecond) {
				var waiting, open int
				if err := conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*)
					FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend'`, admin.Name).Scan(&waiting, &open); err != nil {
					t.Errorf("counting the provider's connections: %v", err)
					return
				}
				s.observe(open)
				if waiting >= 4 {
					held <- mostWaiting(t, conn, admin.Name, waiting)
					return
				}
				if time.Now().After(deadline) {
					t.Errorf("waited %s for 4 of the provider's connections to wait on the held writes: %d did", acctest.WaitDeadline, waiting)
					return
				}
			}
		}()
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkAll(true),
		Steps: []resource.TestStep{
			{PreConfig: hold, Config: config, Check: checkAll(false)},
			{RefreshState: true},
		},
	})
	// Logged, not judged: a backend whose client the provider has closed
	// (an idle connection giving way to another database) stays in
	// pg_stat_activity until it has exited, so the server may briefly list
	// one more than the provider holds.
	maxOpen, samples := s.finish()
	t.Logf("pg_stat_activity: at most %d of the provider's connections listed at once (%d samples)", maxOpen, samples)
	select {
	case waiting := <-held:
		t.Logf("with every write held: at most %d of the provider's connections waiting on them", waiting)
		if waiting > 4 {
			t.Errorf("with every write held, %d of the provider's connections waited at once, max_connections = 4", waiting)
		}
	default:
		t.Fatal("the writes were never held by 4 connections (see above)")
	}
}

// mostWaiting watches, for a second after first waiting connections were
// seen blocked on the held writes, how many wait at most. Every write is
// held, so a provider that kept its cap has exactly max_connections
// waiting and can open no more; one that did not shows more. Waiting
// connections are live by definition (an exiting backend waits on no
// lock), so the count cannot be inflated by the server's lag; the watch
// can only miss a late extra connection, never invent one.
func mostWaiting(t *testing.T, conn *pgxpool.Pool, role string, first int) int {
	most := first
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE usename = $1 AND backend_type = 'client backend' AND wait_event_type = 'Lock'`, role).Scan(&waiting); err != nil {
			t.Errorf("counting the provider's waiting connections: %v", err)
			return most
		}
		most = max(most, waiting)
	}
	return most
}
