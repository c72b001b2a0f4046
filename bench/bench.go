// Package bench measures the azurepg provider at scale against two
// baselines, in the same run: a no-op terraform-plugin-framework provider
// (./noop, the floor for any provider) and Terraform's own terraform_data.
// Each configuration manages N resources through the real terraform binary
// (providers installed with dev_overrides), phase by phase: apply, plan
// (with refresh), plan -refresh=false, destroy. For azurepg it also counts,
// per Terraform command, the connections opened and statements run (from the
// emulator's statement log) and the token requests (from the fake endpoint).
package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/bench/cpuprof"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/netdelay"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// Kinds of configuration.
const (
	KindAzurepg       = "azurepg"
	KindNoop          = "noop"
	KindTerraformData = "terraform_data"
	// KindAzurepgRTT is azurepg through a loopback proxy that adds
	// Options.RTT of round-trip time: the network dimension.
	KindAzurepgRTT = "azurepg_rtt"
)

// Kinds in the order the tables show them (all run by default).
var Kinds = []string{KindTerraformData, KindNoop, KindAzurepg, KindAzurepgRTT}

// DefaultRTT is the round trip azurepg_rtt adds by default: a runner and a
// server in neighbouring regions, or a hosted runner and a private endpoint.
const DefaultRTT = 20 * time.Millisecond

// viaProxy: the configuration's connections go through the latency proxy.
func viaProxy(kind string) bool {
	d, ok := dimensionOf(kind)
	return kind == KindAzurepgRTT || ok && kind == d.RTT
}

// Phases, in the order they run.
const (
	PhaseApply          = "apply"
	PhasePlan           = "plan"
	PhasePlanNoRefresh  = "plan -refresh=false"
	PhaseDestroy        = "destroy"
	principalNameFormat = "bench-%05d@contoso.com"
)

// Phases in the order they run.
var Phases = []string{PhaseApply, PhasePlan, PhasePlanNoRefresh, PhaseDestroy}

// Options say what to run.
type Options struct {
	// RepoRoot is the provider module's root (where its go.mod is); the
	// no-op and profiled providers are built from its bench/ module (from
	// internal/benchmark in a snapshot of a commit older than bench/).
	RepoRoot string
	// Commit names what RepoRoot holds in the report (default: git describe --dirty in RepoRoot).
	Commit string
	// Counts are the numbers of resources (default 100, 500, 2000).
	Counts []int
	// GrantCounts, RoleCounts and MembershipCounts are the N of the
	// grants, roles and memberships dimensions (default 500 each), run
	// when Kinds has one of their kinds.
	GrantCounts      []int
	RoleCounts       []int
	MembershipCounts []int
	// Reps is the number of repetitions of each (default 3).
	Reps int
	// Kinds to run (default AllKinds: Kinds and every dimension's).
	Kinds []string
	// Terraform is the terraform binary (default: from PATH).
	Terraform string
	// Profile adds a pass at ProfileN resources with a CPU-profiled build of
	// the provider, after the timed runs; its profiles go to ProfileDir.
	Profile    bool
	ProfileN   int
	ProfileDir string
	// ProfileOnly skips the timed runs (to look at a profile quickly).
	ProfileOnly bool
	// Deadline, when set, stops the run before a configuration would start
	// after it, or would end after it if it takes as long as in the previous
	// repetition; the result says so.
	Deadline time.Time
	// Progress, when set, receives the result so far after each configuration of each N and repetition.
	Progress func(*Result)
	// Env is added to every terraform command's environment (KEY=VALUE), e.g.
	// to try TF_LOG_SDK_FRAMEWORK=off.
	Env []string
	// RTT is the round-trip time the azurepg_rtt configuration's proxy adds (default DefaultRTT).
	RTT time.Duration
	// TokenRTT, when positive, puts the identity endpoint of the
	// configurations through the latency proxy behind a proxy of its own
	// with that round-trip time: a credential that asks Entra (workload
	// identity, a service principal) rather than a managed identity's local
	// endpoint.
	TokenRTT time.Duration
	// GrantsSetOnly makes the Entra admin hold the grant tables' owner
	// WITH INHERIT FALSE, SET TRUE (PostgreSQL 16+): how it holds the roles
	// it creates there, so that it grants as the owner by SET ROLE.
	GrantsSetOnly bool
	// Limits are the targets the report checks the run against (default DefaultLimits).
	Limits *Limits
	// Keep leaves the work directory (binaries, states, logs) in place.
	Keep bool
	// Logf receives progress lines.
	Logf func(format string, args ...any)
}

