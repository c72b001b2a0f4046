package provider_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// otherProviders matches resources of providers that cannot be installed
// offline (no registry here). Examples that use them are checked by
// terraform fmt only; every docs page also has an example without them.
var otherProviders = regexp.MustCompile(`(?m)^\s*(resource|data|ephemeral|provider)\s+"(azurerm|azapi|postgresql)`)

// TestExamplesValidate runs `terraform validate` on every example file (each
// on its own, with the provider installed through dev_overrides), so that the
// HCL in the docs is HCL that Terraform accepts against the real schema.
func TestExamplesValidate(t *testing.T) {
	acctest.Emulator(t)
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*", "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"provider", "demo"} {
		more, _ := filepath.Glob(filepath.Join("..", "..", "examples", dir, "*.tf"))
		files = append(files, more...)
	}
	validated, skipped := 0, []string{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(filepath.ToSlash(f), "../../")
		if otherProviders.Match(src) {
			skipped = append(skipped, rel)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			dir := t.TempDir()
			hcl := string(src)
			if !strings.Contains(hcl, "required_providers") {
				hcl = providerRequirements + hcl
			}
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(hcl), 0o600); err != nil {
				t.Fatal(err)
			}
			r := acctest.Terraform(t, dir, nil, "validate", "-no-color")
			if r.Err != nil {
				t.Fatalf("terraform validate %s: %v\n%s%s", rel, r.Err, r.Stdout, r.Stderr)
			}
		})
		validated++
	}
	if validated < 15 {
		t.Errorf("only %d example files validated", validated)
	}
	t.Logf("validated %d example files; %d use azurerm/azapi/postgresql and are not validated offline: %v", validated, len(skipped), skipped)
}
