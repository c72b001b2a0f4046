// Command bench runs the azurepg benchmark (see package bench) and writes
// its report under -out (default .bench at the repository's root, which git
// ignores): README.md (tables), summary.md (the short form), chart.svg,
// results.json and the providers' CPU profiles. `make bench` runs it. The
// targets the report checks are flags (-target-...).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/bench"
)

func main() {
	counts := flag.String("n", "100,500,2000", "numbers of resources, comma-separated")
	reps := flag.Int("reps", 1, "repetitions of each configuration and N (3 took 35 min on a busy 2-core machine, over the 20-minute budget)")
	kinds := flag.String("kinds", strings.Join(bench.AllKinds(), ","), "configurations to run")
	dimCounts := map[string]*string{}
	for _, d := range bench.Dimensions {
		dimCounts[d.Name] = flag.String(d.Name+"-n", "500", "numbers of "+d.Resource+" resources of the "+d.Name+" dimension (kinds "+
			strings.Join(d.Kinds(), ", ")+"), comma-separated")
	}
	out := flag.String("out", ".bench", "where to write the report (relative to the repository's root; .bench is ignored by git)")
	profile := flag.Bool("profile", true, "add a pass with a CPU-profiled provider build")
	profileN := flag.Int("profile-n", 500, "resources in the profiling pass")
	profileOnly := flag.Bool("profile-only", false, "only the profiling pass (no timed runs, no tables)")
	keep := flag.Bool("keep", false, "keep the work directory (states, terraform output)")
	budget := flag.Duration("budget", 20*time.Minute, "warn when the run takes longer")
	rtt := flag.Duration("rtt", bench.DefaultRTT, "round-trip time the azurepg_rtt configuration adds (the network dimension)")
	tokenRTT := flag.Duration("token-rtt", 0, "round-trip time between the *_rtt configurations and the identity endpoint (0: none, as on loopback); "+
		"a token request costs one (the proxy does not delay TCP's handshake): 300ms stands for Entra 100 ms away (TCP, TLS, the request)")
	setOnly := flag.Bool("grants-set-only", false, "the Entra admin holds the grant tables' owner with SET and not INHERIT, and grants as the owner by SET ROLE (as with the roles it creates on PostgreSQL 16+; needs PG_MAJOR=17 or 18)")
	extraEnv := flag.String("env", "", "KEY=VALUE,... added to every terraform command's environment")
	commit := flag.String("commit", "", "build the providers from this commit (git archive) instead of the working tree")
	deadline := flag.String("deadline", "", "HH:MM (UTC): start nothing after it, report what ran")
	render := flag.String("render", "", "only write README.md, summary.md and chart.svg again from this results.json (with its targets, and any -target-... flag given)")
	limits := bench.DefaultLimits()
	targetFlags(flag.CommandLine, &limits)
	flag.Parse()
	if *render != "" {
		if err := rerender(*render, *out); err != nil {
			log.Fatal(err)
		}
		return
	}
	var stopAt time.Time
	if *deadline != "" {
		t, err := time.Parse("15:04", *deadline)
		if err != nil {
			log.Fatalf("-deadline: %v", err)
		}
		now := time.Now().UTC()
		stopAt = time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	}
	opts := bench.Options{Reps: *reps, Profile: *profile, ProfileOnly: *profileOnly, ProfileN: *profileN, Keep: *keep, Deadline: stopAt,
		RTT: *rtt, TokenRTT: *tokenRTT, GrantsSetOnly: *setOnly, Env: splitEnv(*extraEnv), Limits: &limits}
	if err := run(opts, *counts, dimCounts, *kinds, *out, *budget, *commit); err != nil {
		log.Fatal(err)
	}
}

