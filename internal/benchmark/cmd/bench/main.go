// Command bench runs the azurepg benchmark (see package benchmark) and
// writes its report: README.md (tables), chart.svg, results.json and the
// provider's CPU profiles, under -out. `make bench` runs it.
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

	"github.com/azurepg/terraform-provider-azurepg/internal/benchmark"
)

func main() {
	counts := flag.String("n", "100,500,2000", "numbers of resources, comma-separated")
	reps := flag.Int("reps", 1, "repetitions of each configuration and N (3 took 35 min on a busy 2-core machine, over the 20-minute budget)")
	kinds := flag.String("kinds", strings.Join(append(benchmark.Kinds, benchmark.GrantKinds...), ","), "configurations to run")
	grantCounts := flag.String("grants-n", "500", "numbers of azurepg_grant resources of the grants dimension (kinds "+strings.Join(benchmark.GrantKinds, ", ")+"), comma-separated")
	out := flag.String("out", "benchmarks", "where to write the report")
	profile := flag.Bool("profile", true, "add a pass with a CPU-profiled provider build")
	profileN := flag.Int("profile-n", 500, "resources in the profiling pass")
	profileOnly := flag.Bool("profile-only", false, "only the profiling pass (no timed runs, no tables)")
	keep := flag.Bool("keep", false, "keep the work directory (states, terraform output)")
	budget := flag.Duration("budget", 20*time.Minute, "warn when the run takes longer")
	rtt := flag.Duration("rtt", benchmark.DefaultRTT, "round-trip time the azurepg_rtt configuration adds (the network dimension)")
	extraEnv := flag.String("env", "", "KEY=VALUE,... added to every terraform command's environment")
	commit := flag.String("commit", "", "build the providers from this commit (git archive) instead of the working tree")
	deadline := flag.String("deadline", "", "HH:MM (UTC): start nothing after it, report what ran")
	render := flag.String("render", "", "only write README.md and chart.svg again from this results.json")
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
	if err := run(*counts, *grantCounts, *reps, *kinds, *out, *profile, *profileOnly, *profileN, *keep, *budget, stopAt, *rtt, *extraEnv, *commit); err != nil {
		log.Fatal(err)
	}
}

func run(countList, grantCountList string, reps int, kindList, out string, profile, profileOnly bool, profileN int, keep bool, budget time.Duration, deadline time.Time, rtt time.Duration, extraEnv, commit string) error {
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
	grantCounts, err := parseCounts("-grants-n", grantCountList)
	if err != nil {
		return err
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
	write := func(res *benchmark.Result) error {
		js, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		files := map[string][]byte{
			"results.json": append(js, '\n'),
			"README.md":    []byte(res.Markdown(tops)),
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
	res, err := benchmark.Run(ctx, benchmark.Options{
		RepoRoot: buildRoot, Commit: label, Counts: counts, GrantCounts: grantCounts, Reps: reps, Kinds: strings.Split(kindList, ","),
		Profile: profile, ProfileOnly: profileOnly, ProfileN: profileN, ProfileDir: profDir, Keep: keep,
		Deadline: deadline, RTT: rtt, Env: splitEnv(extraEnv),
		Logf: func(format string, args ...any) { log.Printf(format, args...) },
		// After each configuration: write the report so far, so that an interrupted run leaves its numbers.
		Progress: func(res *benchmark.Result) {
			if !profiled && res.Profile != nil {
				profiled = true
				writeProfiles(ctx, out, res.Profile, tops)
			}
			if err := write(res); err != nil {
				log.Printf("writing the report so far: %v", err)
			}
		},
	})
	if err != nil {
		return err
	}
	if !profiled && res.Profile != nil {
		writeProfiles(ctx, out, res.Profile, tops)
	}
	if profileOnly {
		m := res.Machine
		head := fmt.Sprintf("# Benchmark: CPU profiles of the providers\n\nGenerated by `go run ./internal/benchmark/cmd/bench -profile-only -n %d` at %s UTC "+
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
func writeProfiles(ctx context.Context, out string, p *benchmark.Profile, tops map[string]string) {
	for kind, phases := range p.Kinds {
		for phase, pp := range phases {
			top, err := writeProfile(ctx, filepath.Join(out, benchmark.ProfileName(kind, phase)), kind+", "+phase, p.Binaries[kind], pp.Files)
			if err != nil {
				log.Printf("profile of %s, %s: %v", kind, phase, err)
				continue
			}
			if kind == benchmark.KindAzurepg {
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

// rerender writes README.md and chart.svg from a results.json (after a
// change to the report, without running the benchmark again). The profile
// section, if any, keeps no top functions.
func rerender(results, out string) error {
	b, err := os.ReadFile(results)
	if err != nil {
		return err
	}
	var res benchmark.Result
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", results, err)
	}
	if err := os.WriteFile(filepath.Join(out, "README.md"), []byte(res.Markdown(nil)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "chart.svg"), []byte(res.SVG()), 0o644)
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

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the benchmark inside the repository (no go.mod found)")
		}
		dir = parent
	}
}
