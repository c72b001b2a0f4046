package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/docblocks"
	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/stubproviders"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestGuidesApply follows every guide (docs/guides/*.md) as a reader would,
// against an emulator of its own: the HCL blocks of the page, in page order,
// make up a configuration that real Terraform plans and applies with the
// provider under test, a second plan must be empty, and every expected
// output the page shows (a plan, a file, a state, SQL output) is compared
// with what Terraform and the server say. A warning in a plan or an apply
// fails the test (a failed check block is one). TestDocsValidate keeps
// checking that all the blocks of a page validate as one module.
//
// Only the connection is adapted to the emulator, and the test logs each
// change: an Azure host (*.postgres.database.azure.com) becomes localhost,
// the port of a provider block or of PGPORT the emulator's, PGSSLROOTCERT
// = "system" the emulator's CA; a configuration without a provider
// "azurepg" block (pages that say "with your provider block") gets an
// empty one, which the emulator's environment (AZUREPG_HOST, PGPORT,
// IDENTITY_ENDPOINT, ...) completes, and a fragment of a configuration (no
// required_providers) gets the terraform block and the provider "azurerm"
// block that the rest of it would have. What a page says exists already
// (its databases, schemas, roles made by hand) is made by guideFixtures.
//
// How the page's blocks are used is said in HTML comments (invisible on
// the rendered page) on the lines before a fence, one or more directives
// separated by ";":
//
//	<!-- guide-test: skip REASON -->        the block is not run (an HCL block is not applied)
//	<!-- guide-test: stand-in REASON -->    the HCL block uses azurerm, azapi or cyrilgdn/postgresql:
//	                                        their resources live in the state only (the stubs of
//	                                        stubproviders as stand-ins, computed values from
//	                                        guideFixtures); the azurepg resources are real
//	<!-- guide-test: config NAME -->        the block starts (or goes back to) configuration NAME,
//	                                        a working directory and state of its own on the same
//	                                        server; blocks without it join the current one
//	<!-- guide-test: hcl -->                a text block that is HCL (a configuration shown as text)
//	<!-- guide-test: apply -->              apply the configuration after this block (and plan: empty)
//	<!-- guide-test: rename OLD NEW -->     the page tells the reader to refer to NEW where OLD was named
//	<!-- guide-test: run [COMMAND] -->      run the shell block (or, on another block, COMMAND)
//	                                        with bash in the configuration's directory
//	<!-- guide-test: sql [as ROLE] [in DATABASE] -->  run the SQL block with psql as admin (the
//	                                        Entra admin, default), pgadmin or superuser, in postgres
//	                                        by default
//	<!-- guide-test: expect WHAT -->        the block is the expected output of WHAT: plan (a plan
//	                                        of the configuration as it is, which is then applied),
//	                                        apply, file NAME, state ADDRESS (terraform state show),
//	                                        output NAME, run or sql (the block run last), or
//	                                        error of COMMAND (terraform COMMAND must fail; its
//	                                        output is compared white space aside, as Terraform
//	                                        wraps an error's detail)
//	<!-- guide-test: checked-by TEST ... --> another test runs or compares the block (TestMakeDemo:
//	                                        make demo and its output)
//
// A later block that declares an address again replaces the earlier one
// (the reader edits the file), and a moved or removed block takes the
// declaration of its `from` away. A configuration that guideFixtures
// gives HCL for starts from it (what the reader had before the page's steps). An expected output matches when its lines
// appear in the output in the same order and next to each other, trailing
// spaces aside; a line "..." stands for any number of lines. Every HCL
// block of another provider must say skip or stand-in, and every output
// block (text, console or no language) skip, expect or hcl; shell, SQL and
// YAML blocks without a directive are only listed as not run.
func TestGuidesApply(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the Terraform CLI against emulators: set TF_ACC=1 (make test does)")
	}
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "guides", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no guides under docs/guides: %v", err)
	}
	acctest.ValidateProvidersDir(t) // build the provider and the stubs once, before the parallel subtests
	// Settings of the developer's shell must not leak in (azidentity reads
	// AZURE_CLIENT_ID even when it is empty, so these are unset, not emptied).
	for _, k := range []string{"PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE", "AZURE_CLIENT_ID", "AZURE_TENANT_ID",
		"ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_USE_OIDC", "AZUREPG_ACCESS_TOKEN", "ARM_ENVIRONMENT", "TF_CLI_ARGS", "TF_LOG"} {
		os.Unsetenv(k)
	}
	for _, file := range pages {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".md"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			blocks, err := docblocks.Read(string(src))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			p := newGuidePage(t, "docs/guides/"+name, guideFixtures[name])
			for _, b := range blocks {
				p.step(b)
			}
			p.finishAll()
			p.summary()
		})
	}
}

