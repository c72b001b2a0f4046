package acctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/stubproviders"
)

// Offline `terraform validate` of configurations that use this provider
// together with azurerm, cyrilgdn/postgresql or azapi: the real azurepg
// binary and schema-only stubs of the others (package stubproviders), all
// installed through dev_overrides.

var (
	stubOnce sync.Once
	stubDir  string
	stubErr  error
)

// ValidateProvidersDir builds the stub providers (once per test binary) and
// returns a directory holding terraform-provider-azurepg (the real one) and
// terraform-provider-<name> for every stub.
func ValidateProvidersDir(t testing.TB) string {
	t.Helper()
	azurepg := filepath.Join(ProviderBinaryDir(t), "terraform-provider-azurepg")
	stubOnce.Do(func() {
		dir, err := os.MkdirTemp("", "azurepg-validate-providers-")
		if err != nil {
			stubErr = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		stub := filepath.Join(dir, "terraform-provider-stub")
		cmd := exec.Command("go", "build", "-o", stub, "./internal/acctest/stubproviders/cmd/terraform-provider-stub")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			stubErr = fmt.Errorf("go build of the stub providers: %w\n%s", err, out)
			return
		}
		// The stub picks the provider it serves from the name it runs as.
		for name := range stubproviders.Providers() {
			if err := os.Symlink(stub, filepath.Join(dir, "terraform-provider-"+name)); err != nil {
				stubErr = err
				return
			}
		}
		if err := os.Symlink(azurepg, filepath.Join(dir, "terraform-provider-azurepg")); err != nil {
			stubErr = err
			return
		}
		stubDir = dir
	})
	if stubErr != nil {
		t.Fatal(stubErr)
	}
	return stubDir
}

// WriteValidateCLIConfig writes dir/.terraformrc with dev_overrides for this
// provider and every stub, so that Terraform(t, dir, ...) uses them.
func WriteValidateCLIConfig(t testing.TB, dir string) {
	t.Helper()
	bin := ValidateProvidersDir(t)
	var b strings.Builder
	b.WriteString("provider_installation {\n  dev_overrides {\n")
	sources := []string{"azurepg/azurepg"}
	for _, p := range sortedStubs() {
		sources = append(sources, strings.TrimPrefix(p.Source, "registry.terraform.io/"))
	}
	b.WriteString(devOverrides(sources, bin))
	b.WriteString("  }\n  direct {}\n}\n")
	if err := os.WriteFile(filepath.Join(dir, ".terraformrc"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sortedStubs() []stubproviders.Provider {
	var out []stubproviders.Provider
	for _, p := range stubproviders.Providers() {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TypeName < out[j].TypeName })
	return out
}

var usesProvider = regexp.MustCompile(`(?m)^\s*(?:resource|data|ephemeral|provider)\s+"([a-z0-9]+)[_"]`)

// RequiredProvidersFor returns a terraform block that requires this provider
// and every stubbed provider the HCL uses (by the type prefixes of its
// resources, data sources, ephemeral resources and provider blocks), for
// HCL that has no required_providers of its own, as the registry's example
// snippets usually do not.
func RequiredProvidersFor(hcl string) string {
	used := map[string]bool{"azurepg": true}
	for _, m := range usesProvider.FindAllStringSubmatch(hcl, -1) {
		used[m[1]] = true
	}
	var b strings.Builder
	b.WriteString("terraform {\n  required_providers {\n    azurepg = { source = \"azurepg/azurepg\" }\n")
	for _, p := range sortedStubs() {
		if used[p.TypeName] {
			fmt.Fprintf(&b, "    %s = { source = %q }\n", p.TypeName, strings.TrimPrefix(p.Source, "registry.terraform.io/"))
		}
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// removeBuiltBinaries deletes the binaries that ProviderBinaryDir and
// ValidateProvidersDir built for this test binary (60 MB a run otherwise
// left in the temp directory). Main calls it after the tests.
func removeBuiltBinaries() {
	for _, dir := range []string{stubDir, builtDir} {
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
	}
}
