package provider_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/docblocks"
)

// hclBlock is one ```terraform or ```hcl fenced block of a docs page.
type hclBlock struct {
	Line int // line of the page where the block's first line of HCL is
	Text string
}

// hclBlocks returns the terraform / hcl fenced blocks of a Markdown page
// (a text block that a guide-test directive marks hcl is not one: guides show
// the configurations that TestGuidesApply applies before another as text).
func hclBlocks(page string) ([]hclBlock, error) {
	all, err := docblocks.Read(page)
	var blocks []hclBlock
	for _, b := range all {
		if b.Lang == "terraform" || b.Lang == "hcl" || b.Lang == "tf" {
			blocks = append(blocks, hclBlock{Line: b.Line, Text: b.Text})
		}
	}
	return blocks, err
}

// mustHaveExample says whether a docs page needs at least one HCL block.
func mustHaveExample(rel string) bool {
	if rel == "docs/index.md" {
		return true
	}
	for _, dir := range []string{"docs/resources/", "docs/data-sources/", "docs/ephemeral-resources/", "docs/guides/"} {
		if strings.HasPrefix(rel, dir) {
			return true
		}
	}
	return false
}

// docsPages lists the Markdown pages under root/docs, relative to root with
// forward slashes (docs/index.md, docs/guides/...).
func docsPages(t *testing.T, root string) []string {
	t.Helper()
	var pages []string
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			pages = append(pages, filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator))))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 10 {
		t.Fatalf("found only %d docs pages", len(pages))
	}
	return pages
}

// TestDocsValidate checks that every page under docs/ holds HCL that
// `terraform validate` accepts: all terraform / hcl fenced blocks of one page
// form one module (one file per block, named after the page line where the
// block starts), so a page must hold together as
// one configuration, with every reference declared on the page and no
// address declared twice. The other providers are schema-only stubs
// transcribed from their source (package stubproviders).
func TestDocsValidate(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the Terraform CLI: set TF_ACC=1 (make test does)")
	}
	root := filepath.Join("..", "..")
	pages := docsPages(t, root)
	acctest.ValidateProvidersDir(t) // build once, before the parallel subtests
	for _, rel := range pages {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := hclBlocks(string(src))
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			if len(blocks) == 0 {
				if mustHaveExample(rel) {
					t.Fatalf("%s has no ```terraform example: every resource, data source, ephemeral resource and guide page, and the provider page, needs one that terraform validate accepts", rel)
				}
				return
			}
			if problems := validatePage(t, rel, blocks); len(problems) > 0 {
				t.Fatalf("terraform validate of the HCL blocks of %s failed:\n%s", rel, strings.Join(problems, "\n"))
			}
		})
	}
}

// validatePage writes the blocks of one page as one module, validates it and
// returns what Terraform found wrong, each problem with its page line.
func validatePage(t *testing.T, rel string, blocks []hclBlock) []string {
	t.Helper()
	dir := t.TempDir()
	all := ""
	var index strings.Builder
	var names []string
	for i, b := range blocks {
		name := fmt.Sprintf("L%04d.tf", b.Line)
		if acctest.IsQueryHCL(b.Text) {
			name = fmt.Sprintf("L%04d.tfquery.hcl", b.Line) // list blocks live in query files
		}
		names = append(names, name)
		writeFile(t, filepath.Join(dir, name), b.Text)
		all += b.Text
		fmt.Fprintf(&index, "  %s: block %d of %d, from line %d of %s\n", name, i+1, len(blocks), b.Line, rel)
	}
	if !strings.Contains(all, "required_providers") {
		writeFile(t, filepath.Join(dir, "zz_versions.tf"), acctest.RequiredProvidersFor(all))
	}
	acctest.WriteValidateCLIConfig(t, dir)
	env, args := newerTerraformFor(t, rel, all)
	r := acctest.Terraform(t, dir, env, append([]string{"validate", "-no-color", "-json"}, args...)...)
	problems := validateProblems(r.Stdout, rel)
	if r.Err != nil && len(problems) == 0 {
		problems = append(problems, fmt.Sprintf("  terraform validate: %v\n%s", r.Err, r.Stderr))
	}
	// Blocks are also held to terraform fmt, as examples/ is by make docs-check.
	fmtArgs := []string{"fmt", "-check", "-diff", "-no-color"}
	for _, n := range names {
		if strings.HasSuffix(n, ".tf") { // terraform fmt refuses .tfquery.hcl files
			fmtArgs = append(fmtArgs, n)
		}
	}
	if f := acctest.Terraform(t, dir, env, fmtArgs...); len(fmtArgs) > 4 && f.Err != nil {
		problems = append(problems, fmt.Sprintf("  not formatted as terraform fmt would (the diff names the block's file):\n%s%s", f.Stdout, f.Stderr))
	}
	if len(problems) > 0 {
		problems = append(problems, "The page's blocks, one file each:\n"+index.String())
	}
	return problems
}

// newerTerraformFor picks the Terraform that validates hcl: blocks that only
// Terraform 1.12+ / 1.14+ understand (identity in import blocks; list and
// action blocks) are validated with Terraform 1.14 when it is the CLI under
// test or cached by tools/scripts/terraform-1.14.sh (as .ci/run does before
// make test), and skip with one line otherwise; validating them with 1.11
// would only report that 1.11 does not know them. It returns the
// environment for acctest.Terraform and extra validate arguments (-query
// for list blocks).
func newerTerraformFor(t *testing.T, what, hcl string) (env map[string]string, args []string) {
	t.Helper()
	min := acctest.MinTerraformFor(hcl)
	if min == "" {
		return nil, nil
	}
	tf := acctest.TerraformAtLeast(min)
	if tf == "" {
		t.Skipf("%s needs Terraform >= %s to validate, and none is available (tools/scripts/terraform-1.14.sh builds it)", what, min)
	}
	if acctest.IsQueryHCL(hcl) {
		args = []string{"-query"}
	}
	return map[string]string{"TF_ACC_TERRAFORM_PATH": tf}, args
}

