package entratoken

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestFailureSharedByParallelConnections: connections that wait while the
// credential fails get the same error without asking again.
func TestFailureSharedByParallelConnections(t *testing.T) {
	clk := newClock()
	cred := &countingCredential{err: errors.New("ManagedIdentityCredential: connection refused"), now: clk.now, delay: 20 * time.Millisecond}
	src := sourceWith(cred, clk)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := src.Password(context.Background()); err == nil {
				t.Error("no error")
			}
		}()
	}
	wg.Wait()
	if n := cred.calls.Load(); n != 1 {
		t.Fatalf("20 connections with a failing credential asked it %d times, want 1", n)
	}
}

// TestCallerTimeoutNotHeld: a failure caused by the caller's own deadline
// (connect_timeout) is not handed to the next connection.
func TestCallerTimeoutNotHeld(t *testing.T) {
	clk := newClock()
	cred := &countingCredential{err: context.DeadlineExceeded, now: clk.now}
	src := sourceWith(cred, clk)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = src.Password(ctx)
	cred.err = nil
	cred.lifetime = time.Hour
	if _, err := src.Password(context.Background()); err != nil {
		t.Fatalf("the next connection got %v", err)
	}
	if n := cred.calls.Load(); n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
}