// targetFlags defines the -target-... flags on fs, each bound to a field of l
// (whose values are the defaults).
func targetFlags(fs *flag.FlagSet, l *bench.Limits) {
	fs.IntVar(&l.N, "target-n", l.N, "N of the ratio targets at 0 ms (azurepg over noop)")
	fs.Float64Var(&l.Plan, "target-plan", l.Plan, "target: refresh plan of -target-n principals ≤ this × noop")
	fs.Float64Var(&l.PlanNoRefresh, "target-plan-no-refresh", l.PlanNoRefresh, "target: plan -refresh=false of -target-n principals ≤ this × noop")
	fs.Float64Var(&l.Apply, "target-apply", l.Apply, "target: apply of -target-n principals ≤ this × noop")
	fs.Float64Var(&l.Destroy, "target-destroy", l.Destroy, "target: destroy of -target-n principals ≤ this × noop")
	fs.IntVar(&l.ScaleN, "target-scale-n", l.ScaleN, "N whose cost per resource is compared with that at -target-n")
	fs.Float64Var(&l.Scale, "target-scale", l.Scale, "target: cost per resource at -target-scale-n ≤ this × at -target-n, each phase")
	fs.IntVar(&l.ExtraConnections, "target-extra-connections", l.ExtraConnections, "target: connections opened per command ≤ max_connections + this")
	fs.IntVar(&l.Tokens, "target-tokens", l.Tokens, "target: token requests per command ≤ this")
	fs.Float64Var(&l.StatementsPerRead, "target-statements-per-read", l.StatementsPerRead, "target: statements per resource of a refresh plan (principals and grants, pgxpool pings aside) ≤ this")
	fs.Var((*intList)(&l.RTTCounts), "target-rtt-n", "N of the targets over the latency proxy (azurepg_rtt over noop), comma-separated")
	fs.Float64Var(&l.RTTPlan, "target-rtt-plan", l.RTTPlan, "target: refresh plan at -rtt ≤ this × noop")
	fs.Float64Var(&l.RTTApply, "target-rtt-apply", l.RTTApply, "target: apply at -rtt ≤ this × noop")
	fs.Float64Var(&l.RTTDestroy, "target-rtt-destroy", l.RTTDestroy, "target: destroy at -rtt ≤ this × noop")
	fs.IntVar(&l.RefreshPer, "target-refresh-per", l.RefreshPer, "target: statements of a refresh plan ≤ N / this + -target-refresh-slack (0: no such target)")
	fs.IntVar(&l.RefreshSlack, "target-refresh-slack", l.RefreshSlack, "see -target-refresh-per")
	fs.Float64Var(&l.GrantRTTApply, "target-grant-rtt-apply", l.GrantRTTApply, "target: apply of the grants dimension at -rtt ≤ this × noop_grant (0: no such target)")
}

// intList is a flag of comma-separated positive numbers.
type intList []int

func (l *intList) String() string {
	if l == nil {
		return ""
	}
	s := make([]string, len(*l))
	for i, n := range *l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	counts, err := parseCounts("list", v)
	if err != nil {
		return err
	}
	*l = counts
	return nil
}

