package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// slotsRole is an Entra admin of its own whose CONNECTION LIMIT is 1, with
// its one slot held by a side connection: every log-in of the client is
// refused with 53300 until release is called.
type slotsRole struct {
	admin   emulator.Object
	held    *pgx.Conn
	release func()
}

func holdRoleSlots(t *testing.T) *slotsRole {
	t.Helper()
	e := pgtest.Emulator(t)
	admin := pgtest.NewAdmin(t)
	pgtest.SuperExec(t, "postgres", "ALTER ROLE "+pgx.Identifier{admin.Name}.Sanitize()+" CONNECTION LIMIT 1")
	tok, err := e.IssueToken(context.Background(), "https://ossrdbms-aad.database.windows.net", admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	held, err := pgx.Connect(context.Background(), e.URL(admin.Name, tok.Value, "postgres"))
	if err != nil {
		t.Fatalf("holding the role's one slot: %v", err)
	}
	var once sync.Once
	s := &slotsRole{admin: admin, held: held}
	s.release = func() { once.Do(func() { _ = held.Close(context.Background()) }) }
	t.Cleanup(s.release)
	return s
}

// slotsClient logs in as the role, with connect_timeout as the budget, and
// counts the client's 53300 retries through the log hook; onWait, when set,
// runs in the hook after each (in the goroutine of the waiting operation).
func slotsClient(t *testing.T, admin emulator.Object, budget time.Duration, onWait func()) (*pgaad.Client, func() int) {
	t.Helper()
	e := pgtest.Emulator(t)
	src, err := entratoken.New(entratoken.Settings{Method: "managed_identity", ClientID: admin.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	waits := 0
	c := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: admin.Name, SSLMode: "verify-full", SSLRootCert: e.CAFile(),
		ConnectTimeout: budget, MaxConns: 2, Password: src.Password, Entra: true,
		Log: func(_ context.Context, msg string, f map[string]any) {
			if msg == "pgaad: retrying" && strings.Contains(fmt.Sprint(f["reason"]), "53300") {
				mu.Lock()
				waits++
				mu.Unlock()
				t.Logf("%s: attempt %v, wait %v", msg, f["attempt"], f["wait"])
				if onWait != nil {
					onWait()
				}
			}
		}})
	t.Cleanup(c.Close)
	return c, func() int { mu.Lock(); defer mu.Unlock(); return waits }
}

// TestTooManyConnectionsIsSQLSTATE53300: the role's CONNECTION LIMIT is
// refused with the same SQLSTATE as a full server (max_connections), which
// is what the back-off decides by.
func TestTooManyConnectionsIsSQLSTATE53300(t *testing.T) {
	s := holdRoleSlots(t)
	e := pgtest.Emulator(t)
	tok, err := e.IssueToken(context.Background(), "https://ossrdbms-aad.database.windows.net", s.admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), e.URL(s.admin.Name, tok.Value, "postgres"))
	if err == nil {
		conn.Close(context.Background())
		t.Fatal("a second connection of a role with CONNECTION LIMIT 1 was accepted")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "53300" {
		t.Fatalf("want SQLSTATE 53300, got %v", err)
	}
}

// TestReadWaitsForAFreeSlot: the server refuses the log-in with 53300 until
// the client has waited once (its log hook releases the slot and waits
// until the holding session has ended); then the read succeeds within its
// 10 s budget: the attempt after a wait is always made.
func TestReadWaitsForAFreeSlot(t *testing.T) {
	s := holdRoleSlots(t)
	pid := s.held.PgConn().PID()
	c, waits := slotsClient(t, s.admin, 10*time.Second, func() {
		s.release()
		pgtest.WaitFor(t, "the session that held the slot to end", func() bool {
			var n int
			pgtest.SuperQueryRow(t, "postgres", "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", []any{int32(pid)}, &n)
			return n == 0
		})
	})
	ps, err := c.ListPrincipals(context.Background(), false)
	if err != nil {
		t.Fatalf("reading after the slot freed up: %v", err)
	}
	if len(ps) == 0 {
		t.Error("no principal listed")
	}
	n := waits()
	t.Logf("%d waits for a free slot before the read succeeded", n)
	if n < 1 {
		t.Errorf("the read succeeded without a 53300 retry: the slot was not held?")
	}
}

// TestReadPastTheSlotsBudget: the slot stays held; with a 2 s budget the
// read fails with an error that names 53300, the wait and the attempts,
// and what to do.
func TestReadPastTheSlotsBudget(t *testing.T) {
	s := holdRoleSlots(t)
	c, waits := slotsClient(t, s.admin, 2*time.Second, nil)
	_, err := c.ListPrincipals(context.Background(), false)
	if err == nil {
		t.Fatal("the read succeeded while the role's only slot was held")
	}
	if !errors.Is(err, pgaad.ErrConnection) {
		t.Errorf("want ErrConnection, got %T %v", err, err)
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	for _, want := range []string{
		"the server has no free connection slots (SQLSTATE 53300: too many connections for role",
		fmt.Sprintf("over %d attempts", waits()+1),
		"connect_timeout = 2s",
		"max_connections", "Open fewer connections at once", "close other clients", "B1ms allows 50 connections, 35 for users", "larger SKU",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q", want)
		}
	}
	// How many attempts fit in 2 s depends on the machine; that the first
	// refusal is followed by a wait and another attempt does not.
	if waits() < 1 {
		t.Errorf("no wait after the first refusal: want a back-off that tries again")
	}
}
