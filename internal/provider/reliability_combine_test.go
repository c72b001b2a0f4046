package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// Writes that wait for a connection share one pipeline, each with its own
// transaction and its own error (internal/pgaad/combine.go). These tests
// make the sharing certain: max_connections = 1, and every creation's
// CREATE ROLE held open by a transaction of its own, so that the first
// creation to be sent waits on the server, holding the one connection,
// until all 21 are queued (the provider logs each). Whatever is queued
// then leaves in one pipeline when the connection is free: every write
// but the first shares a round trip with others (the provider logs each
// pipeline and its size).

// heldRole is an uncommitted CREATE ROLE of a name, as the superuser: a
// creation of that name by the provider waits for it.
type heldRole struct {
	conn *pgx.Conn
	pid  int
}

func holdRole(t *testing.T, name string) *heldRole {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, acctest.Emulator(t).SuperuserURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	h := &heldRole{conn: conn}
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&h.pid); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "BEGIN; CREATE ROLE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	return h
}

// end commits (the role then exists, as a plain role) or rolls back.
func (h *heldRole) end(t *testing.T, commit bool) {
	t.Helper()
	sql := "ROLLBACK"
	if commit {
		sql = "COMMIT"
	}
	if _, err := h.conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

// blockedBy is the index of the hold that the provider's one waiting
// connection waits for, or -1.
func blockedBy(t *testing.T, role string, holds []*heldRole) int {
	t.Helper()
	var pids []int32
	if err := acctest.Emulator(t).Superuser().QueryRow(context.Background(), `SELECT coalesce(array_agg(b), '{}')
		FROM pg_stat_activity a, unnest(pg_blocking_pids(a.pid)) b
		WHERE a.usename = $1 AND a.application_name LIKE $2 AND a.wait_event_type = 'Lock'`,
		role, acctest.ProviderApplicationPrefix+"%").Scan(&pids); err != nil {
		t.Fatal(err)
	}
	for i, h := range holds {
		for _, p := range pids {
			if int(p) == h.pid {
				return i
			}
		}
	}
	return -1
}

// traceLogs is the contents of the workdir's trace logs.
func traceLogs(t *testing.T, w *acctest.Workdir) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(w.Dir, "trace-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	var logs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, b)
	}
	return logs
}

// logCount counts the lines of the workdir's trace logs that match re.
func logCount(t *testing.T, w *acctest.Workdir, re *regexp.Regexp) int {
	t.Helper()
	n := 0
	for _, b := range traceLogs(t, w) {
		n += len(re.FindAllIndex(b, -1))
	}
	return n
}

var (
	waitingLine = regexp.MustCompile(`pgaad: a write is queued for a connection|pgaad: a write joins a pipeline in flight`)
	joinedLine  = regexp.MustCompile(`pgaad: a write joins a pipeline in flight`)
	sharedLine  = regexp.MustCompile(`pgaad: writes share a round trip[^\n]*?writes"?[=:] ?"?(\d+)`)
)

// sharedWrites is how many writes went in pipelines shared with others:
// those that joined one in flight, and those that left together in a new
// one.
func sharedWrites(t *testing.T, w *acctest.Workdir) int {
	t.Helper()
	n := logCount(t, w, joinedLine)
	for _, b := range traceLogs(t, w) {
		for _, m := range sharedLine.FindAllSubmatch(b, -1) {
			k, _ := strconv.Atoi(string(m[1]))
			n += k
		}
	}
	return n
}

