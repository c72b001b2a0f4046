package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
		" azure_ai | 1.3.1",
		"==> second plan empty",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
}
