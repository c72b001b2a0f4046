package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestMakeDemo runs what `make demo` runs (build, start this command, apply
// examples/demo, second plan empty, stop), so that CI proves the README's
// first command works on a fresh machine.
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
	for _, want := range []string{
		"Apply complete! Resources: 14 added, 0 changed, 0 destroyed.",
		" customers      | INSERT, SELECT, UPDATE",
		" INSERT, SELECT, UPDATE\n(1 row)", // sales.refunds, made after the apply
		" josé.núñez@contoso.com | user    |     0 |   1",
		" azure_ai | " + want, // examples/demo leaves the version to the server
		"==> second plan empty",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
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
