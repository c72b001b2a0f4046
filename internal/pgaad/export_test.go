package pgaad

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// SetQuietAfterWrite shortens, for a test, the time after a write during
// which reads go one by one, so that snapshots are fetched while writes run.
func SetQuietAfterWrite(c *Client, d time.Duration) {
	c.snap.mu.Lock()
	c.snap.quiet = d
	c.snap.mu.Unlock()
}

// ReadGrantDirect reads a grant from the server, never from a snapshot.
func ReadGrantDirect(ctx context.Context, c *Client, t GrantTarget) (Grant, error) {
	return c.grantDirect(ctx, t)
}

// GrantFromSnapshot answers a grant read from the snapshot only; ok is
// false when ReadGrant would go to the server instead.
func GrantFromSnapshot(ctx context.Context, c *Client, t GrantTarget) (_ Grant, _ error, ok bool) {
	return c.grantFromSnapshot(ctx, t)
}

// SnapshotTTL is how long a snapshot answers reads, for tests that bound
// the fetches they may see by the time their reads took.
const SnapshotTTL = snapshotTTL

// MaxSegments is how many segments one carrier takes in all.
const MaxSegments = maxSegments

// PendingWrites is how many segment writes of database's pool are queued
// for a connection or sent on a carrier and not yet answered (combine.go).
func PendingWrites(ctx context.Context, c *Client, database string) int {
	pool, err := c.Pool(ctx, database)
	if err != nil {
		return -1
	}
	c.comb.mu.Lock()
	defer c.comb.mu.Unlock()
	n := len(c.comb.queues[pool])
	for _, cr := range c.comb.carriers[pool] {
		n += len(cr.inflight)
	}
	return n
}

// SegmentResult is what a segment write of raw statements got.
type SegmentResult struct {
	Done int
	Err  error
	// Rows holds the first column of each statement's first row, as text
	// ("" for a statement without rows).
	Rows []string
}

// SendSegment writes statements as one segment (sendSegment), as the
// writes of combine.go do, and reads the first column of each one's
// first row.
func SendSegment(ctx context.Context, c *Client, database string, statements ...string) SegmentResult {
	pool, err := c.Pool(ctx, database)
	if err != nil {
		return SegmentResult{Err: err}
	}
	rows := make([]string, len(statements))
	done, _, _, err := c.sendSegment(ctx, pool, database, "test segment", func(*pgx.Conn) []pipelineStep {
		var steps []pipelineStep
		for i, sql := range statements {
			steps = append(steps, pipelineStep{sql: sql, row: func(r pgx.Row) error {
				var v pgtype.Text
				err := r.Scan(&v)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				rows[i] = v.String
				return err
			}})
		}
		return steps
	})
	return SegmentResult{Done: done, Err: err, Rows: rows}
}

// QueryText runs sql through pgx on a connection of database's pool (not a
// carrier) and returns its one text value.
func QueryText(ctx context.Context, c *Client, database, sql string) (string, error) {
	pool, err := c.Pool(ctx, database)
	if err != nil {
		return "", err
	}
	var v string
	err = pool.QueryRow(ctx, sql).Scan(&v)
	return v, err
}

// SetTokenWait sets, for a test, how long a new connection of c may wait
// for its token once TLS is up and still be used, the clock that measures
// the wait, and calls waiting when one starts waiting (client.go). Call it
// before c opens a connection.
func SetTokenWait(c *Client, limit time.Duration, now func() time.Time, waiting func()) {
	c.tokenWaitLimit, c.tokenNow, c.tokenWaiting = limit, now, waiting
}
