package provider_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// The provider process turns the SDK's TRACE logging off when no TF_LOG*
// variable is set (internal/sdklog, called from main.go). These tests run
// the built binary through the real CLI: the in-process tests do not go
// through main.

// unsetLogEnv empties every TF_LOG* and TF_ACC_LOG* variable for the test
// (empty is unset for Terraform and for the provider), so that a developer's
// shell does not decide the outcome.
func unsetLogEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_LOG") || strings.HasPrefix(k, "TF_ACC_LOG") {
			t.Setenv(k, "")
		}
	}
}

// wrappedProviderDir is a dev_overrides directory whose
// terraform-provider-azurepg runs the built provider with its stderr (the
// log lines it sends to Terraform) appended to a file, and, when cpuFile is
// not empty, appends the provider's CPU time (user and system, bash's
// `times`) to cpuFile when it exits. It writes the CLI configuration into
// dir, where acctest.Terraform picks it up.
func wrappedProviderDir(t *testing.T, dir, stderrFile, cpuFile string) {
	t.Helper()
	bin := filepath.Join(acctest.ProviderBinaryDir(t), "terraform-provider-azurepg")
	wrapDir := t.TempDir()
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	script := "#!/bin/bash\n"
	if stderrFile != "" {
		script += q(bin) + ` "$@" 2>>` + q(stderrFile) + "\n"
	} else {
		script += q(bin) + ` "$@"` + "\n"
	}
	script += "rc=$?\n"
	if cpuFile != "" {
		// Not in a pipeline: a subshell's `times` would not see the child.
		script += "times >> " + q(cpuFile) + "\n"
	}
	script += "exit $rc\n"
	if err := os.WriteFile(filepath.Join(wrapDir, "terraform-provider-azurepg"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	rc := acctest.DevOverridesConfig(wrapDir)
	if err := os.WriteFile(filepath.Join(dir, ".terraformrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
}

// sdkLines counts the SDK's log lines (protocol and framework subsystems,
// JSON with an @module of sdk.proto or sdk.framework) in a file.
func sdkLines(t *testing.T, file string) (proto, framework int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Count(s, `"@module":"sdk.proto"`), strings.Count(s, `"@module":"sdk.framework"`)
}

func mustTerraform(t *testing.T, dir string, env map[string]string, args ...string) acctest.CLIResult {
	t.Helper()
	r := acctest.Terraform(t, dir, env, args...)
	if r.Err != nil {
		t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r
}

// TestSDKLogOnlyWhenAsked: with TF_LOG=trace the framework's and the
// protocol's TRACE lines reach Terraform's log as before; with no TF_LOG*
// variable the provider works (creates, reads and drops a principal) and
// sends no SDK line at all; with TF_LOG_SDK=trace alone (the old default) it
// sends them again, which shows that the count can fail.
func TestSDKLogOnlyWhenAsked(t *testing.T) {
	acctest.Emulator(t)
	unsetLogEnv(t)
	u := acctest.NewObject(t, "user", `sdklog o'q "x" é`)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{u.Name}.Sanitize()) })
	config := acctest.RequiredProviders + `
provider "azurepg" {}

resource "azurepg_principal" "p" {
  name = ` + strconv.Quote(u.Name) + `
}
`
	// 1. TF_LOG=trace: the SDK's lines are in Terraform's log.
	w := acctest.NewWorkdir(t, config, nil) // every command at TF_LOG=TRACE
	w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	for _, want := range []string{"@module=sdk.framework", "Calling provider defined Resource Create", "@module=sdk.proto", "Received request"} {
		if !w.LogsContain(want) {
			t.Errorf("with TF_LOG=trace, Terraform's log lacks %q", want)
		}
	}
	if !acctest.RoleExists(t, u.Name) {
		t.Fatal("the principal was not created")
	}
	w.MustRun("destroy", "-auto-approve", "-input=false", "-no-color")

	// 2. Nothing set: the provider works and writes no SDK line.
	quiet := t.TempDir()
	if err := os.WriteFile(filepath.Join(quiet, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr := filepath.Join(t.TempDir(), "provider-stderr.log")
	wrappedProviderDir(t, quiet, stderr, "")
	mustTerraform(t, quiet, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if !acctest.RoleExists(t, u.Name) {
		t.Fatal("with no TF_LOG, the principal was not created")
	}
	if r := acctest.Terraform(t, quiet, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color"); r.Err != nil {
		t.Fatalf("with no TF_LOG, the plan after apply is not empty (or failed): %v\n%s\n%s", r.Err, r.Stdout, r.Stderr)
	}
	proto, framework := sdkLines(t, stderr)
	t.Logf("no TF_LOG*: %d protocol and %d framework lines on the provider's stderr", proto, framework)
	if proto+framework != 0 {
		t.Errorf("with no TF_LOG*, the provider wrote %d protocol and %d framework log lines", proto, framework)
	}

	// 3. TF_LOG_SDK=trace alone: the user asked, the lines are back.
	mustTerraform(t, quiet, map[string]string{"TF_LOG_SDK": "trace"}, "destroy", "-auto-approve", "-input=false", "-no-color")
	if acctest.RoleExists(t, u.Name) {
		t.Fatal("the principal was not dropped")
	}
	proto, framework = sdkLines(t, stderr)
	t.Logf("TF_LOG_SDK=trace: %d protocol and %d framework lines on the provider's stderr", proto, framework)
	if proto == 0 || framework == 0 {
		t.Errorf("with TF_LOG_SDK=trace, the provider wrote %d protocol and %d framework log lines, want some of each", proto, framework)
	}
}

// TestSDKLogCost measures what the SDK's logging costs: a refresh plan of N
// principals through the real CLI, the same binary with the logging as it
// was (TF_LOG_SDK=trace, which is what the SDK does when nothing is set)
// and as it is now (nothing set), interleaved, the order alternating. It
// logs the CPU time of the provider processes and of terraform with them.
// A measurement, not a check: run it with AZUREPG_SDKLOG_BENCH=<N>
// (and AZUREPG_SDKLOG_REPS, default 4).
func TestSDKLogCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("AZUREPG_SDKLOG_BENCH"))
	if n < 1 {
		t.Skip("a measurement: set AZUREPG_SDKLOG_BENCH=<principals>")
	}
	reps := 4
	if s := os.Getenv("AZUREPG_SDKLOG_REPS"); s != "" {
		reps, _ = strconv.Atoi(s)
	}
	acctest.Emulator(t)
	unsetLogEnv(t)
	names := tenantObjects(t, "user", acctest.Name("sdklog-bench"), n)
	t.Cleanup(func() {
		for _, name := range names {
			acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		}
	})
	var b strings.Builder
	b.WriteString(acctest.RequiredProviders + "provider \"azurepg\" {}\n\nlocals {\n  names = [\n")
	for _, name := range names {
		fmt.Fprintf(&b, "    %s,\n", strconv.Quote(name))
	}
	b.WriteString("  ]\n}\n\nresource \"azurepg_principal\" \"p\" {\n  count = length(local.names)\n  name  = local.names[count.index]\n}\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cpuFile := filepath.Join(t.TempDir(), "provider-cpu.txt")
	wrappedProviderDir(t, dir, "", cpuFile)
	r := mustTerraform(t, dir, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	t.Logf("apply of %d principals: %s", n, r.Duration.Round(time.Millisecond))

	type sample struct{ wall, total, provider time.Duration }
	modes := []string{"SDK log on (TF_LOG_SDK=trace)", "SDK log off (nothing set)"}
	envs := []map[string]string{{"TF_LOG_SDK": "trace"}, nil}
	got := map[string][]sample{}
	for rep := 0; rep < reps; rep++ {
		for i := range modes {
			m := (i + rep) % 2
			before := providerCPU(t, cpuFile)
			wall, total := terraformCPU(t, dir, envs[m], "plan", "-detailed-exitcode", "-input=false", "-no-color")
			s := sample{wall: wall, total: total, provider: providerCPU(t, cpuFile) - before}
			got[modes[m]] = append(got[modes[m]], s)
			t.Logf("rep %d %-30s wall %6.2fs  terraform+provider CPU %6.2fs  provider CPU %6.2fs  load %s",
				rep+1, modes[m], s.wall.Seconds(), s.total.Seconds(), s.provider.Seconds(), load1())
		}
	}
	median := func(ss []sample, f func(sample) time.Duration) time.Duration {
		v := make([]time.Duration, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	on, off := got[modes[0]], got[modes[1]]
	for _, f := range []struct {
		name string
		get  func(sample) time.Duration
	}{{"wall", func(s sample) time.Duration { return s.wall }}, {"terraform+provider CPU", func(s sample) time.Duration { return s.total }},
		{"provider CPU", func(s sample) time.Duration { return s.provider }}} {
		a, b := median(on, f.get), median(off, f.get)
		t.Logf("median %-24s on %6.2fs  off %6.2fs  off/on %.2f", f.name, a.Seconds(), b.Seconds(), b.Seconds()/a.Seconds())
	}
}

// terraformCPU runs the CLI under test (acctest.TerraformPath) in dir (with the CLI configuration that
// wrappedProviderDir wrote there) and returns its wall time and the CPU time
// of terraform and the processes it waited for (the providers).
func terraformCPU(t *testing.T, dir string, env map[string]string, args ...string) (wall, cpu time.Duration) {
	t.Helper()
	cmd := exec.Command(acctest.TerraformPath(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+filepath.Join(dir, ".terraformrc"), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	began := time.Now()
	out, err := cmd.CombinedOutput()
	wall = time.Since(began)
	if err != nil {
		t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// providerCPU sums the CPU times that the wrapper appended to the file:
// bash's `times` prints the shell's user and system time, then its
// children's ("0m1.234s 0m0.123s"): the second line of each pair is the
// provider process.
func providerCPU(t *testing.T, file string) time.Duration {
	t.Helper()
	var sum time.Duration
	for i, line := range acctest.ReadLines(t, file) {
		if i%2 == 0 {
			continue // the wrapper shell itself
		}
		for _, f := range strings.Fields(line) {
			d, err := time.ParseDuration(f)
			if err != nil {
				t.Fatalf("provider CPU line %q: %v", line, err)
			}
			sum += d
		}
	}
	return sum
}

func load1() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
