package bench

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// latencyProxy forwards TCP connections from a loopback port to target,
// delaying every chunk by half the round-trip time in each direction (no
// bandwidth limit): the network between a Terraform runner and an Azure
// server, which the emulator on loopback does not have.
type latencyProxy struct {
	l      net.Listener
	target string
	delay  time.Duration // one way
	wg     sync.WaitGroup
	// accepted counts the connections carried (to show that the proxy was used).
	accepted atomic.Int64
	// roundTrips counts, over all connections, the client's flights: each
	// time the client sends after the server has answered (or first). A
	// pipeline or batch sent at once is one flight, however many
	// statements it holds; each flight costs one round trip of waiting.
	roundTrips atomic.Int64
}

func startLatencyProxy(target string, rtt time.Duration) (*latencyProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &latencyProxy{l: l, target: target, delay: rtt / 2}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *latencyProxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

func (p *latencyProxy) close() {
	_ = p.l.Close()
	p.wg.Wait()
}

func (p *latencyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		go p.handle(c)
	}
}

func (p *latencyProxy) handle(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	// last is who sent the last chunk on this connection: 0 nobody yet, 1 the client, 2 the server.
	var last atomic.Int32
	fromClient := func() {
		if last.Swap(1) != 1 {
			p.roundTrips.Add(1)
		}
	}
	fromServer := func() { last.Store(2) }
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client, fromClient); done <- struct{}{} }()
	go func() { p.pipe(client, server, fromServer); done <- struct{}{} }()
	<-done
	_ = client.Close()
	_ = server.Close()
	<-done
}

type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each chunk arriving p.delay after it was read;
// seen is called as each chunk is read.
func (p *latencyProxy) pipe(dst, src net.Conn, seen func()) {
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				seen()
				ch <- chunk{buf[:n], time.Now().Add(p.delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	for range ch { // drain, so the reader ends
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
