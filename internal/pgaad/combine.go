package pgaad

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Writes that arrive together leave together.
//
// Terraform runs up to 10 operations at once and max_connections (4 by
// default) lets only some of them have a connection: the others would
// wait, and each then cost its own round trip after the one before. A
// write whose statements fit in one pipeline segment (sendSegment) does
// not wait for a connection of its own. When a connection of its pool is
// free (or can be opened), it takes it, with every segment queued by then,
// and that connection becomes a carrier (carrier.go): it sends them as one
// pipeline, one Sync after each, and hands each writer its own outcome as
// the server answers. When none is free, the write joins a carrier in
// flight: its segment is sent on that connection at once, behind the
// others, and is answered one round trip later whatever the carrier
// still waits for. Only when no carrier accepts it (see maxSegments) does
// it wait in the queue, for the next connection that frees up.
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
// No timer: a lone write, or one that finds a free connection, sends at
// once. A write that joins a carrier is sent at once too; it waits only
// for the server to reach it, behind the segments sent before it.

// maxSegments bounds the segments one carrier takes in all: after that it
// accepts no more, finishes what it carries and gives its connection back
// to the pool, so that writes that need a connection of their own (an
// explicit transaction) get one while many segment writes go on.
const maxSegments = 32

// segment is one write's attempt in a shared pipeline.
type segment struct {
	// build makes the statements on the connection that sends them (a
	// statement may depend on the server's version).
	build func(conn *pgx.Conn) []pipelineStep
	// cancel stops the writer's own wait for a connection once a carrier
	// has taken the segment.
	cancel context.CancelFunc
	// Set when it is sent: its statements and the carrier it went on.
	steps   []pipelineStep
	carrier *carrier
	// The outcome, set before finished is closed: how many steps
	// succeeded, the first error, and whether the connection that carried
	// it was closed then (retryReason; otherwise the connection goes back
	// to the pool and to other writers).
	done     int
	err      error
	closed   bool
	finished chan struct{}
}

// finish sets the segment's outcome and wakes its writer.
func (s *segment) finish(done int, err error, closed bool) {
	s.done, s.err, s.closed = done, err, closed
	close(s.finished)
}

// wait waits for the outcome of a segment that a carrier took. When ctx
// ends first, the carrier's connection is closed (the outcome of what it
// carries is then unknown, to every writer, as a lost COMMIT's is): a
// statement the server is stuck in does not outlive the operation.
func (s *segment) wait(ctx context.Context) (done int, sent, closed bool, err error) {
	select {
	case <-s.finished:
	case <-ctx.Done():
		select {
		case <-s.finished: // answered meanwhile
		default:
			s.carrier.abandon()
			<-s.finished
			if s.err != nil && s.closed {
				return s.done, true, true, fmt.Errorf("%w (the write's outcome is unknown: %w)", ctx.Err(), s.err)
			}
		}
	}
	return s.done, true, s.closed, s.err
}

// combiner holds, per pool, the segments waiting for a connection and the
// carriers in flight (those that accept more segments, and those that
// finish what they took).
type combiner struct {
	mu       sync.Mutex
	queues   map[*pgxpool.Pool][]*segment
	carriers map[*pgxpool.Pool][]*carrier
}

// join sends s on the carrier of pool that has the fewest segments in
// flight, when one accepts more; otherwise it queues s. It says whether s
// was sent.
func (cb *combiner) join(pool *pgxpool.Pool, s *segment, onlyQueue bool) bool {
	write := cb.joinOrQueue(pool, s, onlyQueue)
	if write == nil {
		return false
	}
	write()
	return true
}

// joinOrQueue is join under cb.mu: the write of a segment put in flight,
// or nil when it queued s.
func (cb *combiner) joinOrQueue(pool *pgxpool.Pool, s *segment, onlyQueue bool) func() {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	var best *carrier
	if !onlyQueue {
		for _, cr := range cb.carriers[pool] {
			if cr.accepting && (best == nil || len(cr.inflight) < len(best.inflight)) {
				best = cr
			}
		}
	}
	if best == nil {
		if cb.queues == nil {
			cb.queues = map[*pgxpool.Pool][]*segment{}
		}
		cb.queues[pool] = append(cb.queues[pool], s)
		return nil
	}
	return best.writeInTurn(best.add(s))
}

