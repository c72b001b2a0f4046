package pgaad

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every statement runs through read or write: one place decides whether a
// failed attempt runs again, and one place decides what a lost COMMIT did.

// querier is a connection or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// maxRetries bounds how often an operation runs again: a server restarting
// or failing over can kill the new connection too, but a server that keeps
// killing them is an error to report.
const maxRetries = 3

// retryReason says why a failed attempt may run again, or "" when it may
// not. It looks at what happened, and at message text only where
// PostgreSQL gives no code of its own:
//   - pgx sent nothing to the server (pgconn.SafeToRetry);
//   - the server ended the transaction: 40001 serialization_failure,
//     40P01 deadlock_detected (it rolled back);
//   - a catalog race: XX000 "cache lookup failed for ...", which
//     PostgreSQL raises when a statement finds a catalog row whose object
//     a concurrent, committed transaction removed (seen once in CI on 18:
//     DROP SCHEMA during a destroy that dropped an extension's types in
//     the same database). The statement failed, its transaction rolled
//     back, and a new attempt sees the committed catalog. Other XX000
//     errors (Azure's pgaadauth refusals among them) are not retried;
//   - the connection died under the attempt: 57P01/57P02 (the server shut
//     it down) or a connection that pgx closed after an I/O failure. Inside
//     a transaction that did not reach COMMIT, the server rolled back.
//
// A failure to open a connection is never retried at once (it would fail
// the same way), nor is anything after the context ended.
func retryReason(ctx context.Context, err error, conn *pgx.Conn) string {
	return retryReasonClosed(ctx, err, conn != nil && conn.IsClosed())
}

// retryReasonClosed is retryReason knowing whether the connection was
// closed.
func retryReasonClosed(ctx context.Context, err error, closed bool) string {
	if err == nil || ctx.Err() != nil {
		return ""
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return ""
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", "57P01", "57P02":
			return "SQLSTATE " + pgErr.Code
		case "XX000":
			if strings.HasPrefix(pgErr.Message, "cache lookup failed for ") {
				return "catalog changed under the statement (SQLSTATE XX000)"
			}
		}
	}
	switch {
	case pgconn.SafeToRetry(err):
		return "nothing was sent"
	case closed:
		return "connection lost"
	}
	return ""
}

// read runs fn on one connection of the database's pool, and again on
// another when retryReason allows (reads are safe to repeat).
func read[T any](ctx context.Context, c *Client, database, op string, fn func(q querier) (T, error)) (T, error) {
	var zero T
	pool, err := c.Pool(ctx, database)
	if err != nil {
		return zero, err
	}
	for attempt := 0; ; attempt++ {
		v, closed, err := onConn(ctx, c, pool, database, op, func(conn *pgx.Conn) (T, error) { return fn(conn) })
		why := retryReasonClosed(ctx, err, closed)
		if why == "" || attempt == maxRetries {
			return v, err
		}
		c.retrying(ctx, pool, database, op, why, attempt+1, err)
	}
}

// write runs fn in one transaction, and again when retryReason allows: an
// attempt that failed before COMMIT was rolled back. When the connection
// died during COMMIT the outcome is unknown; confirm then looks on a new
// connection whether the effect is there (applied: done; not: it rolled
// back and runs again; an error: reported). A nil confirm says that fn is
// idempotent, so running it again is safe whatever COMMIT did.
func write[T any](ctx context.Context, c *Client, database, op string,
	fn func(tx pgx.Tx) (T, error), confirm func(ctx context.Context) (T, bool, error)) (T, error) {
	return writeAttempts(ctx, c, database, op, func(conn *pgx.Conn, committing *bool) (T, error) {
		var zero T
		tx, err := conn.Begin(ctx)
		if err != nil {
			return zero, err
		}
		defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit
		v, err := fn(tx)
		if err != nil {
			return zero, err
		}
		*committing = true
		return v, tx.Commit(ctx)
	}, confirm)
}

