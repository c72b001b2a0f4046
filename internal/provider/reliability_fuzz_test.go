package provider

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// The import hint puts a role name (any text an attacker may have chosen
// as an Entra display name) into a shell command and an HCL block that
// users paste. These fuzz targets check that each gives the name back
// exactly and runs nothing else. Seeds run as ordinary tests.

// shellUnquote reads a word made only of '...' runs and \' (the form
// shellSingleQuoted writes), as a POSIX shell would; ok is false for any
// other character outside quotes ($, `, ;, space ...).
func shellUnquote(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case s[i] == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 2
		case strings.HasPrefix(s[i:], `\'`):
			b.WriteByte('\'')
			i += 2
		default:
			return "", false
		}
	}
	return b.String(), true
}

func FuzzImportHintQuoting(f *testing.F) {
	for _, s := range hostileNames {
		f.Add(s)
	}
	for _, s := range []string{"", "${", "%{", "$${x}", "%%{x}", "\\${x}", `"`, `\`, "\x00", "\x7f", "\u2028", "é", "a\r\nb", "'\\''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, ok := shellUnquote(shellSingleQuoted(name)); !ok || got != name {
			t.Fatalf("shell: %q reads back as %q (%v)", shellSingleQuoted(name), got, ok)
		}
		if !utf8.ValidString(name) {
			return // Terraform strings are UTF-8; nothing else reaches the hint
		}
		lit := hclquote.String(name)
		expr, diags := hclsyntax.ParseExpression([]byte(lit), "hint.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("HCL: %s does not parse: %s", lit, diags.Error())
		}
		// No variables or functions: a template sequence would fail here.
		v, diags := expr.Value(&hcl.EvalContext{})
		if diags.HasErrors() {
			t.Fatalf("HCL: %s does not evaluate on its own: %s", lit, diags.Error())
		}
		// Terraform normalizes every string to NFC (as cty does), the
		// configuration's name included: compare in that form.
		if want := cty.StringVal(name).AsString(); v.Type() != cty.String || v.AsString() != want {
			t.Fatalf("HCL: %s is %#v, want %q", lit, v, want)
		}
		if vars := expr.Variables(); len(vars) != 0 {
			t.Fatalf("HCL: %s refers to variables", lit)
		}
	})
}

// FuzzExtensionImportID: an import ID is split at its last '/' so that a
// database name may hold '/'; every ID the provider writes reads back as
// the same database and extension, and any other input either fails or
// splits into parts that join back to it.
func FuzzExtensionImportID(f *testing.F) {
	for _, s := range []string{"orders/azure_ai", "app/db/vector", "/x", "x/", "/", "", "noslash", "a//b", `db "x"; --/pg_trgm`, "數據/é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		db, name, err := parseExtensionID(id)
		if err != nil {
			return
		}
		if db == "" || name == "" || strings.Contains(name, "/") || extensionID(db, name) != id {
			t.Fatalf("%q split into %q and %q", id, db, name)
		}
		// The other way round: any database and a name without '/'.
		if db2, name2, err := parseExtensionID(extensionID(id, name)); err != nil || db2 != id || name2 != name {
			t.Fatalf("extensionID(%q, %q) reads back as %q, %q, %v", id, name, db2, name2, err)
		}
	})
}
