package provider_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/docblocks"
)

// openTofuBlocks returns the ```opentofu fenced blocks of a Markdown page:
// HCL that only OpenTofu understands (a provider block with for_each), which
// TestDocsValidate leaves out since terraform validate refuses it.
func openTofuBlocks(t *testing.T, page string) []hclBlock {
	t.Helper()
	all, err := docblocks.Read(page)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []hclBlock
	for _, b := range all {
		if b.Lang == "opentofu" {
			blocks = append(blocks, hclBlock{Line: b.Line, Text: b.Text})
		}
	}
	return blocks
}

// openTofuPath is the OpenTofu CLI that tools/scripts/opentofu.sh caches
// (AZUREPG_TOFU_CACHE, or ~/.cache/opentofu-1.12.6), or tofu on PATH; ""
// when there is none.
func openTofuPath() string {
	dir := os.Getenv("AZUREPG_TOFU_CACHE")
	if dir == "" {
		dir = filepath.Join(os.Getenv("HOME"), ".cache", "opentofu-1.12.6")
	}
	if p := filepath.Join(dir, "tofu"); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath("tofu"); err == nil {
		return p
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// TestDocsOpenTofuBlocks runs `tofu validate` and `tofu fmt -check` on the
// ```opentofu blocks of every docs page, the blocks of one page as one
// module (as TestDocsValidate does with the terraform blocks), with the
// provider built from this tree. The guide "Many servers from one provider"
// has one, so the test never passes on nothing. It skips with one line when
// no OpenTofu is available (tools/scripts/opentofu.sh builds it).
func TestDocsOpenTofuBlocks(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the OpenTofu CLI: set TF_ACC=1 (make test does)")
	}
	root := filepath.Join("..", "..")
	var pages []string
	for _, rel := range docsPages(t, root) {
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		if len(openTofuBlocks(t, string(src))) > 0 {
			pages = append(pages, rel)
		}
	}
	if !slices.Contains(pages, "docs/guides/many-servers.md") {
		t.Fatalf("docs/guides/many-servers.md has no ```opentofu block (pages with one: %v)", pages)
	}
	tofu := openTofuPath()
	if tofu == "" {
		t.Skip("no OpenTofu CLI to validate the ```opentofu blocks with (tools/scripts/opentofu.sh builds it)")
	}
	bin := acctest.ProviderBinaryDir(t)
	for _, rel := range pages {
		t.Run(rel, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			all := ""
			var names []string
			for _, b := range openTofuBlocks(t, string(src)) {
				name := fmt.Sprintf("L%04d.tf", b.Line)
				names = append(names, name)
				writeFile(t, filepath.Join(dir, name), b.Text)
				all += b.Text
			}
			if !strings.Contains(all, "required_providers") {
				writeFile(t, filepath.Join(dir, "zz_versions.tf"), acctest.RequiredProvidersFor(all))
			}
			// Both registries: OpenTofu resolves azurepg/azurepg in its own.
			writeFile(t, filepath.Join(dir, ".terraformrc"), acctest.DevOverridesConfig(bin))
			env := map[string]string{"TF_ACC_TERRAFORM_PATH": tofu}
			r := acctest.Terraform(t, dir, env, "validate", "-no-color", "-json")
			problems := validateProblems(r.Stdout, rel)
			if r.Err != nil && len(problems) == 0 {
				problems = append(problems, fmt.Sprintf("  tofu validate: %v\n%s%s", r.Err, r.Stdout, r.Stderr))
			}
			if f := acctest.Terraform(t, dir, env, append([]string{"fmt", "-check", "-diff", "-no-color"}, names...)...); f.Err != nil {
				problems = append(problems, fmt.Sprintf("  not formatted as tofu fmt would:\n%s%s", f.Stdout, f.Stderr))
			}
			if len(problems) > 0 {
				t.Fatalf("OpenTofu (%s) on the ```opentofu blocks of %s:\n%s", tofu, rel, strings.Join(problems, "\n"))
			}
		})
	}
}
