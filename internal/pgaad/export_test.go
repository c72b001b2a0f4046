package pgaad

import (
	"context"
	"time"
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
