package acctest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// IdentityThrottle is a managed-identity endpoint (App Service protocol,
// for IDENTITY_ENDPOINT) on 127.0.0.1 in front of the emulator's: it passes
// requests through, except that after Throttle(n) it answers the next n
// requests 429 with Retry-After: 1, as Azure's endpoint does beyond 20
// requests a second. The counts let a test wait until the throttling has
// really been met, and answered, before it judges.
type IdentityThrottle struct {
	URL string // the IDENTITY_ENDPOINT to use

	mu        sync.Mutex
	pending   int // 429s still to answer
	requests  int
	throttled int
	// passedAfter counts requests passed through since the last 429.
	passedAfter int
}

// ThrottleCounts is what the endpoint answered so far.
type ThrottleCounts struct {
	Requests  int // every request
	Throttled int // answered 429
	// PassedSinceThrottle: requests passed to the emulator since the last
	// 429 (0 while a throttling has not been followed by a token yet).
	PassedSinceThrottle int
	Pending             int // 429s armed and not yet answered
}

// StartIdentityThrottle fronts upstream (the emulator's TokenEndpoint); it
// stops with the test.
func StartIdentityThrottle(t testing.TB, upstream string) *IdentityThrottle {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	it := &IdentityThrottle{}
	pass := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		it.mu.Lock()
		it.requests++
		throttle := it.pending > 0
		if throttle {
			it.pending--
			it.throttled++
			it.passedAfter = 0
		} else {
			it.passedAfter++
		}
		it.mu.Unlock()
		if throttle {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":"too_many_requests","error_description":"more than 20 requests per second"}`))
			return
		}
		r.URL.Path = u.Path
		pass.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	it.URL = srv.URL + u.Path
	return it
}

// Throttle arms n answers of 429 for the next requests.
func (it *IdentityThrottle) Throttle(n int) {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.pending += n
}

// Counts returns the counts so far.
func (it *IdentityThrottle) Counts() ThrottleCounts {
	it.mu.Lock()
	defer it.mu.Unlock()
	return ThrottleCounts{Requests: it.requests, Throttled: it.throttled, PassedSinceThrottle: it.passedAfter, Pending: it.pending}
}