// combinedApply starts an apply of 21 principals (names, hostile) with
// max_connections = 1, each creation held on the server, and returns once
// the first creation waits on the server and the 20 others in the
// provider: the apply, the holds, and which hold the first waits for.
func combinedApply(t *testing.T, prefix string) (w *acctest.Workdir, names []string, holds []*heldRole, first int, apply *background) {
	t.Helper()
	admin := acctest.NewAdmin(t)
	names = tenantObjects(t, "group", prefix, 21)
	config := strings.Replace(forEachConfig(admin, keyed(names)), acctest.ProviderBlock(admin, ""), acctest.ProviderBlock(admin, "max_connections = 1"), 1)
	w = acctest.NewWorkdir(t, config, nil)
	for _, n := range names {
		holds = append(holds, holdRole(t, n))
	}
	t.Cleanup(func() {
		for _, h := range holds {
			_, _ = h.conn.Exec(context.Background(), "ROLLBACK")
		}
		w.Run("destroy", "-auto-approve", "-input=false")
	})
	apply = runInBackground(w, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=21")
	acctest.WaitFor(t, "the first creation to wait on the server", func() bool {
		first = blockedBy(t, admin.Name, holds)
		return first >= 0
	})
	acctest.WaitFor(t, "every creation to be queued or sent behind the first", func() bool {
		return logCount(t, w, waitingLine) == 21
	})
	apply.running(t, "the creations were held")
	return w, names, holds, first, apply
}

// TestReliabilityCombinedWriteFailsAlone: of 20 creations sent in one
// pipeline, one fails (its name was taken meanwhile, by a role created
// outside Terraform): it reports its own error, the 19 others and the
// first are created and in the state; a second apply, once the name is
// free again, converges.
func TestReliabilityCombinedWriteFailsAlone(t *testing.T) {
	prefix := acctest.Name(`rel-combine "fail" @ é`)
	w, names, holds, first, apply := combinedApply(t, prefix)
	taken := (first + 1) % len(names)
	for i, h := range holds {
		if i != taken {
			h.end(t, false)
		}
	}
	// The 20 others were sent behind the first creation, in its pipeline;
	// the taken name's creation waits there for its CREATE ROLE, which
	// commits: that creation fails, the others go on.
	holds[taken].end(t, true)
	r := apply.wait()
	if r.Err == nil {
		t.Fatal("the apply succeeded although a name was taken")
	}
	if n := sharedWrites(t, w); n < 20 {
		t.Fatalf("%d creations shared a round trip, want at least the 20 after the first", n)
	}
	failed := errorAddresses(r.Stderr)
	addr := fmt.Sprintf(`azurepg_principal.p["k%03d"]`, taken)
	if len(failed) != 1 || failed[addr] != 1 {
		t.Fatalf("errors for %v, want exactly one for %s:\n%s", failed, addr, r.Stderr)
	}
	if want := words("Error: Role already exists", fmt.Sprintf("creating principal %q", names[taken])); !want.MatchString(r.Stderr) {
		t.Fatalf("the error does not say which name and why:\n%s", r.Stderr)
	}
	state := stateNames(w)
	for i, n := range names {
		if state[n] != (i != taken) {
			t.Errorf("%q in the state: %v", n, state[n])
		}
		if !acctest.RoleExists(t, n) {
			t.Errorf("%q is not on the server", n)
		}
	}
	// The taken name is a plain role: drop it, and the next apply creates
	// the principal.
	acctest.SuperExec(t, "postgres", "DROP ROLE "+pgx.Identifier{names[taken]}.Sanitize())
	w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	if got := checkStateMatchesServer(t, w, prefix); got != 21 {
		t.Fatalf("%d principals after the second apply, want 21", got)
	}
	if r := w.Run("plan", "-input=false", "-no-color", "-detailed-exitcode"); r.Err != nil {
		t.Fatalf("plan after the second apply is not empty (%v):\n%s", r.Err, r.Stdout)
	}
}

// TestReliabilityCombinedWritesKilled: the connection that carries the 20
// creations is terminated while the server runs one of them (held): those
// before it committed, the others did not run. Every creation ends applied
// and in the state (its outcome checked, or run again), none half: the
// state matches the server, and the plan after is empty.
func TestReliabilityCombinedWritesKilled(t *testing.T) {
	prefix := acctest.Name(`rel-combine "kill" @ é`)
	w, names, holds, first, apply := combinedApply(t, prefix)
	mid := (first + 1) % len(names)
	for i, h := range holds {
		if i != mid {
			h.end(t, false)
		}
	}
	acctest.WaitFor(t, "the pipeline to wait for the held creation", func() bool {
		return blockedByAny(t, holds[mid])
	})
	apply.running(t, "the kill")
	if n := superCount(t, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE $1`,
		acctest.ProviderApplicationPrefix+"%"); n == 0 {
		t.Fatal("no provider connection to terminate")
	}
	holds[mid].end(t, false)
	r := apply.wait()
	if r.Err != nil {
		t.Fatalf("apply: %v\n%s", r.Err, r.Stderr)
	}
	if n := sharedWrites(t, w); n < 20 {
		t.Fatalf("%d creations shared a round trip, want at least the 20 after the first", n)
	}
	if got := checkStateMatchesServer(t, w, prefix); got != 21 {
		t.Fatalf("%d principals in the state, want 21", got)
	}
	if r := w.Run("plan", "-input=false", "-no-color", "-detailed-exitcode"); r.Err != nil {
		t.Fatalf("plan after the apply is not empty (%v):\n%s", r.Err, r.Stdout)
	}
}

// blockedByAny: some session waits for h.
func blockedByAny(t *testing.T, h *heldRole) bool {
	t.Helper()
	return superCount(t, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`, h.pid) > 0
}