// Sample is one Terraform command.
type Sample struct {
	Kind  string `json:"kind"`
	N     int    `json:"n"`
	Rep   int    `json:"rep"`
	Phase string `json:"phase"`
	// Wall is the command's elapsed time.
	Wall time.Duration `json:"wall_ns"`
	// CPU is the user+system time of terraform and the provider processes it started and waited for.
	CPU time.Duration `json:"cpu_ns"`
	// ServerCPU is the CPU time of the PostgreSQL backends that ended during the command (azurepg only).
	ServerCPU time.Duration `json:"server_cpu_ns"`
	// Connections authorized for the provider's login, statements it ran, token requests it made.
	Connections   int `json:"connections"`
	Statements    int `json:"statements"`
	TokenRequests int `json:"token_requests"`
	// RoundTrips is the provider's flights to the server through the
	// latency proxy (azurepg_rtt only; see netdelay.Proxy.RoundTrips).
	RoundTrips int `json:"round_trips,omitempty"`
	// Shapes counts the statements by their first words.
	Shapes map[string]int `json:"statement_shapes,omitempty"`
	// Load1 is the one-minute load average when the command ended.
	Load1 float64 `json:"load1"`
}

// Result is a whole run.
type Result struct {
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
	Machine Machine       `json:"machine"`
	Counts  []int         `json:"counts"`
	// GrantCounts, RoleCounts and MembershipCounts are the N of the
	// dimensions (empty when one did not run).
	GrantCounts      []int         `json:"grant_counts,omitempty"`
	RoleCounts       []int         `json:"role_counts,omitempty"`
	MembershipCounts []int         `json:"membership_counts,omitempty"`
	Reps             int           `json:"reps"`
	Samples          []Sample      `json:"samples"`
	Profile          *Profile      `json:"profile,omitempty"`
	MaxConns         int           `json:"provider_max_connections"`
	Env              []string      `json:"env,omitempty"`
	RTT              time.Duration `json:"rtt_ns,omitempty"`
	TokenRTT         time.Duration `json:"token_rtt_ns,omitempty"`
	// GrantsSetOnly: the admin held the grant tables' owner with SET only (Options.GrantsSetOnly).
	GrantsSetOnly bool `json:"grants_set_only,omitempty"`
	// Stopped says why the run ended early ("" when it did not).
	Stopped string `json:"stopped,omitempty"`
	// Limits are the targets the report checks (nil in a results.json
	// written before they were recorded: DefaultLimits).
	Limits *Limits `json:"limits,omitempty"`
}

// Profile is the profiling pass: for each profiled configuration (azurepg
// and noop) and phase, the provider processes' CPU time and profiles.
type Profile struct {
	N     int                                `json:"n"`
	Kinds map[string]map[string]ProfilePhase `json:"kinds"`
	// Binaries are the profiled provider binaries, by kind (for pprof).
	Binaries map[string]string `json:"-"`
}

// ProfilePhase is one phase of the profiling pass.
type ProfilePhase struct {
	Wall        time.Duration `json:"wall_ns"`
	ProviderCPU time.Duration `json:"provider_cpu_ns"`
	Processes   int           `json:"provider_processes"`
	Files       []string      `json:"-"`
}

// providerMaxConnections is the provider's default max_connections, which
// the benchmark leaves as it is.
const providerMaxConnections = pgaad.DefaultMaxConns

