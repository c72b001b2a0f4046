package pgaad

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// connLost reports whether err says that the connection died under the
// statement (pg_terminate_backend, a restart or failover of the server, a
// dropped network): the statement may be tried again on a new connection.
// A failure to open a connection is not one: trying again at once would
// fail the same way.
func connLost(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now; class 08: connection exception.
		return strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "08")
	}
	var netErr net.Error
	return pgconn.SafeToRetry(err) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr)
}

// maxConnLostRetries bounds how often an operation whose connection died is
// run again: a server restarting or failing over can kill the new
// connection too, but a server that keeps killing them is an error to report.
const maxConnLostRetries = 3

// retryOnConnLost runs an operation that may safely run again (a read, or a
// write that is undone or harmless when repeated) and, when its connection
// died under it, runs it again, at most maxConnLostRetries times. The pool's
// other idle connections are dropped first: what killed one (a restart, a
// failover) usually killed them all, and the pool pings only connections
// idle for more than a second.
func retryOnConnLost[T any](ctx context.Context, pool *pgxpool.Pool, op func() (T, error)) (T, error) {
	v, err := op()
	for range maxConnLostRetries {
		if err == nil || ctx.Err() != nil || !connLost(err) {
			break
		}
		pool.Reset()
		suspectPool(pool)
		v, err = op()
	}
	return v, err
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
