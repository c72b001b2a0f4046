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

func TestHCLQuoted(t *testing.T) {
	cases := map[string]string{
		"alice@contoso.com":        `"alice@contoso.com"`,
		"O'Brien's Team":           `"O'Brien's Team"`,
		`x"; DROP ROLE admin; --`:  `"x\"; DROP ROLE admin; --"`,
		"josé.núñez@contoso.com":   `"josé.núñez@contoso.com"`,
		`back\slash`:               `"back\\slash"`,
		"${var.x} and %{ if } $ %": `"$${var.x} and %%{ if } $ %"`,
		"tab\tand\nnewline\x01":    `"tab\tand\nnewline\u0001"`,
	}
	for in, want := range cases {
		if got := hclQuoted(in); got != want {
			t.Errorf("hclQuoted(%q) = %s, want %s", in, got, want)
		}
	}
}