// run completes opts (what the flags do not say: where to build from, the
// counts, the kinds, the report's hooks) and runs the benchmark.
func run(opts bench.Options, countList string, dimCountLists map[string]*string, kindList, out string, budget time.Duration, commit string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	counts, err := parseCounts("-n", countList)
	if err != nil {
		return err
	}
	dimCounts := map[string][]int{}
	for name, list := range dimCountLists {
		if dimCounts[name], err = parseCounts("-"+name+"-n", *list); err != nil {
			return err
		}
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// With -commit, build from a snapshot of that commit: other work in the
	// tree (committed or not) does not leak into the numbers.
	buildRoot, label := root, ""
	if commit != "" {
		snap, err := os.MkdirTemp("", "azurepg-bench-src-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(snap)
		cmd := exec.CommandContext(ctx, "bash", "-c", `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, "bash", root, commit, snap)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git archive %s: %w\n%s", commit, err, b)
		}
		b, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", commit).Output()
		if err != nil {
			return fmt.Errorf("git rev-parse %s: %w", commit, err)
		}
		buildRoot, label = snap, strings.TrimSpace(string(b))
	}
	profDir, err := os.MkdirTemp("", "azurepg-bench-profiles-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profDir)

	tops := map[string]string{}
	write := func(res *bench.Result) error {
		js, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		files := map[string][]byte{
			"results.json": append(js, '\n'),
			"README.md":    []byte(res.Markdown(tops)),
			"summary.md":   []byte(res.Summary()),
			"chart.svg":    []byte(res.SVG()),
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	profiled := false
	opts.RepoRoot, opts.Commit, opts.Counts, opts.Kinds, opts.ProfileDir = buildRoot, label, counts, strings.Split(kindList, ","), profDir
	opts.GrantCounts, opts.RoleCounts = dimCounts[bench.DimGrants.Name], dimCounts[bench.DimRoles.Name]
	opts.MembershipCounts = dimCounts[bench.DimMemberships.Name]
	opts.Logf = func(format string, args ...any) { log.Printf(format, args...) }
	// After each configuration: write the report so far, so that an interrupted run leaves its numbers.
	opts.Progress = func(res *bench.Result) {
		if !profiled && res.Profile != nil {
			profiled = true
			writeProfiles(ctx, out, res.Profile, tops)
		}
		if err := write(res); err != nil {
			log.Printf("writing the report so far: %v", err)
		}
	}
	res, err := bench.Run(ctx, opts)
	if err != nil {
		return err
	}
	if !profiled && res.Profile != nil {
		writeProfiles(ctx, out, res.Profile, tops)
	}
	if opts.ProfileOnly {
		m := res.Machine
		head := fmt.Sprintf("# Benchmark: CPU profiles of the providers\n\nGenerated by `go run ./cmd/bench -profile-only -profile-n %d` (in `bench/`) at %s UTC "+
			"(commit `%s`; %s, %d cores shared with other jobs, load average %.2f at start, %.2f at end); do not edit by hand. "+
			"Tables of the timed runs: [README.md](README.md).\n",
			res.Profile.N, res.Started.Format("2006-01-02 15:04"), m.Commit, m.CPU, m.Cores, m.LoadStart[0], m.LoadEnd[0])
		return os.WriteFile(filepath.Join(out, "profile.md"), []byte(head+res.ProfileMarkdown(tops)), 0o644)
	}
	if err := write(res); err != nil {
		return err
	}
	log.Printf("wrote %s in %s", out, res.Elapsed.Round(time.Second))
	for _, t := range res.Targets() {
		state := "not measured"
		if t.Known {
			state = map[bool]string{true: "met", false: "NOT met"}[t.Met]
		}
		log.Printf("target %-60s %-12s %s", t.What, state, t.Measured)
	}
	if res.Elapsed > budget {
		log.Printf("warning: the run took %s, over the %s budget", res.Elapsed.Round(time.Second), budget)
	}
	return nil
}

// writeProfiles writes each configuration's and phase's merged profile
// and fills tops with azurepg's top functions by phase.
func writeProfiles(ctx context.Context, out string, p *bench.Profile, tops map[string]string) {
	for kind, phases := range p.Kinds {
		for phase, pp := range phases {
			top, err := writeProfile(ctx, filepath.Join(out, bench.ProfileName(kind, phase)), kind+", "+phase, p.Binaries[kind], pp.Files)
			if err != nil {
				log.Printf("profile of %s, %s: %v", kind, phase, err)
				continue
			}
			if kind == bench.KindAzurepg {
				tops[phase] = top
			}
		}
	}
}

// writeProfile merges a phase's profiles (one per provider process) into
// <stem>.pb.gz, writes the top functions (flat and cumulative) to
// <stem>.txt, and returns the first lines of the cumulative list.
func writeProfile(ctx context.Context, stem, phase, binary string, files []string) (string, error) {
	if len(files) == 0 {
		return "", errors.New("no profile was written (did the provider exit before stopping its profile?)")
	}
	merged := stem + ".pb.gz"
	args := append([]string{"tool", "pprof", "-proto", "-output", merged, binary}, files...)
	if b, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go tool pprof -proto: %w\n%s", err, b)
	}
	flat, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=40", merged).Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof -top: %w", err)
	}
	cum, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=40", merged).Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof -top -cum: %w", err)
	}
	text := fmt.Sprintf("# %s: provider CPU profile, flat\n%s\n# %s: cumulative\n%s", phase, flat, phase, cum)
	if err := os.WriteFile(stem+".txt", []byte(text), 0o644); err != nil {
		return "", err
	}
	lines := strings.Split(string(cum), "\n")
	// Drop pprof's header lines (File, Type, Time, Duration) and keep the totals line and 25 rows.
	for len(lines) > 0 && !strings.HasPrefix(lines[0], "Showing nodes") {
		lines = lines[1:]
	}
	if len(lines) > 28 {
		lines = lines[:28]
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// rerender writes README.md, summary.md and chart.svg from a results.json
// (after a change to the report, without running the benchmark again). The
// targets are those of the run (DefaultLimits for a results.json that has
// none), changed by any -target-... flag on the command line. The profile
// section, if any, keeps no top functions.
func rerender(results, out string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(results)
	if err != nil {
		return err
	}
	var res bench.Result
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", results, err)
	}
	limits := bench.DefaultLimits()
	if res.Limits != nil {
		limits = *res.Limits
	}
	given := flag.NewFlagSet("targets", flag.ContinueOnError)
	targetFlags(given, &limits)
	var setErr error
	flag.Visit(func(f *flag.Flag) {
		if given.Lookup(f.Name) != nil && setErr == nil {
			setErr = given.Set(f.Name, f.Value.String())
		}
	})
	if setErr != nil {
		return setErr
	}
	res.Limits = &limits
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	files := map[string]string{"README.md": res.Markdown(nil), "summary.md": res.Summary(), "chart.svg": res.SVG()}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(out, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	log.Printf("wrote README.md, summary.md and chart.svg in %s", out)
	return nil
}

func parseCounts(flagName, list string) ([]int, error) {
	var counts []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flagName, s)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

func splitEnv(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// providerModule is the module path of the provider the benchmark measures.
const providerModule = "github.com/azurepg/terraform-provider-azurepg"

// repoRoot is the repository's root: the nearest directory at or above the
// working directory whose go.mod is the provider's (bench/ has its own).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == providerModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run the benchmark inside the repository (no go.mod of %s found above the working directory)", providerModule)
		}
		dir = parent
	}
}

// modulePath is the path a go.mod's module directive names.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
