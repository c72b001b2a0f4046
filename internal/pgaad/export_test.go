package pgaad

import "time"

// SetQuietAfterWrite shortens, for a test, the time after a write during
// which reads go one by one, so that snapshots are fetched while writes run.
func SetQuietAfterWrite(c *Client, d time.Duration) {
	c.snap.mu.Lock()
	c.snap.quiet = d
	c.snap.mu.Unlock()
}
