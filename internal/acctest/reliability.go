package acctest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
)

// pgtest's helpers for tests that make a fault's condition happen, or wait
// for it, before they judge.
var (
	WaitFor         = pgtest.WaitFor
	SleepUntil      = pgtest.SleepUntil
	HoldTransaction = pgtest.HoldTransaction
	HoldCatalogLock = pgtest.HoldCatalogLock
)

// WaitDeadline bounds every wait for a condition (pgtest.WaitDeadline).
const WaitDeadline = pgtest.WaitDeadline

// ProviderApplicationPrefix is how the provider names its connections in
// pg_stat_activity (application_name), for tests that kill them.
const ProviderApplicationPrefix = "terraform-provider-azurepg"

// Workdir is a Terraform working directory driven with the real CLI and the
// provider built as its own process (dev_overrides), every command logged at
// TRACE into a file of its own: what a user runs, faults included, with
// everything that Terraform writes kept for secret checks.
type Workdir struct {
	t   testing.TB
	Dir string
	Env map[string]string
	// Timeout is how long one command may run before it is killed (default
	// 5 minutes, as Terraform's).
	Timeout time.Duration

	mu   sync.Mutex
	runs int
	out  []string // stdout and stderr of every command
}

// NewWorkdir makes a working directory with config as main.tf.
func NewWorkdir(t testing.TB, config string, env map[string]string) *Workdir {
	t.Helper()
	w := &Workdir{t: t, Dir: t.TempDir(), Env: env}
	w.SetConfig(config)
	return w
}

// SetConfig replaces main.tf.
func (w *Workdir) SetConfig(config string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(config), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// Run runs one terraform command (safe from several goroutines, but each
// Workdir runs one command at a time, as Terraform's lock would demand).
func (w *Workdir) Run(args ...string) CLIResult {
	w.t.Helper()
	w.mu.Lock()
	w.runs++
	n := w.runs
	w.mu.Unlock()
	env := map[string]string{"TF_LOG": "TRACE", "TF_LOG_PATH": filepath.Join(w.Dir, fmt.Sprintf("trace-%02d-%s.log", n, args[0]))}
	for k, v := range w.Env {
		env[k] = v
	}
	limit := w.Timeout
	if limit == 0 {
		limit = 5 * time.Minute
	}
	r := TerraformWithin(w.t, limit, w.Dir, env, args...)
	w.mu.Lock()
	w.out = append(w.out, r.Stdout, r.Stderr)
	w.mu.Unlock()
	return r
}

// MustRun is Run that fails the test when the command fails.
func (w *Workdir) MustRun(args ...string) CLIResult {
	w.t.Helper()
	r := w.Run(args...)
	if r.Err != nil {
		w.t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r
}

// StateResource is one resource instance of `terraform show -json`.
type StateResource struct {
	Address string         `json:"address"`
	Type    string         `json:"type"`
	Values  map[string]any `json:"values"`
}

// State returns the resources in the state, by address.
func (w *Workdir) State() map[string]StateResource {
	w.t.Helper()
	r := w.MustRun("show", "-json")
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []StateResource `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if strings.TrimSpace(r.Stdout) == "" {
		return map[string]StateResource{}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		w.t.Fatalf("terraform show -json: %v\n%s", err, r.Stdout)
	}
	out := map[string]StateResource{}
	for _, res := range doc.Values.RootModule.Resources {
		out[res.Address] = res
	}
	return out
}

// PlanJSON saves a plan and returns `terraform show -json` of it.
func (w *Workdir) PlanJSON(args ...string) []byte {
	w.t.Helper()
	w.MustRun(append([]string{"plan", "-input=false", "-out=saved.tfplan"}, args...)...)
	r := w.MustRun("show", "-json", "saved.tfplan")
	if err := os.WriteFile(filepath.Join(w.Dir, "saved-plan.json"), []byte(r.Stdout), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return []byte(r.Stdout)
}

// CheckNoSecrets fails the test when any secret appears in anything the
// working directory holds: every TRACE log (Terraform's and the provider
// process's), every command's output and errors, the state and its backup,
// saved plans and their JSON. The logs must exist and not be trivially
// small, so that a run that logged nothing cannot pass.
func (w *Workdir) CheckNoSecrets(secrets map[string]string) {
	w.t.Helper()
	if len(secrets) == 0 {
		w.t.Fatal("CheckNoSecrets: no secrets to look for")
	}
	for name, s := range secrets {
		if len(s) < 8 {
			w.t.Fatalf("CheckNoSecrets: the %s is %d bytes long: too short to search for without false matches", name, len(s))
		}
	}
	files, err := filepath.Glob(filepath.Join(w.Dir, "*"))
	if err != nil {
		w.t.Fatal(err)
	}
	sort.Strings(files)
	logs := 0
	for _, f := range files {
		base := filepath.Base(f)
		if base == "main.tf" || base == ".terraformrc" {
			continue // written by the test itself
		}
		st, err := os.Stat(f)
		if err != nil || st.IsDir() {
			continue
		}
		if strings.HasPrefix(base, "trace-") {
			logs++
			CheckNoSecretsInFile(w.t, f, 1000, secrets)
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, found := range FindSecrets(base, b, secrets) {
			w.t.Error(found)
		}
	}
	if logs == 0 {
		w.t.Fatal("CheckNoSecrets: no TRACE log in the working directory")
	}
	w.mu.Lock()
	out := strings.Join(w.out, "\n")
	w.mu.Unlock()
	for _, found := range FindSecrets("terraform's output", []byte(out), secrets) {
		w.t.Error(found)
	}
}

// Output is everything the commands printed so far (for error checks).
func (w *Workdir) Output() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.out, "\n")
}

// RequiredProviders names the provider's source address, which a Workdir's
// configuration needs (the in-process tests do without it).
const RequiredProviders = `terraform {
  required_providers {
    azurepg = { source = "azurepg/azurepg" }
  }
}
`

// LogsContain reports whether any TRACE log of the working directory
// contains s (e.g. to prove that the provider process's own logs are there).
func (w *Workdir) LogsContain(s string) bool {
	w.t.Helper()
	files, err := filepath.Glob(filepath.Join(w.Dir, "trace-*.log"))
	if err != nil {
		w.t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			w.t.Fatal(err)
		}
		if strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}
