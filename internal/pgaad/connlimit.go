package pgaad

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// connLimit caps the connections of one Client to its server across all its
// databases (max_connections), while each database keeps a pool of its own.
//
// Design: a server-wide semaphore taken in each pool's DialFunc, before the
// TCP connection is opened, and given back when that net.Conn is closed,
// whatever closes it: the pool (idle time, health check, Close), pgconn
// after a failed login or TLS handshake, or a fallback attempt. Hooks on
// the pool (BeforeConnect / BeforeClose) would miss a connection whose
// login fails after BeforeConnect, and leak its slot; the dialer sees every
// socket, so the count is exactly the sockets open.
//
// Without more, idle connections would deadlock the cap: 4 connections idle
// in database A's pool hold every slot, and database B waits for A's idle
// timeout (a minute, past the connect timeout). So a dial that finds no
// free slot closes one idle connection of another database's pool and
// tries again, until its context ends (the connect timeout). Busy
// connections are never taken: they are given back when their statement
// ends. A caller that holds a connection of one database while it waits for
// another could still wait out the timeout when every slot is held that
// way; pgaad does not nest connections.
//
// pgconn's CancelRequest dials through the same DialFunc; the provider
// leaves pgx's default context handling (a socket deadline, no cancel
// request), so cancel requests do not compete for slots.
type connLimit struct {
	slots chan struct{}
	// pools returns the client's pools by database, to reclaim idle connections.
	pools func() map[string]*pgxpool.Pool
}

func newConnLimit(n int32, pools func() map[string]*pgxpool.Pool) *connLimit {
	return &connLimit{slots: make(chan struct{}, n), pools: pools}
}

// reclaimEvery is how often a waiting dial looks again for an idle
// connection to close in another pool.
const reclaimEvery = 50 * time.Millisecond

// limitPool makes the pool of database dial through the limit.
func (l *connLimit) limitPool(pcfg *pgxpool.Config, database string) {
	dial := pcfg.ConnConfig.DialFunc
	pcfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if err := l.acquire(ctx, database); err != nil {
			return nil, err
		}
		conn, err := dial(ctx, network, addr)
		if err != nil {
			l.release()
			return nil, err
		}
		return &limitedConn{Conn: conn, release: l.release}, nil
	}
}

func (l *connLimit) acquire(ctx context.Context, database string) error {
	for {
		select {
		case l.slots <- struct{}{}:
			return nil
		default:
		}
		l.reclaimIdle(database)
		t := time.NewTimer(reclaimEvery)
		select {
		case l.slots <- struct{}{}:
			t.Stop()
			return nil
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for one of the %d connections to the server (max_connections, across all databases) to be free: %w",
				cap(l.slots), context.Cause(ctx))
		case <-t.C:
		}
	}
}

func (l *connLimit) release() { <-l.slots }

// reclaimIdle closes one idle connection of another database's pool, so
// that its slot goes to the database that waits.
func (l *connLimit) reclaimIdle(database string) {
	for db, p := range l.pools() {
		if db == database {
			continue
		}
		idle := p.AcquireAllIdle(context.Background())
		if len(idle) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = idle[0].Hijack().Close(ctx) // closes the socket: its slot is free
		cancel()
		for _, r := range idle[1:] {
			r.Release()
		}
		return
	}
}

// limitedConn gives its slot back once, when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// poolsSnapshot is the client's pools, for connLimit.
func (c *Client) poolsSnapshot() map[string]*pgxpool.Pool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]*pgxpool.Pool, len(c.pools))
	for db, p := range c.pools {
		m[db] = p
	}
	return m
}

// full says whether every connection the server allows the provider is
// open (or being opened).
func (l *connLimit) full() bool { return len(l.slots) == cap(l.slots) }
