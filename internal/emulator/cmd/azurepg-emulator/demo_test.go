package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/docblocks"
	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestMakeDemo runs what `make demo` runs (build, start this command, apply
// examples/demo, second plan empty, stop), so that CI proves the README's
// first command works on a fresh machine, and compares its output with
// what the guide "Trying it offline with the emulator" shows.
func TestMakeDemo(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	want := pgtest.AzureAIVersion(t, demoPGMajor(t))
	cmd := exec.Command("bash", filepath.Join(root, "tools", "scripts", "demo.sh"))
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make demo failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), " azure_ai | "+want) { // examples/demo leaves the version to the server
		t.Errorf("the demo's output lacks azure_ai %s:\n%s", want, out)
	}
	// The guide shows the demo's output and what the emulator prints; its
	// blocks marked checked-by TestMakeDemo must be in the output, with
	// what changes at every start masked and azure_ai's version the server's.
	guide := filepath.Join(root, "docs", "guides", "try-offline-with-emulator.md")
	page, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := docblocks.CheckedBy(string(page), "TestMakeDemo")
	if err != nil {
		t.Fatalf("%s: %v", guide, err)
	}
	outputs := 0
	for _, b := range blocks {
		if !b.IsOutput() {
			continue // the make demo command itself
		}
		outputs++
		expected := strings.ReplaceAll(b.Text, "azure_ai | 1.3.1", "azure_ai | "+want)
		if err := docblocks.Match(maskVolatile(expected), maskVolatile(string(out))); err != nil {
			t.Errorf("%s line %d does not match the demo's output: %v", guide, b.Line, err)
		}
	}
	if outputs != 2 {
		t.Errorf("%s has %d output blocks marked checked-by TestMakeDemo, want 2 (the demo's output, the emulator's)", guide, outputs)
	}
}

var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`"[^"]*"`), `"…"`},
	{regexp.MustCompile(`started in [0-9.]+[mµn]?s`), "started in …"},
	{regexp.MustCompile(`/tmp/azurepg-emulator-[0-9]+/`), "/tmp/azurepg-emulator-…/"},
}

// maskVolatile hides what changes at every start of the emulator: values
// in quotes (ports, the header, the password, directories), the startup
// time, the emulator's directory.
func maskVolatile(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.repl)
	}
	return s
}

// demoPGMajor is the major of the server the demo's emulator runs (the one
// PG_MAJOR names), from its postgres --version.
func demoPGMajor(t *testing.T) int {
	t.Helper()
	bin, err := emulator.ConfiguredPGBinDir()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", filepath.Join(bin, "postgres"), err)
	}
	m := regexp.MustCompile(`\(PostgreSQL\) (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no major version in postgres --version %q", out)
	}
	major, err := strconv.Atoi(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return major
}
