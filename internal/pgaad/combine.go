package pgaad

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Writes that arrive together leave together.
//
// Terraform runs up to 10 operations at once and max_connections (4 by
// default) lets only some of them have a connection: the others wait, and
// each then costs its own round trip. A write whose statements fit in one
// pipeline segment (sendSegment) waits in its pool's queue instead; the
// first writer that gets a connection takes every segment queued for that
// pool and sends them all in one pipeline, one Sync after each, and hands
// each writer its own outcome.
//
// One Sync per segment is what keeps each write apart (checked on
// PostgreSQL 15 and 17): without a BEGIN among its statements, the server
// runs a segment as one implicit transaction that commits at its Sync; a
// failing statement rolls back that segment alone and skips its remaining
// statements, and the next segment runs as if nothing had happened. SET
// LOCAL, set_config(..., true) and advisory transaction locks end at the
// Sync as they would at COMMIT. SAVEPOINT is refused there (25P01), and an
// explicit transaction that fails stays aborted past its Sync, which would
// fail every later segment (25P02): so segments never hold BEGIN or
// SAVEPOINT; writes that need them go alone (write, writeOne).
//
// No timer: a lone write, or one that finds a free connection, acquires it
// at once and sends its own segment (with whatever else is queued by then).
// Only writes that would have waited for a connection anyway wait in the
// queue, and the first connection that frees up carries them.

// maxSegments bounds the segments one pipeline carries, so that one
// connection's pipeline does not grow without end under many writers.
const maxSegments = 32

// segment is one write's attempt in a shared pipeline.
type segment struct {
	// build makes the statements on the connection that sends them (a
	// statement may depend on the server's version).
	build func(conn *pgx.Conn) []pipelineStep
	// cancel stops the writer's own wait for a connection once another
	// writer has taken the segment.
	cancel context.CancelFunc
	// The outcome, set before finished is closed: how many steps
	// succeeded, the first error, and whether the connection that carried
	// it was closed then (retryReason; the connection itself goes back to
	// the pool and to other writers).
	done     int
	err      error
	closed   bool
	finished chan struct{}
}

// combiner holds, per pool, the segments waiting for a connection.
type combiner struct {
	mu     sync.Mutex
	queues map[*pgxpool.Pool][]*segment
}

func (cb *combiner) enqueue(pool *pgxpool.Pool, s *segment) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.queues == nil {
		cb.queues = map[*pgxpool.Pool][]*segment{}
	}
	cb.queues[pool] = append(cb.queues[pool], s)
}

// take removes own from the queue of pool and, when own was still there,
// returns it first with up to maxSegments-1 of the others, whose own waits
// it ends. nil: another writer took own already.
func (cb *combiner) take(pool *pgxpool.Pool, own *segment) []*segment {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	q := cb.queues[pool]
	i := indexOf(q, own)
	if i < 0 {
		return nil
	}
	q = append(q[:i:i], q[i+1:]...)
	n := min(len(q), maxSegments-1)
	out := append([]*segment{own}, q[:n]...)
	if rest := q[n:]; len(rest) > 0 {
		cb.queues[pool] = rest
	} else {
		delete(cb.queues, pool)
	}
	for _, s := range out[1:] {
		s.cancel()
	}
	return out
}

// drop removes own from the queue (its writer could not get a
// connection); false when another writer took it already.
func (cb *combiner) drop(pool *pgxpool.Pool, own *segment) bool {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	q := cb.queues[pool]
	i := indexOf(q, own)
	if i < 0 {
		return false
	}
	if q = append(q[:i:i], q[i+1:]...); len(q) > 0 {
		cb.queues[pool] = q
	} else {
		delete(cb.queues, pool)
	}
	return true
}

func indexOf(q []*segment, s *segment) int {
	for i, x := range q {
		if x == s {
			return i
		}
	}
	return -1
}

// sendSegment runs build's statements as one segment of a pipeline on a
// connection of pool, alone or with other writers' segments (see above),
// and returns how many succeeded, whether it was sent (a connection was
// had), whether that connection was closed at the end, and the first error.
func (c *Client) sendSegment(ctx context.Context, pool *pgxpool.Pool, database, op string,
	build func(conn *pgx.Conn) []pipelineStep) (done int, sent, closed bool, err error) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	own := &segment{build: build, cancel: cancel, finished: make(chan struct{})}
	c.comb.enqueue(pool, own)
	c.log(ctx, "pgaad: a write is queued for a connection", map[string]any{"op": op, "database": database})
	pc, err := c.acquire(actx, pool, database, op)
	if err != nil {
		if c.comb.drop(pool, own) {
			return 0, false, false, err
		}
		<-own.finished // another writer carries it
		return own.done, true, own.closed, own.err
	}
	segs := c.comb.take(pool, own)
	if segs == nil {
		pc.Release()
		<-own.finished
		return own.done, true, own.closed, own.err
	}
	if len(segs) > 1 {
		c.log(ctx, "pgaad: writes share a round trip", map[string]any{"op": op, "database": database, "writes": len(segs)})
	}
	runSegments(ctx, pc.Conn(), segs)
	pc.Release()
	return own.done, true, own.closed, own.err
}

