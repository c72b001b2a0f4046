package provider_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// throttlingIdentity is a managed-identity endpoint (App Service protocol,
// IDENTITY_ENDPOINT/IDENTITY_HEADER on 127.0.0.1) in front of the emulator's:
// it answers 410 (an endpoint being updated) gone times, then 429 with
// Retry-After: 1 throttled times, then passes requests through.
type throttlingIdentity struct {
	gone, throttled int

	mu                    sync.Mutex
	statuses              []int
	inFlight, maxInFlight int
}

func (ti *throttlingIdentity) start(t *testing.T, upstream string) string {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ti.mu.Lock()
		n := len(ti.statuses)
		ti.inFlight++
		ti.maxInFlight = max(ti.maxInFlight, ti.inFlight)
		status := http.StatusOK
		switch {
		case n < ti.gone:
			status = http.StatusGone
		case n < ti.gone+ti.throttled:
			status = http.StatusTooManyRequests
		}
		ti.statuses = append(ti.statuses, status)
		ti.mu.Unlock()
		defer func() {
			ti.mu.Lock()
			ti.inFlight--
			ti.mu.Unlock()
		}()
		switch status {
		case http.StatusGone:
			http.Error(w, `{"error":"unavailable","error_description":"the endpoint is being updated"}`, status)
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"too_many_requests","error_description":"20 requests per second"}`, status)
		default:
			r.URL.Path = u.Path
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/msi/token"
}

// TestAccAuthManagedIdentityThrottled: the managed-identity endpoint answers
// 410 twice and 429 (Retry-After: 1) twice before it hands out a token. An
// apply of 8 principals (4 connections opened in parallel) succeeds within
// the connect timeout, with exactly 5 requests to the endpoint (one token
// fetch and its 4 retries) and never two at once.
func TestAccAuthManagedIdentityThrottled(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	ti := &throttlingIdentity{gone: 2, throttled: 2}
	t.Setenv("IDENTITY_ENDPOINT", ti.start(t, e.TokenEndpoint()))
	var names []string
	var cfg strings.Builder
	for i := range 8 {
		o := acctest.NewObject(t, "user", "acc-throttle")
		names = append(names, o.Name)
		fmt.Fprintf(&cfg, "resource \"azurepg_principal\" \"p%d\" {\n  name = %q\n}\n", i, o.Name)
	}
	// connect_timeout 41: settings of their own, so a new token cache.
	config := acctest.ProviderBlock(admin, "connect_timeout = 41") + cfg.String()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, names...),
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				for _, n := range names {
					if !acctest.RoleExists(t, n) {
						return fmt.Errorf("role %q was not created", n)
					}
				}
				return nil
			},
		}},
	})
	ti.mu.Lock()
	defer ti.mu.Unlock()
	want := []int{410, 410, 429, 429, 200}
	if fmt.Sprint(ti.statuses) != fmt.Sprint(want) || ti.maxInFlight != 1 {
		t.Errorf("the endpoint answered %v (%d at most at once), want %v (1 at once)", ti.statuses, ti.maxInFlight, want)
	}
	t.Logf("identity endpoint: %d requests %v, at most %d at once", len(ti.statuses), ti.statuses, ti.maxInFlight)
}