// Run runs the benchmark.
func Run(ctx context.Context, o Options) (*Result, error) {
	if len(o.Counts) == 0 {
		o.Counts = []int{100, 500, 2000}
	}
	if o.Reps <= 0 {
		o.Reps = 3
	}
	if len(o.Kinds) == 0 {
		o.Kinds = AllKinds()
	}
	for _, d := range Dimensions {
		if c := o.counts(d); len(*c) == 0 {
			*c = []int{500}
		}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Terraform == "" {
		tf, err := exec.LookPath("terraform")
		if err != nil {
			return nil, fmt.Errorf("the benchmark runs the real terraform binary: %w", err)
		}
		o.Terraform = tf
	}
	if o.ProfileN == 0 {
		o.ProfileN = 500
	}
	began := time.Now()
	work, err := os.MkdirTemp("", "azurepg-bench-")
	if err != nil {
		return nil, err
	}
	if o.Keep {
		o.Logf("work directory: %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	o.Logf("building the providers")
	// The provider from the provider's module, the other two from the harness's.
	harness, noopPkg, profiledPkg := filepath.Join(o.RepoRoot, "bench"), "./noop", "./profiled"
	if _, err := os.Stat(filepath.Join(harness, "go.mod")); err != nil {
		// A snapshot (-commit) from before the harness was a module of its own.
		harness, noopPkg, profiledPkg = o.RepoRoot, "./internal/benchmark/noop", "./internal/benchmark/profiled"
	}
	bins := []struct{ out, dir, pkg string }{
		{filepath.Join(work, "bin", "terraform-provider-azurepg"), o.RepoRoot, "."},
		{filepath.Join(work, "bin", "terraform-provider-noop"), harness, noopPkg},
		{filepath.Join(work, "profiled-bin", "terraform-provider-azurepg"), harness, profiledPkg},
	}
	for _, bin := range bins {
		if !o.Profile && !o.ProfileOnly && strings.Contains(bin.out, "profiled-bin") {
			continue
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin.out, bin.pkg)
		cmd.Dir = bin.dir
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s (in %s): %w\n%s", bin.pkg, bin.dir, err, b)
		}
	}

	o.Logf("starting the emulator (statement log on)")
	em, err := emulator.Start(ctx, emulator.Options{LogStatements: true})
	if err != nil {
		return nil, fmt.Errorf("starting the emulator: %w", err)
	}
	defer em.Stop()
	maxN := 0
	for _, n := range append(append([]int{}, o.Counts...), o.ProfileN) {
		maxN = max(maxN, n)
	}
	if err := seedTenant(ctx, em, maxN); err != nil {
		return nil, err
	}
	for _, d := range Dimensions {
		if slices.ContainsFunc(o.Kinds, d.has) {
			if err := seed(ctx, em, d, slices.Max(*o.counts(d)), o.GrantsSetOnly); err != nil {
				return nil, err
			}
		}
	}

	r := &runner{o: o, em: em, work: work}
	r.env = r.environ(filepath.Join(work, "bin"), "terraformrc")
	if o.Limits == nil {
		l := DefaultLimits()
		o.Limits = &l
	}
	res := &Result{Started: began.UTC(), Counts: o.Counts, Reps: o.Reps, MaxConns: providerMaxConnections, Env: o.Env, Limits: o.Limits,
		GrantsSetOnly: o.GrantsSetOnly}
	for _, d := range Dimensions {
		if slices.ContainsFunc(o.Kinds, d.has) {
			res.setDimensionCounts(d, *o.counts(d))
		}
	}
	if slices.ContainsFunc(o.Kinds, viaProxy) {
		if o.RTT < 0 {
			return nil, fmt.Errorf("the configurations through the latency proxy (%s, %s, ...) need a positive round-trip time (RTT)", KindAzurepgRTT, KindAzurepgGrantRTT)
		}
		if o.RTT == 0 {
			o.RTT = DefaultRTT
		}
		proxy, err := netdelay.Start(fmt.Sprintf("127.0.0.1:%d", em.Port()), o.RTT)
		if err != nil {
			return nil, err
		}
		defer func() {
			o.Logf("the latency proxy carried %d connections", proxy.Connections())
			proxy.Close()
		}()
		r.rttEnv = append(append([]string{}, r.env...), fmt.Sprintf("PGPORT=%d", proxy.Port()))
		r.proxy = proxy
		res.RTT = o.RTT
		if o.TokenRTT > 0 {
			endpoint, err := url.Parse(em.TokenEndpoint())
			if err != nil {
				return nil, err
			}
			tokens, err := netdelay.Start(endpoint.Host, o.TokenRTT)
			if err != nil {
				return nil, err
			}
			defer tokens.Close()
			endpoint.Host = fmt.Sprintf("127.0.0.1:%d", tokens.Port())
			r.rttEnv = append(r.rttEnv, "IDENTITY_ENDPOINT="+endpoint.String())
			res.TokenRTT = o.TokenRTT
		}
	}
	res.Machine = describeMachine(ctx, o.RepoRoot, o.Terraform, em)
	if o.Commit != "" {
		res.Machine.Commit = o.Commit
	}

	// The profiling pass first: a run cut short by the deadline still has it.
	if o.Profile || o.ProfileOnly {
		p, err := r.profile(ctx, o.ProfileN, o.ProfileDir, filepath.Join(work, "profiled-bin"))
		if err != nil {
			return nil, fmt.Errorf("profiling pass: %w", err)
		}
		res.Profile = p
	}
	// Repetition by repetition, so that each repetition sees the three
	// configurations one after the other (their ratios are taken within a
	// repetition); the order of the configurations rotates between repetitions.
	took := map[string]time.Duration{} // how long each configuration and N took in the last repetition
	principalKinds := slices.DeleteFunc(slices.Clone(o.Kinds), isDimensionKind)
	type cell struct {
		n     int
		kinds []string
	}
	var cells []cell
	for _, n := range o.Counts {
		if len(principalKinds) > 0 {
			cells = append(cells, cell{n, principalKinds})
		}
	}
	for _, d := range Dimensions {
		kinds := slices.DeleteFunc(slices.Clone(o.Kinds), func(k string) bool { return !d.has(k) })
		for _, n := range *o.counts(d) {
			if len(kinds) > 0 {
				cells = append(cells, cell{n, kinds})
			}
		}
	}
run:
	for rep := 1; rep <= o.Reps && !o.ProfileOnly; rep++ {
		for _, c := range cells {
			n := c.n
			for i := range c.kinds {
				kind := c.kinds[(i+rep-1)%len(c.kinds)]
				key := fmt.Sprintf("%s/%d", kind, n)
				if !o.Deadline.IsZero() && time.Now().Add(took[key]).After(o.Deadline) {
					res.Stopped = fmt.Sprintf("stopped at the deadline (%s UTC) before repetition %d of %d, N = %d, %s",
						o.Deadline.UTC().Format("15:04"), rep, o.Reps, n, kind)
					o.Logf("%s", res.Stopped)
					break run
				}
				start := time.Now()
				samples, err := r.cycle(ctx, kind, n, rep)
				if err != nil {
					return nil, err
				}
				took[key] = time.Since(start)
				res.Samples = append(res.Samples, samples...)
				if o.Progress != nil {
					res.Machine.LoadEnd = loadAverage()
					res.Elapsed = time.Since(began)
					o.Progress(res)
				}
			}
		}
	}
	res.Machine.LoadEnd = loadAverage()
	res.Elapsed = time.Since(began)
	return res, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// seedTenant adds n users to the fake tenant in one statement (AddObject
// would take one round trip each): the directory table is all that
// pgaadauth_create_principal looks names up in.
func seedTenant(ctx context.Context, em *emulator.Emulator, n int) error {
	_, err := em.Superuser().Exec(ctx, `INSERT INTO azure_emulator.directory (object_id, object_type, kind, name)
		SELECT gen_random_uuid(), 'user', 'user', 'bench-' || lpad(i::text, 5, '0') || '@contoso.com'
		  FROM generate_series(1, $1::int) AS i`, n)
	if err != nil {
		return fmt.Errorf("adding %d users to the tenant: %w", n, err)
	}
	return nil
}

type runner struct {
	o    Options
	em   *emulator.Emulator
	work string
	env  []string
	// rttEnv is env with PGPORT pointing at the latency proxy (the later PGPORT wins).
	rttEnv []string
	proxy  *netdelay.Proxy
}

func isAzurepg(kind string) bool {
	d, ok := dimensionOf(kind)
	return kind == KindAzurepg || kind == KindAzurepgRTT || ok && kind != d.Noop
}

// environ is the environment of every terraform command: the emulator's
// (the Entra admin logs in with the managed identity), a CLI configuration
// that installs the providers from binDir, and nothing from the caller's
// shell that would point the provider or Terraform elsewhere.
func (r *runner) environ(binDir, rcName string) []string {
	rc := filepath.Join(r.work, rcName)
	conf := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/azurepg/azurepg" = %q
    "registry.terraform.io/azurepg/noop"    = %q
  }
  direct {}
}
`, binDir, filepath.Join(r.work, "bin"))
	if err := os.WriteFile(rc, []byte(conf), 0o644); err != nil {
		panic(err) // the work directory is ours; failing to write it is not recoverable
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "AZURE") || strings.HasPrefix(k, "ARM_") ||
			strings.HasPrefix(k, "TF_") || strings.HasPrefix(k, "IDENTITY_") || k == "CHECKPOINT_DISABLE" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range r.em.Env() {
		env = append(env, k+"="+v)
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	return append(env, r.o.Env...)
}

// configuration is main.tf for n resources of a kind.
func configuration(kind string, n int) string {
	if d, ok := dimensionOf(kind); ok {
		return dimensionConfiguration(d, kind, n)
	}
	name := fmt.Sprintf("format(%q, count.index + 1)", principalNameFormat)
	switch kind {
	case KindAzurepg, KindAzurepgRTT:
		return fmt.Sprintf(`terraform {
  required_providers {
    azurepg = { source = "azurepg/azurepg" }
  }
}

provider "azurepg" {}

resource "azurepg_principal" "p" {
  count = %d
  name  = %s
}
`, n, name)
	case KindNoop:
		return fmt.Sprintf(`terraform {
  required_providers {
    noop = { source = "azurepg/noop" }
  }
}

resource "noop_principal" "p" {
  count = %d
  name  = %s
}
`, n, name)
	default:
		return fmt.Sprintf(`resource "terraform_data" "p" {
  count = %d
  input = %s
}
`, n, name)
	}
}

// cycle runs the four phases for n resources of a kind in a new directory.
func (r *runner) cycle(ctx context.Context, kind string, n, rep int) ([]Sample, error) {
	dir := filepath.Join(r.work, fmt.Sprintf("%s-%d-%d", kind, n, rep))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(configuration(kind, n)), 0o644); err != nil {
		return nil, err
	}
	env := r.env
	if viaProxy(kind) {
		env = r.rttEnv
	}
	var out []Sample
	for _, phase := range Phases {
		s, err := r.command(ctx, dir, kind, phase, env)
		if err != nil {
			return nil, fmt.Errorf("%s, %d resources, repetition %d: %w", kind, n, rep, err)
		}
		s.N, s.Rep = n, rep
		if d, ok := dimensionOf(kind); ok && kind != d.Noop {
			if err := r.check(ctx, d, phase, n); err != nil {
				return nil, fmt.Errorf("%s, %d resources, repetition %d: %w", kind, n, rep, err)
			}
		} else if isAzurepg(kind) {
			if err := r.checkRoles(ctx, phase, n); err != nil {
				return nil, fmt.Errorf("%s, %d resources, repetition %d: %w", kind, n, rep, err)
			}
		}
		r.o.Logf("%-14s n=%-5d rep=%d %-20s %7.2fs cpu %6.2fs conns %3d stmts %5d round trips %5d tokens %d load %.2f",
			kind, n, rep, phase, s.Wall.Seconds(), s.CPU.Seconds(), s.Connections, s.Statements, s.RoundTrips, s.TokenRequests, s.Load1)
		out = append(out, s)
	}
	return out, nil
}

// args are the terraform command line of a phase.
func args(phase string) []string {
	common := []string{"-input=false", "-no-color", "-compact-warnings"}
	switch phase {
	case PhaseApply:
		return append([]string{"apply", "-auto-approve"}, common...)
	case PhasePlan:
		return append([]string{"plan", "-detailed-exitcode"}, common...)
	case PhasePlanNoRefresh:
		return append([]string{"plan", "-refresh=false", "-detailed-exitcode"}, common...)
	default:
		return append([]string{"destroy", "-auto-approve"}, common...)
	}
}

// command runs one phase and measures it.
func (r *runner) command(ctx context.Context, dir, kind, phase string, env []string) (Sample, error) {
	s := Sample{Kind: kind, Phase: phase}
	logOff := fileSize(r.em.ServerLog())
	tokens := r.em.TokenRequestsFor("")
	serverCPU := postmasterChildCPU(r.em)
	var flights int64
	if viaProxy(kind) && r.proxy != nil {
		flights = r.proxy.RoundTrips()
	}

	logFile := filepath.Join(dir, strings.NewReplacer(" ", "", "=", "-").Replace(phase)+".log")
	f, err := os.Create(logFile)
	if err != nil {
		return s, err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, r.o.Terraform, args(phase)...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, f, f
	start := time.Now()
	err = cmd.Run()
	s.Wall = time.Since(start)
	if cmd.ProcessState != nil {
		s.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	s.Load1 = loadAverage()[0]
	if err != nil {
		tail, _ := os.ReadFile(logFile)
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 2 && strings.HasPrefix(phase, "plan") {
			return s, fmt.Errorf("terraform %s: the plan is not empty after apply:\n%s", phase, tail)
		}
		return s, fmt.Errorf("terraform %s: %w\n%s", phase, err, tail)
	}
	if !isAzurepg(kind) {
		return s, nil
	}
	// The provider's backends end when the provider exits; wait until the
	// server has seen them go, so that their CPU time is counted here.
	r.waitForDisconnect(ctx)
	s.ServerCPU = postmasterChildCPU(r.em) - serverCPU
	s.TokenRequests = r.em.TokenRequestsFor("") - tokens
	if viaProxy(kind) && r.proxy != nil {
		s.RoundTrips = int(r.proxy.RoundTrips() - flights)
	}
	lc, err := countLog(r.em.ServerLog(), logOff, r.em.AdminName())
	s.Connections, s.Statements, s.Shapes = lc.conns, lc.stmts, lc.shapes
	return s, err
}

func (r *runner) waitForDisconnect(ctx context.Context) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := r.em.Superuser().QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", r.em.AdminName()).Scan(&n)
		if err != nil || n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the postmaster reaps, then accounts
}

// checkRoles checks the server side after each azurepg phase: N
// principals after apply and the plans, none after destroy.
func (r *runner) checkRoles(ctx context.Context, phase string, n int) error {
	var got int
	err := r.em.Superuser().QueryRow(ctx, `SELECT count(*) FROM pg_roles r
		JOIN pg_shseclabel s ON s.objoid = r.oid AND s.provider = 'pgaadauth-int'
		WHERE r.rolname LIKE 'bench-%@contoso.com'`).Scan(&got)
	if err != nil {
		return err
	}
	want := n
	if phase == PhaseDestroy {
		want = 0
	}
	if got != want {
		return fmt.Errorf("after %s the server has %d bench principals, want %d", phase, got, want)
	}
	return nil
}

// logCounts is what the server log says a command's sessions did.
type logCounts struct {
	conns, stmts int
	// shapes counts statements by their first words ("begin", "SELECT pgaadauth_create_principal(...").
	shapes map[string]int
}

// countLog counts, from offset on, the connections authorized for user and
// the statements that user's sessions ran (simple-protocol statements and
// extended-protocol executions; log_statement = all logs each once).
func countLog(path string, offset int64, user string) (logCounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return logCounts{}, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return logCounts{}, err
	}
	return countLines(f, user), nil
}

func countLines(rd io.Reader, user string) logCounts {
	c := logCounts{shapes: map[string]int{}}
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	authorized := []byte("LOG:  connection authorized: user=" + user + " ")
	session := []byte("] " + user + "@")
	var text []byte // the statement being read (it may go on over tab-indented lines)
	inStatement := false
	flush := func() {
		if inStatement {
			c.shapes[shape(string(text))]++
		}
		inStatement, text = false, text[:0]
	}
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 0 && line[0] == '\t' {
			if inStatement {
				text = append(append(text, ' '), line[1:]...)
			}
			continue
		}
		flush()
		if bytes.Contains(line, authorized) {
			c.conns++
			continue
		}
		if !bytes.Contains(line, session) {
			continue
		}
		if _, after, ok := bytes.Cut(line, []byte(" LOG:  statement: ")); ok {
			c.stmts++
			inStatement, text = true, append(text[:0], after...)
		} else if _, after, ok := bytes.Cut(line, []byte(" LOG:  execute ")); ok {
			c.stmts++
			_, stmt, _ := bytes.Cut(after, []byte(": "))
			inStatement, text = true, append(text[:0], stmt...)
		}
	}
	flush()
	return c
}

var (
	quotedIdent   = regexp.MustCompile(`"(?:[^"]|"")*"`)
	quotedLiteral = regexp.MustCompile(`'(?:[^']|'')*'`)
)