// remove forgets cr, which gave its connection back (cb.mu held).
func (cb *combiner) remove(cr *carrier) {
	cr.accepting = false
	list := cb.carriers[cr.pool]
	if i := slices.Index(list, cr); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) > 0 {
		cb.carriers[cr.pool] = list
	} else {
		delete(cb.carriers, cr.pool)
	}
}

// carry makes pc a carrier of pool (carrier.go) for own and up to
// maxSegments-1 of the segments queued with it, whose writers' own waits
// for a connection it ends, and sends them in one write. It returns how
// many it took: 0 when a carrier took own already (pc is then the
// caller's to release).
func (cb *combiner) carry(pool *pgxpool.Pool, pc *pgxpool.Conn, own *segment) int {
	cr, write, n := cb.takeQueue(pool, pc, own)
	if cr == nil {
		return 0
	}
	go cr.read(cb)
	write()
	return n
}

// takeQueue is carry under cb.mu: the new carrier, the write of what it
// took, and how many segments that is.
func (cb *combiner) takeQueue(pool *pgxpool.Pool, pc *pgxpool.Conn, own *segment) (*carrier, func(), int) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	q := cb.queues[pool]
	i := indexOf(q, own)
	if i < 0 {
		return nil, nil, 0
	}
	q = append(q[:i:i], q[i+1:]...)
	n := min(len(q), maxSegments-1)
	segs := append([]*segment{own}, q[:n]...)
	if rest := q[n:]; len(rest) > 0 {
		cb.queues[pool] = rest
	} else {
		delete(cb.queues, pool)
	}
	cr := newCarrier(pool, pc)
	if cb.carriers == nil {
		cb.carriers = map[*pgxpool.Pool][]*carrier{}
	}
	cb.carriers[pool] = append(cb.carriers[pool], cr)
	var msgs []byte
	for _, s := range segs {
		s.cancel()
		msgs = append(msgs, cr.add(s)...)
	}
	return cr, cr.writeInTurn(msgs), len(segs)
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
	if c.comb.join(pool, own, !c.wouldWait(pool)) {
		c.log(ctx, "pgaad: a write joins a pipeline in flight", map[string]any{"op": op, "database": database})
		return own.wait(ctx)
	}
	c.log(ctx, "pgaad: a write is queued for a connection", map[string]any{"op": op, "database": database})
	pc, err := c.acquire(actx, pool, database, op)
	if err != nil {
		if c.comb.drop(pool, own) {
			return 0, false, false, err
		}
		return own.wait(ctx) // a carrier took it
	}
	if err := pc.Conn().PgConn().SyncConn(ctx); err != nil { // normally nothing to do
		closed := pc.Conn().IsClosed()
		pc.Release()
		if c.comb.drop(pool, own) {
			return 0, false, closed, &notSent{err: err}
		}
		return own.wait(ctx)
	}
	n := c.comb.carry(pool, pc, own)
	if n == 0 {
		pc.Release()
	} else if n > 1 {
		c.log(ctx, "pgaad: writes share a round trip", map[string]any{"op": op, "database": database, "writes": n})
	}
	return own.wait(ctx)
}

// wouldWait says whether a write on pool would wait for a connection: none
// is idle, and no other can be opened (the pool is full, or the server's
// max_connections across databases is reached).
func (c *Client) wouldWait(pool *pgxpool.Pool) bool {
	st := pool.Stat()
	return st.IdleConns() == 0 && (st.TotalConns() >= st.MaxConns() || c.limit.full())
}

// notSent is a segment that never reached the server.
type notSent struct{ err error }

func (e *notSent) Error() string     { return e.err.Error() }
func (e *notSent) Unwrap() error     { return e.err }
func (e *notSent) SafeToRetry() bool { return true }