// writeOne is write for statements sent in one round trip: fn sends them on
// the connection outside any explicit transaction, as one statement or one
// pgx.Batch, which the server runs as one implicit transaction (one Sync:
// all or nothing). Once fn has sent anything, a lost connection leaves the
// outcome unknown, as a lost COMMIT does: confirm decides, or, when nil,
// fn runs again (it is idempotent).
func writeOne[T any](ctx context.Context, c *Client, database, op string,
	fn func(conn *pgx.Conn) (T, error), confirm func(ctx context.Context) (T, bool, error)) (T, error) {
	return writeAttempts(ctx, c, database, op, func(conn *pgx.Conn, committing *bool) (T, error) {
		*committing = true // pgconn.SafeToRetry tells apart what was never sent
		return fn(conn)
	}, confirm)
}

// writeSegment is writeOne for a write whose statements fit in one
// pipeline segment (combine.go): build makes them on the connection that
// sends them, without BEGIN or SAVEPOINT (the server runs them as one
// implicit transaction, all or nothing), and result makes the write's
// value from how many succeeded and the first error. When no connection to
// the database is free, it joins the pipeline of one in flight instead of
// waiting for it; segments sent together share round trips, each with its
// own transaction and its own error.
// A connection lost after sending leaves the outcome unknown: confirm
// decides, or, when nil, the write runs again (it is idempotent).
func writeSegment[T any](ctx context.Context, c *Client, database, op string,
	build func(conn *pgx.Conn) (steps []pipelineStep, result func(done int, err error) (T, error)),
	confirm func(ctx context.Context) (T, bool, error)) (T, error) {
	return writeRuns(ctx, c, database, op, func(pool *pgxpool.Pool, committing *bool) (T, bool, error) {
		var result func(done int, err error) (T, error)
		done, sent, closed, err := c.sendSegment(ctx, pool, database, op, func(conn *pgx.Conn) []pipelineStep {
			var steps []pipelineStep
			steps, result = build(conn)
			return steps
		})
		*committing = sent // pgconn.SafeToRetry tells apart what was never sent
		if result == nil { // never built: no connection
			var zero T
			return zero, closed, err
		}
		v, err := result(done, err)
		return v, closed, err
	}, confirm)
}

// writeAttempts runs attempt until it succeeds or retryReason says stop;
// attempt sets committing once the outcome of a failure is unknown.
func writeAttempts[T any](ctx context.Context, c *Client, database, op string,
	attempt func(conn *pgx.Conn, committing *bool) (T, error), confirm func(ctx context.Context) (T, bool, error)) (T, error) {
	return writeRuns(ctx, c, database, op, func(pool *pgxpool.Pool, committing *bool) (T, bool, error) {
		return onConn(ctx, c, pool, database, op, func(conn *pgx.Conn) (T, error) { return attempt(conn, committing) })
	}, confirm)
}

// writeRuns runs run (one attempt on a connection of the pool, which says
// whether that connection was closed at the end) until it succeeds or
// retryReason says stop; run sets committing once the outcome of a
// failure is unknown.
func writeRuns[T any](ctx context.Context, c *Client, database, op string,
	run func(pool *pgxpool.Pool, committing *bool) (T, bool, error), confirm func(ctx context.Context) (T, bool, error)) (T, error) {
	var zero T
	pool, err := c.Pool(ctx, database)
	if err != nil {
		return zero, err
	}
	if err := c.refuseReplica(ctx, pool, database); err != nil {
		return zero, err
	}
	// Whatever the outcome, snapshots taken before this write are stale.
	defer c.wrote()
	for n := 0; ; n++ {
		committing := false
		v, closed, err := run(pool, &committing)
		why := retryReasonClosed(ctx, err, closed)
		if why == "" {
			return v, err
		}
		if committing && confirm != nil && !pgconn.SafeToRetry(err) {
			c.log(ctx, "pgaad: COMMIT got no answer, checking whether it applied", map[string]any{"op": op, "database": database, "error": err.Error()})
			got, applied, cerr := confirm(ctx)
			switch {
			case cerr != nil:
				return zero, &lostCommit{err: err, check: cerr}
			case applied:
				c.log(ctx, "pgaad: the lost COMMIT had applied", map[string]any{"op": op, "database": database})
				return got, nil
			}
			why = "COMMIT lost and not applied"
		}
		if n == maxRetries {
			return v, err
		}
		c.retrying(ctx, pool, database, op, why, n+1, err)
	}
}