// otherProvider finds blocks of the providers that only have stand-ins here.
var otherProvider = regexp.MustCompile(`(?m)^\s*(?:resource|data|provider)\s+"(azurerm|azapi|postgresql)[_"]`)

// guidePage is one guide being followed: its emulator, its configurations,
// and what was run, adapted or skipped, for the summary.
type guidePage struct {
	t        *testing.T
	rel      string
	e        *emulator.Emulator
	fixture  guideFixture
	env      map[string]string
	configs  map[string]*guideConfig
	cur      *guideConfig
	lastOut  string // output of the last run or sql block
	lastWhat string
	notes    []string
	checked  int
}

// guideConfig is one configuration of a page: a working directory with a
// file per block (L0068.tf for the block at line 68).
type guideConfig struct {
	name, dir string
	files     []*guideFile
	pending   bool // changed since the last apply
	env       map[string]string
	cannot    string // why this configuration cannot run here (a Terraform too old)
}

type guideFile struct {
	name string
	f    *hclwrite.File
}

func newGuidePage(t *testing.T, rel string, fx guideFixture) *guidePage {
	t.Helper()
	e := startEmulator(t, rel)
	p := &guidePage{t: t, rel: rel, e: e, fixture: fx, configs: map[string]*guideConfig{}}
	p.env = e.Env() // it overrides what the package's shared emulator put in the environment
	values := stubproviders.StandInValues{}
	if fx.standIn != nil {
		values = fx.standIn(e)
	}
	standIn := filepath.Join(t.TempDir(), "stand-in.json")
	writeJSON(t, standIn, values)
	p.env[stubproviders.StandInEnv] = standIn
	if fx.setup != nil {
		fx.setup(t, e)
	}
	if fx.env != nil {
		for k, v := range fx.env(t, e) {
			p.env[k] = v
		}
	}
	return p
}

// startEmulator starts an emulator of a page's own, stopped when the page's
// test ends.
func startEmulator(t *testing.T, rel string) *emulator.Emulator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, err := emulator.Start(ctx, emulator.Options{})
	if err != nil {
		t.Fatalf("starting an emulator for %s: %v", rel, err)
	}
	t.Cleanup(e.Stop)
	return e
}

func writeJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, file, string(b))
}