// shape is a statement's first five words, with names and literals left
// out: enough to tell the provider's statements apart.
func shape(stmt string) string {
	stmt = quotedLiteral.ReplaceAllString(quotedIdent.ReplaceAllString(stmt, `"…"`), `'…'`)
	words := strings.Fields(stmt)
	if len(words) > 5 {
		words = words[:5]
	}
	s := strings.Join(words, " ")
	if i := strings.IndexByte(s, '('); i >= 0 {
		s = s[:i] + "(…)"
	}
	return s
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// postmasterChildCPU is the CPU time of the server's ended children
// (backends), from /proc: the postmaster's cutime + cstime.
func postmasterChildCPU(em *emulator.Emulator) time.Duration {
	pidFile := filepath.Join(filepath.Dir(em.ServerLog()), "data", "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0
	}
	pid, _, _ := strings.Cut(string(b), "\n")
	stat, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(pid), "stat"))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); cutime and cstime are fields 16 and 17.
	if len(fields) < 15 {
		return 0
	}
	cu, _ := strconv.ParseInt(fields[13], 10, 64)
	cs, _ := strconv.ParseInt(fields[14], 10, 64)
	return time.Duration(cu+cs) * time.Second / 100 // USER_HZ is 100 on Linux
}

func loadAverage() [3]float64 {
	var l [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}

// profile runs the four phases at n with the profiled builds of azurepg
// and noop (each process writes its own profile; see package cpuprof).
func (r *runner) profile(ctx context.Context, n int, outDir, profiledBinDir string) (*Profile, error) {
	env := r.environ(profiledBinDir, "terraformrc-profiled")
	p := &Profile{N: n, Kinds: map[string]map[string]ProfilePhase{}, Binaries: map[string]string{}}
	bins := map[string]string{
		KindAzurepg: filepath.Join(profiledBinDir, "terraform-provider-azurepg"),
		KindNoop:    filepath.Join(r.work, "bin", "terraform-provider-noop"),
	}
	for _, kind := range []string{KindNoop, KindAzurepg} {
		if !contains(r.o.Kinds, kind) {
			continue
		}
		// The profiles and the binary they refer to go to outDir, which outlives the work directory.
		kdir := filepath.Join(outDir, kind)
		if err := os.MkdirAll(kdir, 0o755); err != nil {
			return nil, err
		}
		bin, err := os.ReadFile(bins[kind])
		if err != nil {
			return nil, err
		}
		p.Binaries[kind] = filepath.Join(kdir, filepath.Base(bins[kind]))
		if err := os.WriteFile(p.Binaries[kind], bin, 0o755); err != nil {
			return nil, err
		}
		dir := filepath.Join(r.work, fmt.Sprintf("profile-%s-%d", kind, n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(configuration(kind, n)), 0o644); err != nil {
			return nil, err
		}
		p.Kinds[kind] = map[string]ProfilePhase{}
		for _, phase := range Phases {
			pdir := filepath.Join(kdir, strings.NewReplacer(" ", "", "=", "-").Replace(phase))
			if err := os.MkdirAll(pdir, 0o755); err != nil {
				return nil, err
			}
			s, err := r.command(ctx, dir, kind, phase, append(env, cpuprof.EnvDir+"="+pdir))
			if err != nil {
				return nil, err
			}
			pp := ProfilePhase{Wall: s.Wall}
			pp.Files, _ = filepath.Glob(filepath.Join(pdir, "cpu-*.pprof"))
			pp.Processes = len(pp.Files)
			cpus, _ := filepath.Glob(filepath.Join(pdir, "cpu-*.txt"))
			for _, c := range cpus {
				b, _ := os.ReadFile(c)
				ns, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
				pp.ProviderCPU += time.Duration(ns)
			}
			r.o.Logf("profile %-8s n=%d %-20s %6.2fs provider cpu %.2fs in %d processes",
				kind, n, phase, s.Wall.Seconds(), pp.ProviderCPU.Seconds(), pp.Processes)
			p.Kinds[kind][phase] = pp
		}
	}
	return p, nil
}