// validateProblems turns the errors and warnings of `terraform validate
// -json` into lines that name the page line (warnings count: a deprecated
// argument in the docs is a docs bug too).
func validateProblems(stdout, page string) []string {
	var out struct {
		Valid       bool `json:"valid"`
		Diagnostics []struct {
			Severity, Summary, Detail string
			Range                     *struct {
				Filename string
				Start    struct{ Line int }
			}
			Snippet *struct{ Code string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		return []string{fmt.Sprintf("cannot read terraform validate -json output (%v):\n%s", err, stdout)}
	}
	var problems []string
	for _, d := range out.Diagnostics {
		if d.Summary == "Provider development overrides are in effect" {
			continue // how the test installs the providers
		}
		where := ""
		if d.Range != nil {
			where = d.Range.Filename
			var start int
			if _, err := fmt.Sscanf(d.Range.Filename, "L%04d.", &start); err == nil {
				where = fmt.Sprintf("%s line %d", page, start+d.Range.Start.Line-1)
			}
		}
		code := ""
		if d.Snippet != nil {
			code = "\n      " + strings.TrimSpace(d.Snippet.Code)
		}
		problems = append(problems, fmt.Sprintf("  %s: %s: %s%s\n      %s", where, d.Severity, d.Summary, code, strings.ReplaceAll(d.Detail, "\n", " ")))
	}
	if !out.Valid && len(problems) == 0 {
		problems = append(problems, "  invalid, without diagnostics:\n"+stdout)
	}
	return problems
}

// TestHCLBlocks checks the fence parser on the shapes the docs use.
func TestHCLBlocks(t *testing.T) {
	page := "# T\n\n```terraform\nresource \"a\" \"b\" {}\n```\n\n```shell\n```terraform\n```\n\n```hcl\nx = 1\ny = 2\n```\n"
	got, err := hclBlocks(page)
	if err != nil {
		t.Fatal(err)
	}
	want := []hclBlock{{Line: 4, Text: "resource \"a\" \"b\" {}\n"}, {Line: 12, Text: "x = 1\ny = 2\n"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hclBlocks = %+v, want %+v", got, want)
	}
	if _, err := hclBlocks("```terraform\nx = 1\n"); err == nil {
		t.Fatal("an unclosed block was not reported")
	}
}

// TestDocsValidateFindsMistakes shows that the docs test fails on the
// mistakes it is there for: a real page with one mistake each, in an azurerm
// block (checked by the stub's schema), in an azurepg block (the real
// schema), a value the stub's enumeration refuses, a reference to something
// the page does not declare, and a block that terraform fmt would change.
// Each must fail, at the right page line where Terraform gives one.
func TestDocsValidateFindsMistakes(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the Terraform CLI: set TF_ACC=1 (make test does)")
	}
	const rel = "docs/guides/azure-ai-managed-identity.md"
	src, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	page := string(src)
	lineOf := func(s string) int {
		before, _, _ := strings.Cut(page, s)
		return strings.Count(before, "\n") + 1
	}
	cases := []struct {
		name, old, new, want string
		noLine               bool // the problem names the block's file, not a line
	}{
		{"misspelt azurerm argument", "  server_id = azurerm_postgresql_flexible_server.main.id\n  value     = \"AZURE_AI,VECTOR\"",
			"  server_idd = azurerm_postgresql_flexible_server.main.id\n  value     = \"AZURE_AI,VECTOR\"", `An argument named "server_idd" is not expected here`, false},
		{"misspelt azurepg argument", "    scoring_endpoint = var.ml_scoring_uri", "    scoring_endpont = var.ml_scoring_uri",
			`An argument named "scoring_endpont" is not expected here`, false},
		{"azurerm value outside the enumeration", `principal_type       = "ServicePrincipal"`, `principal_type       = "ManagedIdentity"`,
			`value must be one of`, false},
		{"undeclared reference", "data.azurerm_cognitive_account.translator.id", "data.azurerm_cognitive_account.translater.id",
			`has not been declared`, false},
		{"not formatted", "  database = azurerm_postgresql_flexible_server_database.orders.name\n  name     = \"azure_ai\"",
			"  database = azurerm_postgresql_flexible_server_database.orders.name\n  name = \"azure_ai\"", "not formatted as terraform fmt would", true},
	}
	acctest.ValidateProvidersDir(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(page, c.old) {
				t.Fatalf("%s no longer contains %q: pick another line to break", rel, c.old)
			}
			broken := strings.Replace(page, c.old, c.new, 1)
			blocks, err := hclBlocks(broken)
			if err != nil {
				t.Fatal(err)
			}
			problems := strings.Join(validatePage(t, rel, blocks), "\n")
			where := fmt.Sprintf("%s line %d", rel, lineOf(c.old)) // the first occurrence is the one replaced
			if !strings.Contains(problems, c.want) || (!c.noLine && !strings.Contains(problems, where)) {
				t.Fatalf("want an error %q at %s, got:\n%s", c.want, where, problems)
			}
			t.Logf("found, as it should:\n%s", strings.SplitN(problems, "The page's blocks", 2)[0])
		})
	}
}
