package pgaad

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

// Waiting out a failover or a restart. A high-availability failover takes
// 60 to 120 seconds and keeps the DNS name; planned maintenance restarts
// the server (Learn, concepts-high-availability). Meanwhile new connections
// are refused, reset or time out, or the server answers 57P03 (starting up)
// or 57P01 (shutting down). acquire then tries again, with a back-off and a
// log line per attempt, within Config.OutageTimeout (default
// DefaultOutageTimeout) from the first refusal.
//
// It waits only for a server this client has reached before, or one that
// says it is starting or stopping: a host that has never answered is far
// more likely a wrong host, port or firewall rule, which the error explains
// at once (connerr.go).

// DefaultOutageTimeout is how long a server that went away is waited for.
const DefaultOutageTimeout = 2 * time.Minute

// Waits between attempts: doubled from the first, with jitter, up to the last.
const (
	outageFirstWait = 500 * time.Millisecond
	outageMaxWait   = 8 * time.Second
)

// outageOf says whether a failure to connect looks like a server that is
// down for a while (and so worth waiting for), and why.
func outageOf(err error) (string, bool) {
	var ce *pgconn.ConnectError
	if err == nil || !errors.As(err, &ce) {
		return "", false
	}
	var credErr *entratoken.CredentialError
	if errors.As(err, &credErr) {
		return "", false // no token (fetched while dialling, client.go): not the server's doing
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P03":
			return "SQLSTATE 57P03 (the server is starting up)", true
		case "57P01", "57P02":
			return "SQLSTATE " + pgErr.Code + " (the server is shutting down)", true
		}
		return "", false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "", false // a name that does not resolve is a wrong host
	}
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr):
		return "the server did not accept the connection (" + opErr.Err.Error() + ")", true
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection while it was opened", true
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within the connect timeout", true
	}
	return "", false
}

// startingOrStopping: the server itself said it is starting or stopping.
func startingOrStopping(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "57P03" || pgErr.Code == "57P01" || pgErr.Code == "57P02")
}

// outageTimeout is the configured bound, or the default.
func (c *Client) outageTimeout() time.Duration {
	if c.cfg.OutageTimeout > 0 {
		return c.cfg.OutageTimeout
	}
	return DefaultOutageTimeout
}

// waitOutOutage tries to open a connection again while the failure err is
// an outage, within the bound; it returns the connection, or the last
// failure (wrapped in *serverUnreachable once the bound is over).
func (c *Client) waitOutOutage(ctx context.Context, pool *pgxpool.Pool, database, op string, err error) (*pgxpool.Conn, error) {
	why, ok := outageOf(err)
	if !ok || (!c.reached.Load() && !startingOrStopping(err)) {
		return nil, err
	}
	bound := c.outageTimeout()
	// One outage, one bound: every operation of the client waits until the
	// same moment, measured from the first refusal.
	c.outageSince.CompareAndSwap(0, time.Now().UnixNano())
	start := time.Unix(0, c.outageSince.Load())
	next := outageFirstWait
	for attempt := 1; ; attempt++ {
		left := bound - time.Since(start)
		if left <= 0 || ctx.Err() != nil {
			return nil, &serverUnreachable{err: err, bound: bound, waited: time.Since(start).Round(time.Second), attempts: attempt, stopped: ctx.Err()}
		}
		wait := min(next/2+rand.N(next/2+1), left)
		c.log(ctx, "pgaad: server unreachable, waiting for it (failover or restart?)", map[string]any{"op": op, "database": database,
			"host": c.cfg.Host, "reason": why, "attempt": attempt, "wait": wait.String(), "waited": time.Since(start).Round(time.Second).String(),
			"bound": bound.String(), "error": err.Error()})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			continue // reported above
		case <-t.C:
		}
		pool.Reset() // connections opened before the outage are dead too
		var pc *pgxpool.Conn
		if pc, err = poolAcquire(ctx, pool); err == nil {
			c.outageSince.Store(0)
			c.log(ctx, "pgaad: the server answers again", map[string]any{"op": op, "database": database, "host": c.cfg.Host,
				"waited": time.Since(start).Round(time.Millisecond).String()})
			return pc, nil
		}
		if why, ok = outageOf(err); !ok {
			return nil, err // something else now, e.g. a token refused: explained as it is
		}
		next = min(next*2, outageMaxWait)
	}
}

// serverUnreachable is an outage that lasted the whole bound. It wraps the
// last failure (a *pgconn.ConnectError), so it is classified as a failure
// to connect, and says how long the client waited.
type serverUnreachable struct {
	err      error
	bound    time.Duration
	waited   time.Duration
	attempts int
	stopped  error // the context's error when it ended the wait first
}

func (e *serverUnreachable) Error() string {
	if e.stopped != nil {
		return fmt.Sprintf("%s (the server was unreachable for %s, %d attempts, when the operation was cancelled)", e.err.Error(), e.waited, e.attempts)
	}
	return fmt.Sprintf("%s (the server was unreachable for the whole of the %s allowed for an outage, %d attempts)", e.err.Error(), e.bound, e.attempts)
}
func (e *serverUnreachable) Unwrap() error { return e.err }