func (p *guidePage) note(format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

// step handles one fenced block of the page.
func (p *guidePage) step(b docblocks.Block) {
	t := p.t
	t.Helper()
	if reason, ok := b.Has("skip"); ok {
		p.note("line %d (%s): skipped: %s", b.Line, langName(b.Lang), reason)
		return
	}
	if test, ok := b.Has("checked-by"); ok {
		p.note("line %d (%s): checked by %s", b.Line, langName(b.Lang), test)
		return
	}
	if name, ok := b.Has("config"); ok {
		p.switchTo(name)
	}
	switch want, isExpect := b.Has("expect"); {
	case isExpect:
		p.expect(b, want)
	case b.IsHCL():
		p.addHCL(b, p.config())
	case b.IsOutput():
		t.Fatalf("%s line %d: an output block without a guide-test directive: say what it is the output of (expect ...) or why it is not checked (skip ...)", p.rel, b.Line)
	default:
		if _, ok := b.Has("run"); !ok {
			if _, ok := b.Has("sql"); !ok {
				p.note("line %d (%s): not run (no directive)", b.Line, langName(b.Lang))
				return
			}
		}
	}
	if arg, ok := b.Has("sql"); ok {
		p.runSQL(b, arg)
	}
	if cmd, ok := b.Has("run"); ok {
		if cmd == "" {
			if b.IsHCL() {
				t.Fatalf("%s line %d: run on an HCL block needs a command", p.rel, b.Line)
			}
			cmd = b.Text
		}
		p.runShell(b, cmd)
	}
	if _, ok := b.Has("apply"); ok {
		p.finish(p.config())
	}
}

func langName(lang string) string {
	if lang == "" {
		return "no language"
	}
	return lang
}

// config is the current configuration, the page's first one if none yet.
func (p *guidePage) config() *guideConfig {
	if p.cur == nil {
		p.switchTo("main")
	}
	return p.cur
}

// switchTo finishes the current configuration and makes name the current one.
func (p *guidePage) switchTo(name string) {
	if p.cur != nil && p.cur.name != name {
		p.finish(p.cur)
	}
	c, ok := p.configs[name]
	if !ok {
		c = &guideConfig{name: name, dir: p.t.TempDir(), env: map[string]string{}}
		acctest.WriteValidateCLIConfig(p.t, c.dir)
		p.configs[name] = c
		if hcl, ok := p.fixture.configs[name]; ok {
			// What the reader's configuration held before the page's steps.
			p.addHCL(docblocks.Block{Line: 0, Lang: "terraform", Text: hcl}, c)
			p.finish(c)
			p.note("configuration %q starts from guideFixtures' configuration, applied", name)
		}
	}
	p.cur = c
}

// adapt points a block at the page's emulator: host, port and CA.
func (p *guidePage) adapt(b docblocks.Block) string {
	port := strconv.Itoa(p.e.Port())
	rules := []struct {
		re   *regexp.Regexp
		repl string
		what string
	}{
		{regexp.MustCompile(`"[A-Za-z0-9.-]+\.postgres\.database\.azure\.com"`), `"localhost"`, "Azure host → localhost"},
		{regexp.MustCompile(`(?m)^(\s*port\s*=\s*)\d+`), "${1}" + port, "port → the emulator's"},
		{regexp.MustCompile(`(?m)^(\s*PGPORT\s*=\s*)"\d+"`), `${1}"` + port + `"`, "PGPORT → the emulator's"},
		{regexp.MustCompile(`(?m)^(\s*PGSSLROOTCERT\s*=\s*)"system"`), "${1}" + strconv.Quote(p.e.CAFile()), `PGSSLROOTCERT "system" → the emulator's CA`},
	}
	text := b.Text
	var done []string
	for _, r := range rules {
		if r.re.MatchString(text) {
			text = r.re.ReplaceAllString(text, r.repl)
			done = append(done, r.what)
		}
	}
	if len(done) > 0 {
		p.note("line %d: adapted: %s", b.Line, strings.Join(done, ", "))
	}
	return text
}

// addHCL adds an HCL block to a configuration.
func (p *guidePage) addHCL(b docblocks.Block, c *guideConfig) {
	t := p.t
	t.Helper()
	if m := otherProvider.FindStringSubmatch(b.Text); m != nil {
		reason, ok := b.Has("stand-in")
		if !ok {
			t.Fatalf("%s line %d uses the %s provider, which cannot run here: say `stand-in REASON` (its resources are kept in the state only) or `skip REASON`", p.rel, b.Line, m[1])
		}
		p.note("line %d: %s blocks are stand-ins (state only): %s", b.Line, m[1], reason)
	}
	name := fmt.Sprintf("L%04d.tf", b.Line)
	if b.Line == 0 {
		name = "fixture.tf"
	}
	if acctest.IsQueryHCL(b.Text) {
		name = fmt.Sprintf("L%04d.tfquery.hcl", b.Line)
	}
	f, diags := hclwrite.ParseConfig([]byte(p.adapt(b)), name, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%s line %d: %s", p.rel, b.Line, diags.Error())
	}
	if arg, ok := b.Has("rename"); ok {
		old, repl, _ := strings.Cut(arg, " ")
		c.rename(strings.Split(old, "."), strings.Split(strings.TrimSpace(repl), "."))
		p.note("line %d: references to %s now name %s, as the page says", b.Line, old, strings.TrimSpace(repl))
	}
	for _, blk := range f.Body().Blocks() {
		key, forgets := blockKey(blk)
		for _, gone := range []string{key, forgets} {
			if gone == "" {
				continue
			}
			if from := c.drop(gone); from != "" {
				verb := "replaces"
				if gone == forgets {
					verb = "takes away"
				}
				p.note("line %d %s %s of %s", b.Line, verb, gone, from)
			}
		}
	}
	c.files = append(c.files, &guideFile{name: name, f: f})
	c.pending = true
	if min := acctest.MinTerraformFor(b.Text); min != "" && c.env["TF_ACC_TERRAFORM_PATH"] == "" {
		if tf := acctest.TerraformAtLeast(min); tf != "" {
			c.env["TF_ACC_TERRAFORM_PATH"] = tf
		} else {
			c.cannot = fmt.Sprintf("line %d needs Terraform >= %s (tools/scripts/terraform-1.14.sh builds it)", b.Line, min)
		}
	}
}

// blockKey is the address a top-level block declares ("" for none), and
// the address a moved or removed block takes away.
func blockKey(b *hclwrite.Block) (key, forgets string) {
	l := b.Labels()
	expr := func(name string) string {
		a := b.Body().GetAttribute(name)
		if a == nil {
			return ""
		}
		return strings.TrimSpace(string(a.Expr().BuildTokens(nil).Bytes()))
	}
	switch {
	case b.Type() == "resource" && len(l) == 2:
		return l[0] + "." + l[1], ""
	case (b.Type() == "data" || b.Type() == "ephemeral" || b.Type() == "action" || b.Type() == "list") && len(l) == 2:
		return b.Type() + "." + l[0] + "." + l[1], ""
	case b.Type() == "variable" && len(l) == 1:
		return "var." + l[0], ""
	case (b.Type() == "output" || b.Type() == "check" || b.Type() == "module") && len(l) == 1:
		return b.Type() + "." + l[0], ""
	case b.Type() == "provider" && len(l) == 1:
		if alias := strings.Trim(expr("alias"), `"`); alias != "" {
			return "provider." + l[0] + "." + alias, ""
		}
		return "provider." + l[0], ""
	case b.Type() == "terraform":
		return "terraform", ""
	case b.Type() == "import":
		return "import:" + expr("to"), ""
	case b.Type() == "moved" || b.Type() == "removed":
		from := expr("from")
		return b.Type() + ":" + from, from
	}
	return "", ""
}

// drop removes the declaration of key from the configuration's files and
// says from which one ("" when none declared it).
func (c *guideConfig) drop(key string) string {
	for _, gf := range c.files {
		for _, blk := range gf.f.Body().Blocks() {
			if k, _ := blockKey(blk); k == key {
				gf.f.Body().RemoveBlock(blk)
				return gf.name
			}
		}
	}
	return ""
}

// rename makes every expression of the configuration that refers to old
// refer to repl, except in moved, removed and import blocks.
func (c *guideConfig) rename(old, repl []string) {
	var walk func(b *hclwrite.Body)
	walk = func(b *hclwrite.Body) {
		for _, a := range b.Attributes() {
			a.Expr().RenameVariablePrefix(old, repl)
		}
		for _, blk := range b.Blocks() {
			walk(blk.Body())
		}
	}
	for _, gf := range c.files {
		for _, blk := range gf.f.Body().Blocks() {
			if t := blk.Type(); t != "moved" && t != "removed" && t != "import" {
				walk(blk.Body())
			}
		}
	}
}

// write writes the configuration's files, with a terraform block and an
// empty provider "azurepg" block when no block of the page has one.
func (c *guideConfig) write(p *guidePage) {
	t := p.t
	t.Helper()
	var all strings.Builder
	for _, gf := range c.files {
		b := gf.f.Bytes()
		all.Write(b)
		writeFile(t, filepath.Join(c.dir, gf.name), string(b))
	}
	extra := map[string]string{"zz_versions.tf": "", "zz_provider.tf": "", "zz_azurerm.tf": ""}
	if !strings.Contains(all.String(), "required_providers") {
		// A fragment of a configuration: what the rest of it would have.
		extra["zz_versions.tf"] = acctest.RequiredProvidersFor(all.String())
		if usesAzurerm.MatchString(all.String()) && !azurermProvider.MatchString(all.String()) {
			extra["zz_azurerm.tf"] = "provider \"azurerm\" {\n  features {}\n}\n"
		}
	}
	if usesAzurepg.MatchString(all.String()) && !azurepgProvider.MatchString(all.String()) {
		extra["zz_provider.tf"] = "# The page's configuration has no provider block: the emulator's environment configures it.\nprovider \"azurepg\" {}\n"
	}
	for name, text := range extra {
		file := filepath.Join(c.dir, name)
		_, err := os.Stat(file)
		switch {
		case text == "":
			_ = os.Remove(file)
		case err != nil:
			p.note("configuration %q: added %s", c.name, name)
			fallthrough
		default:
			writeFile(t, file, text)
		}
	}
}

var (
	usesAzurepg     = regexp.MustCompile(`(?m)^\s*(?:resource|data|ephemeral|list|action)\s+"azurepg_`)
	azurepgProvider = regexp.MustCompile(`(?m)^\s*provider\s+"azurepg"`)
	usesAzurerm     = regexp.MustCompile(`(?m)^\s*(?:resource|data)\s+"azurerm_`)
	azurermProvider = regexp.MustCompile(`(?m)^\s*provider\s+"azurerm"`)
)

// terraform runs one Terraform command in the configuration.
func (p *guidePage) terraform(c *guideConfig, args ...string) acctest.CLIResult {
	p.t.Helper()
	c.write(p)
	env := map[string]string{}
	for k, v := range p.env {
		env[k] = v
	}
	for k, v := range c.env {
		env[k] = v
	}
	return acctest.Terraform(p.t, c.dir, env, append(args, "-no-color")...)
}

// mustTerraform runs a command that must succeed and print no warning.
func (p *guidePage) mustTerraform(c *guideConfig, args ...string) string {
	p.t.Helper()
	r := p.terraform(c, args...)
	if r.Err != nil {
		p.t.Fatalf("%s, configuration %q: terraform %s: %v\n%s\n%s\n%s", p.rel, c.name, strings.Join(args, " "), r.Err, r.Stdout, r.Stderr, p.files(c))
	}
	p.checkWarnings(c, args[0], r.Stdout+r.Stderr)
	return r.Stdout
}

var tfWarning = regexp.MustCompile(`(?m)^[│ ]*Warning: (.*)$`)

// expectedWarnings are Terraform's own warnings about what the test or a
// page asks for: dev_overrides (how the test installs the providers), and
// removed blocks with destroy = false.
var expectedWarnings = []string{"Provider development overrides are in effect", "Some objects will no longer be managed by Terraform"}

// checkWarnings fails on any warning but the expected ones.
func (p *guidePage) checkWarnings(c *guideConfig, cmd, out string) {
	p.t.Helper()
	for _, m := range tfWarning.FindAllStringSubmatch(out, -1) {
		if !slices.Contains(expectedWarnings, m[1]) {
			p.t.Errorf("%s, configuration %q: terraform %s warns %q:\n%s", p.rel, c.name, cmd, m[1], out)
		}
	}
}

// files lists a configuration's files, for a failure message.
func (p *guidePage) files(c *guideConfig) string {
	var b strings.Builder
	b.WriteString("The configuration's files:\n")
	for _, gf := range c.files {
		fmt.Fprintf(&b, "--- %s\n%s", gf.name, gf.f.Bytes())
	}
	return b.String()
}

// apply applies the configuration.
func (p *guidePage) apply(c *guideConfig) string {
	p.t.Helper()
	out := p.mustTerraform(c, "apply", "-auto-approve", "-input=false")
	c.pending = false
	return out
}

// planEmpty checks that a plan of the configuration has nothing to do.
func (p *guidePage) planEmpty(c *guideConfig) {
	p.t.Helper()
	r := p.terraform(c, "plan", "-input=false", "-detailed-exitcode")
	if r.Err != nil {
		p.t.Fatalf("%s, configuration %q: the plan after the apply is not empty (%v):\n%s\n%s\n%s", p.rel, c.name, r.Err, r.Stdout, r.Stderr, p.files(c))
	}
	p.checkWarnings(c, "plan", r.Stdout+r.Stderr)
}

// finish applies what changed since the last apply and checks that the next
// plan is empty.
func (p *guidePage) finish(c *guideConfig) {
	p.t.Helper()
	if c.cannot != "" || !c.pending {
		return
	}
	p.apply(c)
	p.planEmpty(c)
}

func (p *guidePage) finishAll() {
	names := make([]string, 0, len(p.configs))
	for n := range p.configs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p.finish(p.configs[n])
	}
}

