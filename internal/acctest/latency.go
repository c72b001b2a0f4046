package acctest

import (
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/netdelay"
)

// LatencyProxy is a netdelay.Proxy that a test started.
type LatencyProxy = netdelay.Proxy

// StartLatencyProxy listens on 127.0.0.1 and forwards to target
// ("127.0.0.1:port") with the round-trip time rtt; it stops with the test.
func StartLatencyProxy(t testing.TB, target string, rtt time.Duration) *LatencyProxy {
	t.Helper()
	p, err := netdelay.Start(target, rtt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
