package provider_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// TestExamplesValidate runs `terraform validate` on every example file, each
// on its own, against this provider's real schema and schema-only stubs of
// azurerm, cyrilgdn/postgresql and azapi (acctest.ValidateProvidersDir): none
// is skipped, so an example may only refer to what it declares. The files of
// one guide (examples/guides/<guide>/) are parts of one page: each such
// directory is validated as one module. Warnings (a deprecated argument)
// fail too.
func TestExamplesValidate(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the Terraform CLI: set TF_ACC=1 (make test does)")
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*", "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	queries, _ := filepath.Glob(filepath.Join("..", "..", "examples", "list-resources", "*", "*.tfquery.hcl"))
	files = append(files, queries...)
	for _, dir := range []string{"provider", "demo"} {
		more, _ := filepath.Glob(filepath.Join("..", "..", "examples", dir, "*.tf"))
		files = append(files, more...)
	}
	if len(files) < 20 {
		t.Fatalf("found only %d example files", len(files))
	}
	units := map[string][]string{} // what to validate together, by name
	for _, f := range files {
		rel := strings.TrimPrefix(filepath.ToSlash(f), "../../")
		if strings.HasPrefix(rel, "examples/guides/") {
			rel = filepath.ToSlash(filepath.Dir(rel)) + "/"
		}
		units[rel] = append(units[rel], f)
	}
	acctest.ValidateProvidersDir(t) // build once, before the parallel subtests
	for name, unit := range units {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			all := ""
			for _, f := range unit {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, filepath.Base(f)), string(src))
				all += string(src)
			}
			if !strings.Contains(all, "required_providers") {
				writeFile(t, filepath.Join(dir, "zz_versions.tf"), acctest.RequiredProvidersFor(all))
			}
			acctest.WriteValidateCLIConfig(t, dir)
			env, args := newerTerraformFor(t, name, all)
			r := acctest.Terraform(t, dir, env, append([]string{"validate", "-no-color", "-json"}, args...)...)
			if problems := validateProblems(r.Stdout, name); r.Err != nil || len(problems) > 0 {
				t.Fatalf("terraform validate %s (%v):\n%s\n%s", name, r.Err, strings.Join(problems, "\n"), r.Stderr)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
