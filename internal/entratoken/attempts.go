package entratoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// A token endpoint that keeps failing is retried until the fetch's time-out
// (managedIdentityRetry). The error azidentity then returns is only
// "context deadline exceeded", which hides why: nothing listening, a 410
// during an update, 429s. attempts records each try's outcome, so that the
// error can name the last one.

type attemptsKey struct{}

// attempts is the record of one token fetch.
type attempts struct {
	mu   sync.Mutex
	n    int
	last string
}

func (a *attempts) add(resp *http.Response, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	switch {
	case err != nil:
		a.last = err.Error()
	case resp != nil:
		a.last = resp.Status
	}
}

// recordAttempts is a per-retry pipeline policy that tells the fetch's
// record (found in the request's context) what each try met.
type recordAttempts struct{}

func (recordAttempts) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if a, ok := req.Raw().Context().Value(attemptsKey{}).(*attempts); ok {
		a.add(resp, err)
	}
	return resp, err
}

// withAttempts returns a context that records the tries made under it.
func withAttempts(ctx context.Context) (context.Context, *attempts) {
	a := &attempts{}
	return context.WithValue(ctx, attemptsKey{}, a), a
}

// explainTimeout adds the last try's outcome to a fetch that ran out of
// time (fetchCtx ended by its deadline; azidentity's error keeps only the
// words "context deadline exceeded", not the error value).
func (a *attempts) explainTimeout(fetchCtx context.Context, err error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == 0 || !errors.Is(fetchCtx.Err(), context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w (no token within the connect timeout after %d tries to the token endpoint; the last: %s)", err, a.n, a.last)
}
