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
// requests through, except that it answers the next requests as armed by
// Refuse: 410 (the endpoint being updated) or 429 with Retry-After: 1, as
// Azure's endpoint does beyond 20 requests a second. The counts let a test
// wait until the refusals have really been met, and answered, before it
// judges.
type IdentityThrottle struct {
	URL string // the IDENTITY_ENDPOINT to use

	mu       sync.Mutex
	pending  []int // statuses still to answer, in order
	statuses []int // every answer so far
	refused  int
	// passedAfter counts requests passed through since the last refusal.
	passedAfter           int
	inFlight, maxInFlight int
}

// ThrottleCounts is what the endpoint answered so far.
type ThrottleCounts struct {
	Requests int // every request
	Refused  int // answered 410 or 429
	// PassedSinceRefusal: requests passed to the emulator since the last
	// refusal (0 while a refusal has not been followed by a token yet).
	PassedSinceRefusal int
	Pending            int // refusals armed and not yet answered
	// Statuses are the answers in order (200 for each passed through).
	Statuses []int
	// MaxInFlight is the most requests the endpoint held at once.
	MaxInFlight int
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
		status := it.arrive()
		defer it.leave()
		switch status {
		case http.StatusGone:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"unavailable","error_description":"the endpoint is being updated"}`))
		case http.StatusTooManyRequests:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"too_many_requests","error_description":"more than 20 requests per second"}`))
		default:
			r.URL.Path = u.Path
			pass.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	it.URL = srv.URL + u.Path
	return it
}

// arrive counts a request and says how to answer it.
func (it *IdentityThrottle) arrive() int {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.inFlight++
	it.maxInFlight = max(it.maxInFlight, it.inFlight)
	status := http.StatusOK
	if len(it.pending) > 0 {
		status, it.pending = it.pending[0], it.pending[1:]
		it.refused++
		it.passedAfter = 0
	} else {
		it.passedAfter++
	}
	it.statuses = append(it.statuses, status)
	return status
}

func (it *IdentityThrottle) leave() {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.inFlight--
}

// Refuse arms n answers of status (http.StatusGone or
// http.StatusTooManyRequests) for the next requests, after those armed
// before.
func (it *IdentityThrottle) Refuse(status, n int) {
	it.mu.Lock()
	defer it.mu.Unlock()
	for range n {
		it.pending = append(it.pending, status)
	}
}

// Throttle arms n answers of 429 for the next requests.
func (it *IdentityThrottle) Throttle(n int) { it.Refuse(http.StatusTooManyRequests, n) }

// Counts returns the counts so far.
func (it *IdentityThrottle) Counts() ThrottleCounts {
	it.mu.Lock()
	defer it.mu.Unlock()
	return ThrottleCounts{Requests: len(it.statuses), Refused: it.refused, PassedSinceRefusal: it.passedAfter,
		Pending: len(it.pending), Statuses: append([]int(nil), it.statuses...), MaxInFlight: it.maxInFlight}
}
