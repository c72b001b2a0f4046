package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/netdelay"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// readCounting runs a read on c, then checks how many tokens were fetched
// and connections opened for it.
func readCounting(t *testing.T, c *pgaad.Client, fetches *atomic.Int32, proxy *netdelay.Proxy, want int, why string) {
	t.Helper()
	if _, err := c.ListPrincipals(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if n, conns := fetches.Load(), proxy.Connections(); n != int32(want) || conns != int64(want) {
		t.Errorf("%d token fetches and %d connections, want %d and %d%s", n, conns, want, want, why)
	}
}

// TestTokenFetchedWhileDialling: the token of a new connection is fetched
// while the connection is dialled and its TLS handshake made, not before.
// The credential here gives its token only once the client has sent its
// third flight to the server: the SSLRequest, the TLS ClientHello, then the
// TLS Finished, which ends the handshake on the client's side (the proxy
// counts a flight each time the client speaks after the server). A client
// that fetched the token first, or that left the handshake to the startup
// message (as pgconn does), waits for a flight that never comes, and fails.
func TestTokenFetchedWhileDialling(t *testing.T) {
	t.Parallel()
	admin, proxy, cfg := adminThroughProxy(t, time.Millisecond)
	var fetches atomic.Int32
	cfg.Password = func(ctx context.Context) (string, error) {
		fetches.Add(1)
		deadline := time.Now().Add(pgtest.WaitDeadline)
		for proxy.RoundTrips() < 3 {
			if time.Now().After(deadline) {
				return "", fmt.Errorf("the client sent %d flights, not 3, in %s while the token was fetched", proxy.RoundTrips(), pgtest.WaitDeadline)
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		return admin.Password(ctx)
	}
	c := pgaad.NewClient(cfg)
	defer c.Close()
	readCounting(t, c, &fetches, proxy, 1, "")
}

// TestTokenSlowerThanTheWaitConnectsAgain: a connection that waited for its
// token longer than the limit (the server may have dropped it meanwhile:
// authentication_timeout) is not used; the client connects again at once,
// with the token then at hand, and the operation succeeds. The wait is
// measured on a clock of the test's, which the first token moves on by
// twice the limit once the connection waits for it: the first connection
// waited too long and the second did not, whatever the machine's speed.
func TestTokenSlowerThanTheWaitConnectsAgain(t *testing.T) {
	t.Parallel()
	admin, proxy, cfg := adminThroughProxy(t, time.Millisecond)
	const limit = time.Hour
	var ahead atomic.Int64 // how far the test's clock is ahead of time.Now
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	waiting := make(chan struct{}, 8)
	var fetches atomic.Int32
	cfg.Password = func(ctx context.Context) (string, error) {
		if fetches.Add(1) == 1 {
			select {
			case <-waiting:
			case <-time.After(pgtest.WaitDeadline):
				return "", errors.New("no connection waited for the token")
			}
			ahead.Add(int64(2 * limit))
		}
		return admin.Password(ctx)
	}
	c := pgaad.NewClient(cfg)
	defer c.Close()
	pgaad.SetTokenWait(c, limit, now, func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	})
	readCounting(t, c, &fetches, proxy, 2, " (the first connection given up, one more)")
}

// TestTokenFailureIsNotAnOutage: a credential that fails while the
// connection is dialled fails the operation with the credential's error at
// once, even after the server was reached (when a failure to connect may
// be an outage, waited out). Its error here wraps a refused connection (an
// identity endpoint that does not answer), which would look like a server
// that went away if the token's failure were not told apart.
func TestTokenFailureIsNotAnOutage(t *testing.T) {
	t.Parallel()
	admin, _, cfg := adminThroughProxy(t, time.Millisecond)
	var fail atomic.Bool
	cfg.Password = func(ctx context.Context) (string, error) {
		if fail.Load() {
			return "", &entratoken.CredentialError{Method: "managed_identity",
				Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
		}
		return admin.Password(ctx)
	}
	var mu sync.Mutex
	var logged []string
	cfg.OutageTimeout = 10 * time.Minute
	cfg.Log = func(_ context.Context, msg string, _ map[string]any) {
		mu.Lock()
		logged = append(logged, msg)
		mu.Unlock()
	}
	c := pgaad.NewClient(cfg)
	defer c.Close()
	ctx := context.Background()
	if _, err := c.ListPrincipals(ctx, true); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	pool, err := c.Pool(ctx, pgaad.PrincipalsDatabase)
	if err != nil {
		t.Fatal(err)
	}
	pool.Reset() // the next operation opens a connection
	_, err = c.ListPrincipals(ctx, true)
	var pe *pgaad.Error
	if !errors.Is(err, pgaad.ErrConnection) || !errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicCredential {
		t.Fatalf("got %v, want ErrConnection about the credential", err)
	}
	for _, s := range []string{"could not get an Entra access token", "The credential could not produce a token"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range logged {
		if strings.Contains(m, "unreachable") {
			t.Errorf("the credential's failure was waited out as an outage: %q", m)
		}
	}
}
