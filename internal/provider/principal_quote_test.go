package provider

import (
	"os/exec"
	"testing"
)

var hostileNames = []string{
	"alice@contoso.com", "DBA Team", "O'Brien's Team", `x"; DROP ROLE admin; --`, "josé.núñez@contoso.com",
	`back\slash`, "${var.x} and %{ if }", "tab\tand\nnewline", "'", "''", `'"'"'`,
}

// The shell hint must give the shell back the name exactly.
func TestShellSingleQuoted(t *testing.T) {
	for _, name := range hostileNames {
		out, err := exec.Command("sh", "-c", "printf %s "+shellSingleQuoted(name)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != name {
			t.Errorf("%q: the shell read %q", name, out)
		}
	}
}
