package pgaad_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/netdelay"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// BenchmarkWritesOverNetwork is the provider's side of an apply and a
// destroy of 500 principals over a network of 100 ms per round trip,
// without Terraform's own work: 10 writers at once (Terraform's
// -parallelism) on a client with max_connections = 4, through the latency
// proxy. Terraform cannot go faster than its 10 operations at one round
// trip each: 500 / 10 × 100 ms = 5 s. It reports the seconds of the
// creations and of the drops, and the round trips of each.
//
//	TF_ACC=1 go test ./internal/pgaad -run '^$' -bench WritesOverNetwork -benchtime 1x
func BenchmarkWritesOverNetwork(b *testing.B) {
	const n, writers, rtt = 500, 10, 100 * time.Millisecond
	admin, proxy, cfg := adminThroughProxy(b, rtt)
	cfg.MaxConns, cfg.Password = 4, admin.Password
	var names []string
	for i := range n {
		names = append(names, pgtest.NewObject(b, "group", fmt.Sprintf("bench-net %d", i)).Name)
	}
	// run calls write for every name, writers at a time, and returns the
	// seconds it took and the round trips it made.
	run := func(write func(name string) error) (float64, int64) {
		start, trips := time.Now(), proxy.RoundTrips()
		work := make(chan string)
		var wg sync.WaitGroup
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for name := range work {
					if err := write(name); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for _, name := range names {
			work <- name
		}
		close(work)
		wg.Wait()
		return time.Since(start).Seconds(), proxy.RoundTrips() - trips
	}
	ctx := context.Background()
	var create, drop, createTrips, dropTrips float64
	for range b.N {
		c := pgaad.NewClient(cfg)
		s, trips := run(func(name string) error { _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: name}); return err })
		create, createTrips = create+s, createTrips+float64(trips)
		s, trips = run(func(name string) error { return c.DropPrincipal(ctx, name, "") })
		drop, dropTrips = drop+s, dropTrips+float64(trips)
		c.Close()
	}
	b.ReportMetric(create/float64(b.N), "s-create-500")
	b.ReportMetric(drop/float64(b.N), "s-drop-500")
	b.ReportMetric(createTrips/float64(b.N)/n, "trips/create")
	b.ReportMetric(dropTrips/float64(b.N)/n, "trips/drop")
	b.ReportMetric(0, "ns/op")
}

// adminThroughProxy is the emulator's Entra admin credential, a latency
// proxy of rtt to the emulator (which counts the client's connections and
// flights), and a client configuration that logs in as the admin through
// it, without Password.
func adminThroughProxy(tb testing.TB, rtt time.Duration) (*entratoken.Source, *netdelay.Proxy, pgaad.Config) {
	tb.Helper()
	e := pgtest.Emulator(tb)
	admin, err := entratoken.New(entratoken.Settings{Method: "managed_identity"})
	if err != nil {
		tb.Fatal(err)
	}
	proxy, err := netdelay.Start(fmt.Sprintf("127.0.0.1:%d", e.Port()), rtt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(proxy.Close)
	return admin, proxy, pgaad.Config{Host: e.Host(), Port: proxy.Port(), Username: e.AdminName(), SSLMode: "verify-full",
		SSLRootCert: e.CAFile(), Entra: true}
}