// lostCommit is a COMMIT that got no answer and could not be checked.
type lostCommit struct{ err, check error }

func (e *lostCommit) Error() string {
	return e.err.Error() + " (while committing; checking the outcome afterwards failed too: " + e.check.Error() + ")"
}
func (e *lostCommit) Unwrap() error { return e.err }

// onConn runs fn on a connection acquired from the pool (waiting for a
// free slot on the server, see acquire) and says whether that connection
// was closed when fn returned (it died: retryReasonClosed), read before
// the connection goes back to the pool and to other goroutines.
func onConn[T any](ctx context.Context, c *Client, pool *pgxpool.Pool, database, op string, fn func(conn *pgx.Conn) (T, error)) (T, bool, error) {
	var zero T
	pc, err := c.acquire(ctx, pool, database, op)
	if err != nil {
		return zero, false, err
	}
	defer pc.Release()
	v, err := fn(pc.Conn())
	return v, pc.Conn().IsClosed(), err
}

// retrying logs the retry and drops the pool's other idle connections:
// what killed one (a restart, a failover) usually killed them all, and the
// pool pings only connections idle for more than a second.
func (c *Client) retrying(ctx context.Context, pool *pgxpool.Pool, database, op, why string, attempt int, err error) {
	c.log(ctx, "pgaad: retrying", map[string]any{"op": op, "database": database, "reason": why, "attempt": attempt, "error": err.Error()})
	pool.Reset()
	suspectPool(pool)
}

// suspects holds, for each pool, until when (Unix ns) every connection it
// hands out is pinged first (read by the pool's ShouldPing).
var suspects sync.Map // *pgxpool.Pool → *atomic.Int64

// suspectPool makes the pool ping every connection it hands out for the
// next two seconds. Reset drops only the idle connections: those that other
// goroutines hold died too and come back to the pool, and the pool pings
// only connections idle for more than a second, so without this a retry
// could be handed one of them.
func suspectPool(pool *pgxpool.Pool) {
	if v, ok := suspects.Load(pool); ok {
		v.(*atomic.Int64).Store(time.Now().Add(2 * time.Second).UnixNano())
	}
}

// writable caches, per pool, that its server is not a read replica: one
// pg_is_in_recovery() per pool and process, before the first write.
var writable sync.Map // *pgxpool.Pool → struct{}

// refuseReplica refuses a read replica before anything is written: Entra
// principals (and everything else the provider writes) are managed on the
// primary and replicated. The answer is cached per pool; a failure to ask
// is returned as it is (a connection failure is explained by classify).
//
// It costs no round trip of its own: from PostgreSQL 14 on, the server
// says at log-in whether it is in hot standby (the in_hot_standby
// parameter, reported again whenever it changes, e.g. on promotion), and
// the connection it opens for that is the one the write then takes from
// the pool. An older server (or one that does not report it) is asked
// pg_is_in_recovery(), as before.
func (c *Client) refuseReplica(ctx context.Context, pool *pgxpool.Pool, database string) error {
	if _, ok := writable.Load(pool); ok {
		return nil
	}
	inRecovery, err := read(ctx, c, database, "checking for a read replica", func(q querier) (bool, error) {
		if conn, ok := q.(*pgx.Conn); ok {
			switch conn.PgConn().ParameterStatus("in_hot_standby") {
			case "on":
				return true, nil
			case "off":
				return false, nil
			}
		}
		var r bool
		return r, q.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&r)
	})
	if err != nil {
		return err
	}
	if inRecovery {
		c.log(ctx, "pgaad: the server is a read replica", map[string]any{"database": database, "host": c.cfg.Host})
		return &reason{what: "the server is a read replica (pg_is_in_recovery() is true): nothing was changed", err: ErrReadReplica}
	}
	writable.Store(pool, struct{}{})
	return nil
}

