package netdelay

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// TestLatencyProxyDelaysEachRoundTrip: each exchange through the proxy
// takes at least the round-trip time, and the flights are counted.
func TestLatencyProxyDelaysEachRoundTrip(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			// Answers each 5-byte message once it has all of it, so that
			// two writes of one message are one flight whatever the
			// scheduling between them.
			go func() {
				defer c.Close()
				msg := make([]byte, 5)
				for {
					if _, err := io.ReadFull(c, msg); err != nil {
						return
					}
					if _, err := c.Write(msg); err != nil {
						return
					}
				}
			}()
		}
	}()
	const rtt = 40 * time.Millisecond
	p, err := Start(echo.Addr().String(), rtt)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 5)
	for i := 0; i < 3; i++ {
		start := time.Now()
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < rtt || !bytes.Equal(buf, []byte("hello")) {
			t.Fatalf("round trip %d took %s (want ≥ %s) and returned %q", i, took, rtt, buf)
		}
	}
	// Two writes before any answer are one flight (a pipeline): 4 in all.
	// The server answers only once both have arrived.
	if _, err := c.Write([]byte("he")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("llo")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if got := p.RoundTrips(); got != 4 {
		t.Errorf("counted %d round trips, want 4 (3 exchanges and one pipelined pair of writes)", got)
	}
}
