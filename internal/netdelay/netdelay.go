// Package netdelay is a TCP proxy on loopback that adds a round-trip time:
// the network between a Terraform runner and an Azure server, which a
// server on loopback does not have. The soak test and the benchmark reach
// the emulator through it, and it counts the round trips they make.
package netdelay

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy carries TCP connections from a port of 127.0.0.1 to a target,
// each chunk arriving half a round trip after it was sent, in either
// direction (no bandwidth limit). The provider reaches the server through
// it with port = Port() (host stays localhost, so TLS verify-full still
// checks the server's certificate end to end).
type Proxy struct {
	l      net.Listener
	target string
	oneWay time.Duration
	wg     sync.WaitGroup

	conns  atomic.Int64
	trips  atomic.Int64
	closed atomic.Bool
}

// Start listens on 127.0.0.1 and forwards to target ("127.0.0.1:port")
// with the round-trip time rtt, until Close.
func Start(target string, rtt time.Duration) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{l: l, target: target, oneWay: rtt / 2}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Port is the proxy's port on 127.0.0.1.
func (p *Proxy) Port() int { return p.l.Addr().(*net.TCPAddr).Port }

// Connections is how many client connections the proxy accepted.
func (p *Proxy) Connections() int64 { return p.conns.Load() }

// RoundTrips counts the clients' flights over all connections: each time a
// client sends after the server answered (or sends first). A batch or a
// pipeline sent at once is one flight, however many statements it holds;
// each costs a round trip of waiting.
func (p *Proxy) RoundTrips() int64 { return p.trips.Load() }

// Close stops accepting and waits for the accept loop (open connections end
// with their peers). A second Close does nothing.
func (p *Proxy) Close() {
	if p.closed.Swap(true) {
		return
	}
	_ = p.l.Close()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		go p.carry(c)
	}
}

// carry joins a client to a new connection to the target; when the target
// refuses (the server is down) the client sees its connection closed, as
// it would see a reset from the server itself.
func (p *Proxy) carry(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	var clientSpokeLast atomic.Bool
	ended := make(chan struct{}, 2)
	go func() {
		p.delay(server, client, func() {
			if !clientSpokeLast.Swap(true) {
				p.trips.Add(1)
			}
		})
		ended <- struct{}{}
	}()
	go func() {
		p.delay(client, server, func() { clientSpokeLast.Store(false) })
		ended <- struct{}{}
	}()
	<-ended // one side is gone: end both
	_ = client.Close()
	_ = server.Close()
	<-ended
}

type flight struct {
	b   []byte
	due time.Time
}

// delay copies from src to dst, each read delivered oneWay after it was
// read (reads keep going meanwhile, so delays do not add up); read is
// called for every chunk as it is read.
func (p *Proxy) delay(dst, src net.Conn, read func()) {
	queue := make(chan flight, 4096)
	go func() {
		defer close(queue)
		for {
			b := make([]byte, 64<<10)
			n, err := src.Read(b)
			if n > 0 {
				read()
				queue <- flight{b[:n], time.Now().Add(p.oneWay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for f := range queue {
		if d := time.Until(f.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(f.b); err != nil {
			break
		}
	}
	_ = src.Close() // ends the reader when dst failed first
	for range queue {
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
