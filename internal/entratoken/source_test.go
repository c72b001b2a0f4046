package entratoken

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// countingCredential stands in for an azidentity credential in the cache
// tests (the real credentials are exercised against the emulator's token
// endpoint in the provider's acceptance tests).
type countingCredential struct {
	calls    atomic.Int64
	lifetime time.Duration
	now      func() time.Time
	delay    time.Duration
	err      error
	scopes   chan []string
}

func (c *countingCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := c.calls.Add(1)
	if c.scopes != nil {
		c.scopes <- o.Scopes
	}
	time.Sleep(c.delay)
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: "tok-" + string(rune('0'+n)), ExpiresOn: c.now().Add(c.lifetime)}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)} }
func sourceWith(c azcore.TokenCredential, clk *clock) *Source {
	cl, _ := LookupCloud("public")
	return &Source{method: MethodManagedIdentity, cloud: cl, cred: c, now: clk.now}
}

func TestParallelConnectionsShareOneFetch(t *testing.T) {
	clk := newClock()
	cred := &countingCredential{lifetime: time.Hour, now: clk.now, delay: 20 * time.Millisecond}
	src := sourceWith(cred, clk)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := src.Password(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := cred.calls.Load(); n != 1 {
		t.Fatalf("50 parallel connections fetched %d tokens, want 1", n)
	}
}

func TestRefreshMargin(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lifetime time.Duration
		reuseAt  time.Duration // still served from the cache
		renewAt  time.Duration // fetched again
	}{
		// A quarter of the lifetime for short tokens...
		{"one-minute token", time.Minute, 44 * time.Second, 46 * time.Second},
		// ...capped at five minutes for long ones.
		{"one-hour token", time.Hour, 54 * time.Minute, 55*time.Minute + time.Second},
		{"managed identity 24h token", 24 * time.Hour, 23*time.Hour + 54*time.Minute, 23*time.Hour + 55*time.Minute + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			cred := &countingCredential{lifetime: tc.lifetime, now: clk.now}
			src := sourceWith(cred, clk)
			first, err := src.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			clk.add(tc.reuseAt)
			if again, _ := src.Token(context.Background()); again.Value != first.Value || cred.calls.Load() != 1 {
				t.Fatalf("at +%s: token not reused (%d fetches)", tc.reuseAt, cred.calls.Load())
			}
			clk.add(tc.renewAt - tc.reuseAt)
			if renewed, _ := src.Token(context.Background()); renewed.Value == first.Value || cred.calls.Load() != 2 {
				t.Fatalf("at +%s: token not renewed (%d fetches)", tc.renewAt, cred.calls.Load())
			}
		})
	}
}

func TestCredentialErrorNamesMethodAndCause(t *testing.T) {
	clk := newClock()
	cause := errors.New("ManagedIdentityCredential: no default identity is assigned to this resource")
	src := sourceWith(&countingCredential{err: cause, now: clk.now}, clk)
	_, err := src.Password(context.Background())
	var ce *CredentialError
	if !errors.As(err, &ce) || !errors.Is(err, cause) {
		t.Fatalf("got %T %v", err, err)
	}
	for _, want := range []string{`auth_method "managed_identity"`, "no default identity is assigned"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// A failure is handed to the connections of the next failureHold without
	// asking again (they would each wait for the SDK's retries); after that
	// the next connection asks again.
	_, err2 := src.Password(context.Background())
	if n := src.cred.(*countingCredential).calls.Load(); n != 1 || !errors.Is(err2, cause) {
		t.Fatalf("fetches for two connections in a row = %d (%v), want 1", n, err2)
	}
	clk.add(failureHold + time.Second)
	_, _ = src.Password(context.Background())
	if n := src.cred.(*countingCredential).calls.Load(); n != 2 {
		t.Fatalf("fetches after the hold = %d, want 2", n)
	}
}

func TestScopePerCloud(t *testing.T) {
	for name, want := range map[string]string{
		"":                  "https://ossrdbms-aad.database.windows.net/.default",
		"public":            "https://ossrdbms-aad.database.windows.net/.default",
		"AzureCloud":        "https://ossrdbms-aad.database.windows.net/.default",
		"china":             "https://ossrdbms-aad.database.chinacloudapi.cn/.default",
		"AzureChinaCloud":   "https://ossrdbms-aad.database.chinacloudapi.cn/.default",
		"usgovernment":      "https://ossrdbms-aad.database.usgovcloudapi.net/.default",
		"AzureUSGovernment": "https://ossrdbms-aad.database.usgovcloudapi.net/.default",
	} {
		c, err := LookupCloud(name)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		clk := newClock()
		cred := &countingCredential{lifetime: time.Hour, now: clk.now, scopes: make(chan []string, 1)}
		src := sourceWith(cred, clk)
		src.cloud = c
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := <-cred.scopes; len(got) != 1 || got[0] != want {
			t.Errorf("cloud %q asked for scopes %v, want [%s]", name, got, want)
		}
	}
	if _, err := LookupCloud("germany"); err == nil || !strings.Contains(err.Error(), "china, public, usgovernment") {
		t.Errorf("unknown cloud: %v", err)
	}
}

func TestNewRefusesIncompleteSettings(t *testing.T) {
	for _, tc := range []struct {
		s    Settings
		want string
	}{
		{Settings{Method: MethodPassword}, "needs a password"},
		{Settings{Method: MethodAccessToken}, "needs a token"},
		{Settings{Method: MethodClientSecret, ClientID: "c"}, "needs tenant_id, client_id and client_secret"},
		{Settings{Method: "kerberos"}, "unknown auth_method"},
		{Settings{Method: MethodManagedIdentity, Cloud: "mars"}, "unknown cloud"},
	} {
		_, err := New(tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.s, err, tc.want)
		}
	}
}

func TestStaticSecretsAreServedAsIs(t *testing.T) {
	src, err := New(Settings{Method: MethodAccessToken, AccessToken: "eyJ.static"})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := src.Password(context.Background()); p != "eyJ.static" || !src.IsEntra() {
		t.Fatalf("access token source: %q entra=%v", p, src.IsEntra())
	}
	pw, err := New(Settings{Method: MethodPassword, Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := pw.Password(context.Background()); p != "s3cret" || pw.IsEntra() {
		t.Fatalf("password source: %q entra=%v", p, pw.IsEntra())
	}
}
