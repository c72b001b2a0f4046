package pgaad

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A server with no free connection slot refuses the log-in with SQLSTATE
// 53300 (too_many_connections): max_connections is reached (a Burstable
// B1ms allows 50, 35 of them for users), or the role's CONNECTION LIMIT.
// Slots free up as other clients (or this provider's other pools)
// disconnect, so acquire waits and tries again, for at most the provider's
// connect_timeout (the budget), and then says what to do.

// Back-off after a 53300: the first wait, doubled after each refusal up to
// the cap, each with jitter (half to all of it) so that parallel operations
// do not retry in step.
const (
	slotsFirstWait = 200 * time.Millisecond
	slotsMaxWait   = 3 * time.Second
)

// defaultSlotsBudget applies when Config.ConnectTimeout is unset (the
// provider's connect_timeout defaults to 30 s).
const defaultSlotsBudget = 30 * time.Second

// noFreeSlot reports whether err is a log-in refused with 53300: decided by
// the SQLSTATE, never by the message text.
func noFreeSlot(err error) bool {
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	return errors.As(err, &connectErr) && errors.As(err, &pgErr) && pgErr.Code == "53300"
}

// acquire is pool.Acquire that, when the server refuses the new connection
// with 53300, backs off exponentially (with jitter) and tries again, within
// the connect_timeout budget; each wait is logged. Past the budget it
// returns a *slotsExhausted (explain turns it into the error the user sees).
// Any other failure returns at once, as before.
func (c *Client) acquire(ctx context.Context, pool *pgxpool.Pool, database, op string) (*pgxpool.Conn, error) {
	pc, err := poolAcquire(ctx, pool)
	if err == nil {
		c.reached.Store(true)
		c.outageSince.Store(0)
		return pc, nil
	}
	if !noFreeSlot(err) {
		return c.waitOutOutage(ctx, pool, database, op, err)
	}
	budget := c.cfg.ConnectTimeout
	if budget <= 0 {
		budget = defaultSlotsBudget
	}
	start := time.Now()
	next := slotsFirstWait
	attempts := 1
	for {
		left := budget - time.Since(start)
		if left <= 0 || ctx.Err() != nil {
			return nil, &slotsExhausted{err: err, waited: time.Since(start).Round(time.Millisecond), attempts: attempts, budget: budget, stopped: ctx.Err()}
		}
		wait := min(next/2+rand.N(next/2+1), left)
		c.log(ctx, "pgaad: retrying", map[string]any{"op": op, "database": database,
			"reason": "SQLSTATE 53300 (no free connection slot on the server)", "attempt": attempts,
			"wait": wait.String(), "budget": budget.String(), "error": err.Error()})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			continue // reported above, with the last refusal
		case <-t.C:
		}
		pc, err = poolAcquire(ctx, pool)
		attempts++
		if err == nil || !noFreeSlot(err) {
			return pc, err
		}
		next = min(next*2, slotsMaxWait)
	}
}

// poolAcquire is pool.Acquire, again at once when the new connection was
// given up because it waited too long for its token (client.go): the token
// is at hand now. Every Acquire of the client goes through it.
func poolAcquire(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Conn, error) {
	pc, err := pool.Acquire(ctx)
	if errors.Is(err, errTokenOutwaited) {
		pc, err = pool.Acquire(ctx)
	}
	return pc, err
}

// slotsExhausted is a 53300 that lasted past the budget. It wraps the last
// refusal (a *pgconn.ConnectError), so it is classified as a failure to
// connect.
type slotsExhausted struct {
	err      error
	waited   time.Duration
	attempts int
	budget   time.Duration
	stopped  error // the context's error when it ended the wait before the budget
}

func (e *slotsExhausted) Error() string {
	return fmt.Sprintf("%s (still refused after %d attempts over %s)", e.err.Error(), e.attempts, e.waited)
}
func (e *slotsExhausted) Unwrap() error { return e.err }

// slotsAdvice is what to do when the server has no free connection slot.
// The provider says the same in its terms (TopicNoSlots).
const slotsAdvice = "Other clients, or this client's parallel operations, use all the connections the server or the role allows. " +
	"Open fewer connections at once, close other clients of the server (pg_stat_activity lists them), " +
	"or raise the limit: the role's CONNECTION LIMIT, or the server's max_connections, which depends on its SKU " +
	"(Burstable B1ms allows 50 connections, 35 for users, as Azure keeps 15; B2s 429, 414 for users): a larger SKU allows more. " +
	"A larger connect timeout waits longer for a slot."
