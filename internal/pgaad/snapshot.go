package pgaad

import (
	"context"
	"sync"
	"time"
)

// Refresh snapshot (issue 18). Over a real network a read costs a round
// trip, and a plan's refresh reads every principal of the configuration
// one by one. Instead, the first principal read of a provider process
// fetches every role in one statement (the same query and columns as a
// single read: principalQuery and scanPrincipal), and the reads that follow
// are answered from that snapshot.
//
// A snapshot is never stale after a write of this process: every write
// (run.go's write and writeOne) bumps the client's write generation when it
// returns, whatever its outcome, and a snapshot answers only while the
// generation it was taken at is current. A write that commits while a
// snapshot is being fetched ends after the fetch began, so it bumps the
// generation too. After a write, reads go one by one (an apply that reads
// after each create would otherwise fetch every role each time) until no
// write has happened for snapshotTTL.
//
// Drift made between two Terraform commands is seen: Terraform starts a new
// provider process for each command and each of its walks (plan, apply), and
// a process that lives on (terraform -debug / TF_REATTACH_PROVIDERS, or the
// in-process provider of the acceptance tests) is configured again for
// each walk, when the provider calls ForgetSnapshots. snapshotTTL bounds
// the age of a snapshot in any case.
//
// GUESS: that Terraform sends ConfigureProvider for every walk to a
// reattached provider is what its source does (each walk's graph configures
// its provider nodes); TestAccPrincipalSnapshotSeesDriftBetweenSteps checks
// it with the in-process provider, which is reattached.

// snapshotTTL is how long a snapshot may answer reads, and how long after
// a write reads go one by one.
const snapshotTTL = 10 * time.Second

type snapshots struct {
	mu sync.Mutex
	// gen counts the writes that ended; lastWrite is when the last one did.
	gen       uint64
	lastWrite time.Time
	// principals is the current snapshot of every role, or nil.
	principals *principalSnapshot
	// loading is closed when the fetch in flight ends (nil: none).
	loading chan struct{}
	// fetches counts the snapshots fetched (for tests).
	fetches int
	// quiet, when set (tests), replaces snapshotTTL as the time after a
	// write during which reads go one by one.
	quiet time.Duration
}

func (s *snapshots) quietAfterWrite() time.Duration {
	if s.quiet != 0 {
		return s.quiet
	}
	return snapshotTTL
}

type principalSnapshot struct {
	gen   uint64
	taken time.Time // before the statement was sent
	roles map[string]roleRow
}

// roleRow is one role as principalQuery reads it.
type roleRow struct {
	p     Principal
	entra bool
}

// wrote marks the end of a write: every snapshot taken before is stale.
func (c *Client) wrote() {
	c.snap.mu.Lock()
	c.snap.gen++
	c.snap.lastWrite = time.Now()
	c.snap.principals = nil
	c.snap.mu.Unlock()
}

// ForgetSnapshots drops the snapshots: the provider calls it when it is
// configured, i.e. at the start of each Terraform walk, so that a process
// that serves several commands never answers one from another's snapshot.
func (c *Client) ForgetSnapshots() {
	c.snap.mu.Lock()
	c.snap.principals = nil
	c.snap.mu.Unlock()
}

// SnapshotFetches is how many snapshots of the roles this client fetched.
func (c *Client) SnapshotFetches() int {
	c.snap.mu.Lock()
	defer c.snap.mu.Unlock()
	return c.snap.fetches
}

// principalFromSnapshot answers a read of one role from the snapshot,
// fetching one when there is none; ok is false when the read must go to
// the server on its own (a recent write, or the fetch failed: the single
// read then reports its own error).
func (c *Client) principalFromSnapshot(ctx context.Context, name string) (_ roleRow, found, ok bool) {
	roles, ok := c.principalSnapshot(ctx)
	if !ok {
		return roleRow{}, false, false
	}
	r, found := roles[name]
	return r, found, true
}

func (c *Client) principalSnapshot(ctx context.Context) (map[string]roleRow, bool) {
	s := &c.snap
	for {
		s.mu.Lock()
		if p := s.principals; p != nil && p.gen == s.gen && time.Since(p.taken) < snapshotTTL {
			s.mu.Unlock()
			return p.roles, true
		}
		if s.gen > 0 && time.Since(s.lastWrite) < s.quietAfterWrite() {
			s.mu.Unlock()
			return nil, false
		}
		if ch := s.loading; ch != nil {
			s.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, false
			}
		}
		ch := make(chan struct{})
		s.loading, s.fetches = ch, s.fetches+1
		gen, taken := s.gen, time.Now()
		s.mu.Unlock()

		roles, err := read(ctx, c, PrincipalsDatabase, "reading every role", func(q querier) (map[string]roleRow, error) {
			return allRoles(ctx, q)
		})

		s.mu.Lock()
		s.loading = nil
		close(ch)
		fresh := err == nil && gen == s.gen
		if fresh {
			s.principals = &principalSnapshot{gen: gen, taken: taken, roles: roles}
		}
		s.mu.Unlock()
		if !fresh {
			c.log(ctx, "pgaad: no snapshot of the roles, reading one by one", map[string]any{"write_during_fetch": err == nil})
			return nil, false
		}
		c.log(ctx, "pgaad: snapshot of the roles fetched", map[string]any{"roles": len(roles)})
		return roles, true
	}
}

// allRoles reads every role, as readPrincipal reads one.
func allRoles(ctx context.Context, q querier) (map[string]roleRow, error) {
	rows, err := q.Query(ctx, principalQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]roleRow{}
	for rows.Next() {
		p, entra, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		out[p.Name] = roleRow{p: p, entra: entra}
	}
	return out, rows.Err()
}