// runSegments sends segs as one pipeline, one Sync after each, and sets
// each one's outcome. A segment is answered once its Sync is: when the
// connection fails before that, its outcome is unknown (the error, with
// the connection closed, says so to retryReason), as a lost COMMIT's is.
func runSegments(ctx context.Context, conn *pgx.Conn, segs []*segment) {
	type encoded struct {
		sql             string
		values          [][]byte
		formats, result []int16
	}
	steps := make([][]pipelineStep, len(segs))
	enc := make([][]encoded, len(segs))
	sending := segs[:0:0]
	for i, s := range segs {
		steps[i] = s.build(conn)
		var err error
		for _, st := range steps[i] {
			var eqb pgx.ExtendedQueryBuilder // its buffers are reused by Build: one per statement
			if err = eqb.Build(conn.TypeMap(), nil, st.args); err != nil {
				break
			}
			var result []int16
			if st.row != nil {
				result = []int16{pgx.BinaryFormatCode} // every column
			}
			enc[i] = append(enc[i], encoded{st.sql, eqb.ParamValues, eqb.ParamFormats, result})
		}
		if err != nil { // an argument pgx cannot encode: nothing of it is sent
			s.done, s.err = 0, err
			close(s.finished)
			continue
		}
		sending = append(sending, s)
	}
	p := conn.PgConn().StartPipeline(ctx)
	for i, s := range segs {
		if indexOf(sending, s) < 0 {
			continue
		}
		for _, e := range enc[i] {
			p.SendQueryParams(e.sql, e.values, nil, e.formats, e.result)
		}
		p.SendPipelineSync()
	}
	err := p.Flush()
	if err != nil && !conn.PgConn().IsClosed() {
		// Nothing was sent (the context ended before the pipeline began):
		// every writer may run again.
		err = &notSent{err: err}
	}
	for i, s := range segs {
		if indexOf(sending, s) < 0 {
			continue
		}
		done, stepErr := 0, err
		if err == nil {
			done, stepErr, err = readSegment(p, conn, steps[i])
		}
		s.done, s.err, s.closed = done, stepErr, conn.PgConn().IsClosed()
		close(s.finished)
	}
	_ = p.Close()
}

// readSegment reads one segment's results up to its Sync: how many steps
// succeeded and the segment's first error (the server skipped the rest
// and rolled the segment back), or, as lost too, an error that ended the
// connection (the outcome of this segment and those after is unknown).
func readSegment(p *pgconn.Pipeline, conn *pgx.Conn, steps []pipelineStep) (done int, stepErr, lost error) {
	for {
		r, err := p.GetResults()
		if err != nil {
			if conn.PgConn().IsClosed() {
				return done, err, err
			}
			if stepErr == nil {
				stepErr = err
			}
			continue
		}
		switch r := r.(type) {
		case *pgconn.ResultReader:
			if stepErr != nil || done >= len(steps) {
				// After a failure in Go the server goes on: read and drop.
				_, err = r.Close()
			} else if read := steps[done].row; read != nil {
				err = read(firstRow{pgx.RowsFromResultReader(conn.TypeMap(), r)})
			} else {
				_, err = r.Close()
			}
			switch {
			case conn.PgConn().IsClosed():
				if err == nil {
					err = errors.New("pgaad: the connection closed")
				}
				return done, err, err
			case err != nil && stepErr == nil:
				stepErr = err
			case err == nil && stepErr == nil:
				done++
			}
		case *pgconn.PipelineSync:
			if stepErr == nil && done < len(steps) {
				stepErr = fmt.Errorf("pgaad: the server answered %d of %d statements", done, len(steps))
			}
			return done, stepErr, nil
		default:
			err := fmt.Errorf("pgaad: unexpected pipeline result %T", r)
			return done, err, err
		}
	}
}

// notSent is a pipeline that never reached the server.
type notSent struct{ err error }

func (e *notSent) Error() string     { return e.err.Error() }
func (e *notSent) Unwrap() error     { return e.err }
func (e *notSent) SafeToRetry() bool { return true }