// expect compares an expected-output block with what it shows.
func (p *guidePage) expect(b docblocks.Block, what string) {
	t := p.t
	t.Helper()
	c := p.config()
	if c.cannot != "" {
		p.note("line %d: expected %s not checked: configuration %q cannot run here: %s", b.Line, what, c.name, c.cannot)
		return
	}
	kind, arg, _ := strings.Cut(what, " ")
	var got string
	switch kind {
	case "plan":
		if !c.pending {
			t.Fatalf("%s line %d: expect plan, but configuration %q has nothing new to plan", p.rel, b.Line, c.name)
		}
		got = p.mustTerraform(c, "plan", "-input=false")
		defer p.finish(c)
	case "apply":
		got = p.apply(c)
		p.planEmpty(c)
	case "file":
		p.finish(c)
		data, err := os.ReadFile(filepath.Join(c.dir, arg))
		if err != nil {
			t.Fatalf("%s line %d: %v", p.rel, b.Line, err)
		}
		got = string(data)
	case "state":
		p.finish(c)
		got = p.mustTerraform(c, "state", "show", arg)
	case "output":
		p.finish(c)
		got = p.mustTerraform(c, "output", "-raw", arg)
	case "error":
		cmd, ok := strings.CutPrefix(arg, "of ")
		if !ok {
			t.Fatalf("%s line %d: expect error of COMMAND (a terraform command that fails)", p.rel, b.Line)
		}
		r := p.terraform(c, strings.Fields(cmd)...)
		if r.Err == nil {
			t.Fatalf("%s line %d: terraform %s succeeded; the page shows its error:\n%s\n%s", p.rel, b.Line, cmd, r.Stdout, p.files(c))
		}
		if err := docblocks.MatchWords(b.Text, r.Stdout+r.Stderr); err != nil {
			t.Errorf("%s line %d, the expected error of terraform %s, configuration %q: %v", p.rel, b.Line, cmd, c.name, err)
			return
		}
		p.checked++
		p.note("line %d: the expected error of terraform %s matches (white space aside)", b.Line, cmd)
		return
	case "run", "sql":
		if p.lastWhat != kind {
			t.Fatalf("%s line %d: expect %s, but no %s block ran before it", p.rel, b.Line, kind, kind)
		}
		got = p.lastOut
	default:
		t.Fatalf("%s line %d: expect %q: want plan, apply, file NAME, state ADDRESS, output NAME, error of COMMAND, run or sql", p.rel, b.Line, what)
	}
	if err := docblocks.Match(b.Text, got); err != nil {
		t.Errorf("%s line %d, the expected %s, configuration %q: %v", p.rel, b.Line, what, c.name, err)
		return
	}
	p.checked++
	p.note("line %d: the expected %s matches", b.Line, what)
}

