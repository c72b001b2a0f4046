package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// standby starts a small PostgreSQL primary and a real streaming standby
// of it (pg_basebackup -R), both trusting local TCP logins, and returns
// their ports. pg_is_in_recovery() is true on the standby, as on an Azure
// read replica; default_transaction_read_only is not the same thing.
func standby(t *testing.T) (primary, replica int) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("starts PostgreSQL servers: set TF_ACC=1 (make test does)")
	}
	for _, b := range []string{"initdb", "pg_ctl", "pg_basebackup"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("no %s on PATH", b)
		}
	}
	dir, err := os.MkdirTemp("", "azurepg-replica-")
	if err != nil {
		t.Fatal(err)
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("running as root and no user nobody to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C.UTF-8", "HOME=" + dir}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	primary, replica = freePort(t), freePort(t)
	opts := func(port int) string {
		return fmt.Sprintf("-k %s -c listen_addresses=127.0.0.1 -p %d -c fsync=off", dir, port)
	}
	run("initdb", "-D", filepath.Join(dir, "p"), "-U", "su", "--auth=trust", "--no-sync", "--no-instructions")
	f, err := os.OpenFile(filepath.Join(dir, "p", "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("local replication all trust\n")
	f.Close()
	t.Cleanup(func() {
		for _, d := range []string{"s", "p"} {
			cmd := exec.Command("pg_ctl", "-D", filepath.Join(dir, d), "stop", "-m", "immediate")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			_ = cmd.Run()
		}
		os.RemoveAll(dir)
	})
	run("pg_ctl", "-D", filepath.Join(dir, "p"), "-o", opts(primary), "-l", filepath.Join(dir, "p.log"), "-w", "start")
	run("pg_basebackup", "-h", dir, "-p", strconv.Itoa(primary), "-U", "su", "-D", filepath.Join(dir, "s"), "-R", "-X", "stream")
	run("pg_ctl", "-D", filepath.Join(dir, "s"), "-o", opts(replica), "-l", filepath.Join(dir, "s.log"), "-w", "start")
	return primary, replica
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestReplicaRefusesWrites: on a read replica, every write of the common
// write path fails before any statement with ErrReadReplica and says what
// to do (without the check, the server's 25006 "read-only transaction"
// would come from the statement itself); reads work. On the primary the
// same client writes.
func TestReplicaRefusesWrites(t *testing.T) {
	primary, replica := standby(t)
	ctx := context.Background()
	client := func(port int) *pgaad.Client {
		c := pgaad.NewClient(pgaad.Config{Host: "127.0.0.1", Port: port, Username: "su", SSLMode: "disable"})
		t.Cleanup(c.Close)
		return c
	}
	rc := client(replica)
	var inRecovery bool
	pool, err := rc.Pool(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("the standby is not in recovery: %v, %v", inRecovery, err)
	}
	name := `ro "replica"; role`
	writes := map[string]func() error{
		"create": func() error { _, err := rc.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: name}); return err },
		"update": func() error {
			_, err := rc.UpdatePrincipal(ctx, pgaad.PrincipalChange{Name: name, Admin: true})
			return err
		},
		"drop": func() error { return rc.DropPrincipal(ctx, name, "") },
	}
	for op, write := range writes {
		for i := 0; i < 2; i++ { // the second time from the per-pool answer
			err := write()
			if !errors.Is(err, pgaad.ErrReadReplica) {
				t.Fatalf("%s on the replica: %v, want ErrReadReplica", op, err)
			}
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				t.Errorf("%s on the replica reached the server: %v", op, pgErr)
			}
			if pe := (*pgaad.Error)(nil); !errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicReadReplica {
				t.Errorf("%s on the replica: want the read-replica fact, got %+v", op, pe)
			}
			for _, want := range []string{fmt.Sprintf("%q", name), "the server is a read replica (pg_is_in_recovery() is true): nothing was changed",
				"managed on the primary server and replicated", "Connect to the primary server instead"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s on the replica: %q lacks %q", op, err.Error(), want)
				}
			}
		}
	}
	// The actions check the replica themselves (TerminateSessions runs on
	// the read path) and report the same fact, in pgaad's words.
	actions := map[string]func() error{
		"reassign":  func() error { return rc.ReassignOwned(ctx, "postgres", pgaad.Reassign{Role: name, NewOwner: "su"}) },
		"terminate": func() error { _, err := rc.TerminateSessions(ctx, name); return err },
	}
	for op, action := range actions {
		err := action()
		if !errors.Is(err, pgaad.ErrReadReplica) {
			t.Fatalf("%s on the replica: %v, want ErrReadReplica", op, err)
		}
		if pe := (*pgaad.Error)(nil); !errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicReadReplica {
			t.Errorf("%s on the replica: want the read-replica fact, got %+v", op, pe)
		}
		if !strings.Contains(err.Error(), "read replica") || !strings.Contains(err.Error(), "Connect to the primary server") ||
			strings.Contains(err.Error(), "provider") {
			t.Errorf("%s on the replica: %q does not say, in pgaad's words, to connect to the primary", op, err.Error())
		}
	}
	if _, err := rc.ListPrincipals(ctx, false); err != nil {
		t.Errorf("reading on the replica: %v", err)
	}
	// On the primary, the check passes and the statement runs (a role
	// that is not there is not an error for drop).
	if err := client(primary).DropPrincipal(ctx, name, ""); err != nil {
		t.Errorf("drop on the primary: %v", err)
	}
}
