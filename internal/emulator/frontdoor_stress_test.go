package emulator_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestFrontDoorStress logs in many times at once, with the CPU kept busy,
// and runs one query on each connection: every query must be answered.
// Under load pgconn's background reader can leave a read pending on the
// front door's backend connection; when the front door read the raw
// connection, that read took the answer to the client's first query and the
// client waited forever (a CI run hung for 15 minutes). It runs only with
// AZUREPG_FRONTDOOR_STRESS=<logins> (e.g. 2000): it proves a race, slowly.
func TestFrontDoorStress(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("AZUREPG_FRONTDOOR_STRESS"))
	if n <= 0 {
		t.Skip("set AZUREPG_FRONTDOOR_STRESS=<logins> to run")
	}
	e := need(t)
	// Keep every CPU busy so that the log-in's writes are slow now and then.
	stop := make(chan struct{})
	var hogs sync.WaitGroup
	for range 4 * runtime.NumCPU() {
		hogs.Add(1)
		go func() {
			defer hogs.Done()
			x := 0
			for {
				select {
				case <-stop:
					return
				default:
					for i := range 100000 {
						x += i
					}
				}
			}
		}()
	}
	defer func() { close(stop); hogs.Wait() }()

	var hung, failed atomic.Int64
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			// A hang is what this test looks for: a connection unanswered
			// for 2 minutes, far longer than a log-in under this load takes.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			conn, err := pgx.Connect(ctx, e.SuperuserURL("postgres"))
			if err != nil {
				failed.Add(1)
				t.Logf("login %d: %v", i, err)
				return
			}
			defer conn.Close(context.Background())
			var v int
			if err := conn.QueryRow(ctx, "SELECT $1::int", i).Scan(&v); err != nil || v != i {
				if ctx.Err() != nil {
					hung.Add(1)
				}
				failed.Add(1)
				t.Logf("query %d: %v %v", i, v, err)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d logins: %d failed, %d of them unanswered for 2 minutes", n, failed.Load(), hung.Load())
	if failed.Load() > 0 {
		t.Fail()
	}
}