// runShell runs a shell block (or a directive's command) with bash in the
// configuration's directory, with terraform on PATH as the tests run it.
func (p *guidePage) runShell(b docblocks.Block, script string) {
	t := p.t
	t.Helper()
	c := p.config()
	if c.cannot != "" {
		p.note("line %d: not run: configuration %q cannot run here: %s", b.Line, c.name, c.cannot)
		return
	}
	c.write(p)
	tf := acctest.TerraformPath()
	if v := c.env["TF_ACC_TERRAFORM_PATH"]; v != "" {
		tf = v
	}
	if !filepath.IsAbs(tf) {
		if tf, _ = exec.LookPath(tf); tf == "" {
			t.Fatal("terraform is not on PATH")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+filepath.Join(c.dir, ".terraformrc"), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"PATH="+filepath.Dir(tf)+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, env := range []map[string]string{p.env, c.env} {
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	before := tfFiles(t, c.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s line %d: %v\n%s\n%s", p.rel, b.Line, err, script, out)
	}
	p.lastOut, p.lastWhat = string(out), "run"
	if after := tfFiles(t, c.dir); !slices.Equal(before, after) {
		c.pending = true // the commands wrote configuration (generated.tf, imports.tf): apply it
	}
	p.note("line %d (%s): ran %q", b.Line, langName(b.Lang), strings.TrimSpace(script))
}

// tfFiles lists a directory's .tf files.
func tfFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var sqlDirective = regexp.MustCompile(`^(?:as (\S+))?\s*(?:in (\S+))?$`)

// runSQL runs a SQL block with psql, as the Entra admin (with a token),
// pgadmin (the password server admin) or the bootstrap superuser.
func (p *guidePage) runSQL(b docblocks.Block, arg string) {
	t := p.t
	t.Helper()
	m := sqlDirective.FindStringSubmatch(arg)
	if m == nil {
		t.Fatalf("%s line %d: sql %q: want sql [as admin|pgadmin|superuser] [in DATABASE]", p.rel, b.Line, arg)
	}
	role, db := m[1], m[2]
	if role == "" {
		role = "admin"
	}
	if db == "" {
		db = "postgres"
	}
	if p.cur != nil {
		p.finish(p.cur) // the reader runs SQL on what is applied
	}
	out, err := psql(p.e, role, db, b.Text)
	if err != nil {
		t.Fatalf("%s line %d: psql as %s in %s: %v\n%s", p.rel, b.Line, role, db, err, out)
	}
	p.lastOut, p.lastWhat = out, "sql"
	p.note("line %d (sql): ran as %s in %s", b.Line, role, db)
}

// psql runs SQL with psql over TLS (verify-full), as a reader would.
func psql(e *emulator.Emulator, role, db, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn := "host=localhost port=" + strconv.Itoa(e.Port()) + " dbname=" + db + " sslmode=verify-full sslrootcert=" + e.CAFile()
	env := []string{}
	switch role {
	case "admin":
		tok, err := e.IssueToken(ctx, acctest.ResourcePublic, "")
		if err != nil {
			return "", err
		}
		conn += " user=" + e.AdminName()
		env = append(env, "PGPASSWORD="+tok.Value)
	case "pgadmin":
		conn += " user=" + emulator.ServerAdmin
		env = append(env, "PGPASSWORD="+e.ServerAdminPassword())
	case "superuser":
		conn = e.SuperuserURL(db)
	default:
		return "", fmt.Errorf("unknown role %q (admin, pgadmin or superuser)", role)
	}
	cmd := exec.CommandContext(ctx, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-P", "pager=off", conn)
	cmd.Stdin = strings.NewReader(sql)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// summary logs what the page's run did, skipped and adapted.
func (p *guidePage) summary() {
	p.t.Logf("%s on PostgreSQL %d: %d expected outputs checked\n  %s", p.rel, p.e.PGMajor(), p.checked, strings.Join(p.notes, "\n  "))
}

// guideBlocksCheckedBy returns the blocks of a guide (docs/guides/page)
// that say `checked-by test`.
func guideBlocksCheckedBy(t *testing.T, page, test string) []docblocks.Block {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "docs", "guides", page))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := docblocks.CheckedBy(string(src), test)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	return blocks
}