// batchSteps reads a pipeline's results, one step per queued statement, and
// closes it; the first error stops the steps (Close reads the rest).
func batchSteps(br pgx.BatchResults, steps ...func(pgx.BatchResults) error) error {
	var err error
	for _, step := range steps {
		if err = step(br); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// rollbackOpen ends a transaction that a failed attempt left open on conn,
// before the connection goes back to the pool.
func rollbackOpen(ctx context.Context, conn *pgx.Conn) {
	if conn.PgConn().TxStatus() != 'I' && !conn.IsClosed() {
		_, _ = conn.Exec(ctx, "rollback")
	}
}

// pipelineStep is one statement of a pipeline that sendPipeline sends:
// its SQL, its arguments (bound, never in the text), and, for a query, row
// to read its one row.
type pipelineStep struct {
	sql  string
	args []any
	row  func(pgx.Row) error
}

// sendPipeline sends steps as one pipeline: one round trip, whatever the
// statements. Each goes by the extended protocol as the unnamed statement,
// its arguments encoded as pgx's QueryExecModeExec encodes them (text, the
// types from the SQL's casts), its rows in binary as pgx reads them, so
// that a write's statements, which name objects and run once, are not
// prepared first (pgx.Batch would: another round trip) nor kept in pgx's
// statement cache (where they would push out the statements that repeat).
// One Sync ends the pipeline: without a BEGIN among the steps, the server
// runs them as one implicit transaction.
//
// The server runs the steps in order and, after the first that fails,
// skips the rest up to the Sync: a COMMIT among them does not run, and an
// explicit transaction stays open, aborted, for the caller to explain the
// failure (a savepoint still works) before rolling back. It returns how
// many steps succeeded (the index of the failed one) and the first error.
// An error of row (in Go) stops the reading but not the server, which
// runs what follows, a COMMIT included.
func sendPipeline(ctx context.Context, conn *pgx.Conn, steps []pipelineStep) (int, error) {
	b := &pgconn.Batch{}
	var eqb pgx.ExtendedQueryBuilder
	for i, s := range steps {
		if err := eqb.Build(conn.TypeMap(), nil, s.args); err != nil {
			return i, err
		}
		var results []int16
		if s.row != nil {
			results = []int16{pgx.BinaryFormatCode} // every column
		}
		b.ExecParams(s.sql, eqb.ParamValues, nil, eqb.ParamFormats, results)
	}
	mrr := conn.PgConn().ExecBatch(ctx, b)
	done := 0
	var stepErr error
	for done < len(steps) && mrr.NextResult() {
		rr := mrr.ResultReader()
		if read := steps[done].row; read != nil {
			stepErr = read(firstRow{pgx.RowsFromResultReader(conn.TypeMap(), rr)})
		} else {
			_, stepErr = rr.Close()
		}
		if stepErr != nil {
			break
		}
		done++
	}
	if err := mrr.Close(); stepErr == nil {
		stepErr = err
	}
	if stepErr == nil && done < len(steps) {
		stepErr = fmt.Errorf("pgaad: the server answered %d of %d statements", done, len(steps))
	}
	return done, stepErr
}

// firstRow is a query's rows read as QueryRow reads them: its first row,
// or pgx.ErrNoRows.
type firstRow struct{ rows pgx.Rows }

func (r firstRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
