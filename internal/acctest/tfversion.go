package acctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
)

// TerraformPath is the Terraform CLI the tests run: TF_ACC_TERRAFORM_PATH
// when set (as terraform-plugin-testing reads it), else terraform on PATH.
// It may be OpenTofu's tofu (`make testacc-tofu`); CLI tells them apart.
func TerraformPath() string {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p
	}
	return "terraform"
}

// The products a CLI can be.
const (
	ProductTerraform = "Terraform"
	ProductOpenTofu  = "OpenTofu"
)

// CLIInfo is what a Terraform-compatible CLI says of itself.
type CLIInfo struct {
	Path    string
	Product string // ProductTerraform or ProductOpenTofu; "" when it cannot be run
	Version string // e.g. "1.12.6"; "" when it cannot be run
}

// OpenTofu says whether the CLI is OpenTofu.
func (c CLIInfo) OpenTofu() bool { return c.Product == ProductOpenTofu }

func (c CLIInfo) String() string {
	if c.Version == "" {
		return c.Path + " (not runnable)"
	}
	return fmt.Sprintf("%s %s (%s)", c.Product, c.Version, c.Path)
}

var (
	cliMu    sync.Mutex
	cliCache = map[string]CLIInfo{}
	// The line of `version` that names the product: "Terraform v1.11.4",
	// "OpenTofu v1.12.6".
	versionLine = regexp.MustCompile(`(?m)^(Terraform|OpenTofu) v(\S+)`)
)

// CLI runs the CLI at path once (then remembers it) to learn its product
// and version. `version -json` says "terraform_version" for both products,
// so the product comes from the line of `version` that names it. Both
// outputs are read in full before they are matched, and warnings are
// skipped: OpenTofu writes its CLI-configuration warnings (e.g. a
// TF_CLI_CONFIG_FILE that does not exist) to stdout, before the JSON.
func CLI(path string) CLIInfo {
	cliMu.Lock()
	defer cliMu.Unlock()
	if c, ok := cliCache[path]; ok {
		return c
	}
	c := CLIInfo{Path: path}
	jsonOut, _ := runVersion(path, "-json")
	textOut, _ := runVersion(path)
	c.Product, c.Version = parseVersion(jsonOut, textOut)
	cliCache[path] = c
	return c
}

// parseVersion reads the product and version from the outputs of `version
// -json` and `version` (either may be empty: the command failed).
func parseVersion(jsonOut, textOut []byte) (product, ver string) {
	var v struct {
		Version string `json:"terraform_version"`
	}
	if i := bytes.Index(jsonOut, []byte("{")); i >= 0 && json.Unmarshal(jsonOut[i:], &v) == nil {
		ver = v.Version
	}
	if m := versionLine.FindSubmatch(textOut); m != nil {
		product = string(m[1])
		if ver == "" {
			ver = string(m[2])
		}
	}
	if ver != "" && product == "" {
		product = ProductTerraform // the text did not name it: take it for Terraform
	}
	return product, ver
}

func runVersion(path string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"version"}, args...)...)
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	return cmd.Output()
}

// TerraformVersion is the version of the CLI at path ("" when it cannot be
// run), whichever product it is.
func TerraformVersion(path string) string { return CLI(path).Version }

// A Feature is something of the language or protocol that only some
// Terraform and OpenTofu versions have.
type Feature struct {
	Name string
	// The first version of each product that has it; "" when that product
	// has no version with it.
	Terraform, OpenTofu string
}

// The features that tests ask for. OpenTofu forked from Terraform 1.5 and
// numbers its versions on its own: OpenTofu 1.11 has ephemeral resources
// and write-only attributes (Terraform 1.10/1.11), 1.12 import blocks by
// identity and identity in the state (Terraform 1.12); no OpenTofu version
// has list resources / `terraform query` or actions (Terraform 1.14).
// Terraform has no provider for_each (OpenTofu 1.9).
var (
	FeatureWriteOnly       = Feature{Name: "write-only attributes", Terraform: "1.11.0", OpenTofu: "1.11.0"}
	FeatureEphemeral       = Feature{Name: "ephemeral resources", Terraform: "1.10.0", OpenTofu: "1.11.0"}
	FeatureIdentity        = Feature{Name: "resource identity", Terraform: "1.12.0", OpenTofu: "1.12.0"}
	FeatureListResources   = Feature{Name: "list resources and `terraform query`", Terraform: "1.14.0"}
	FeatureActions         = Feature{Name: "actions", Terraform: "1.14.0"}
	FeatureProviderForEach = Feature{Name: "provider for_each", OpenTofu: "1.9.0"}
)

// Has says whether the CLI has the feature; when it has not, why is one
// line that says what the CLI lacks.
func (c CLIInfo) Has(f Feature) (ok bool, why string) {
	if c.Version == "" {
		return false, fmt.Sprintf("needs %s; %s", f.Name, c)
	}
	min := f.Terraform
	if c.OpenTofu() {
		min = f.OpenTofu
	}
	if min == "" {
		return false, fmt.Sprintf("needs %s, which %s does not have (no %s version has them)", f.Name, c, c.Product)
	}
	have, err := version.NewVersion(c.Version)
	if err != nil || have.LessThan(version.Must(version.NewVersion(min))) {
		return false, fmt.Sprintf("needs %s (%s >= %s); %s", f.Name, c.Product, min, c)
	}
	return true, ""
}

// Require skips the test, with one line, unless the CLI the tests run
// (TerraformPath) has every feature. `make testacc-tf114` runs the tests
// that need Terraform 1.12-1.14 on Terraform 1.14.
func Require(t testing.TB, features ...Feature) {
	t.Helper()
	c := CLI(TerraformPath())
	for _, f := range features {
		if ok, why := c.Has(f); !ok {
			t.Skip(why + hint(c))
		}
	}
}

func hint(c CLIInfo) string {
	if c.OpenTofu() {
		return ""
	}
	return " (run `make testacc-tf114`, or set TF_ACC_TERRAFORM_PATH)"
}

// RequireTerraform is Require by Terraform version, for tests written
// before Require: min "1.12.0" asks for resource identity, "1.14.0" for list
// resources and actions; any other version is asked of Terraform and
// OpenTofu alike.
func RequireTerraform(t testing.TB, min string) {
	t.Helper()
	switch min {
	case FeatureIdentity.Terraform:
		Require(t, FeatureIdentity)
	case FeatureActions.Terraform:
		Require(t, FeatureListResources, FeatureActions)
	default:
		Require(t, Feature{Name: "Terraform >= " + min, Terraform: min, OpenTofu: min})
	}
}

// HCL that only newer Terraform versions understand: list blocks (and
// .tfquery.hcl files) and action blocks need 1.14, import blocks with
// identity 1.12.
var (
	needs114 = regexp.MustCompile(`(?m)^\s*(list|action)\s+"`)
	needs112 = regexp.MustCompile(`(?m)^\s*identity\s*=\s*\{`)
)

// MinTerraformFor is the oldest Terraform that understands hcl: "" for
// anything Terraform 1.11 does, else "1.12.0" or "1.14.0".
func MinTerraformFor(hcl string) string {
	switch {
	case needs114.MatchString(hcl):
		return "1.14.0"
	case needs112.MatchString(hcl):
		return "1.12.0"
	}
	return ""
}

// IsQueryHCL says whether a block is for a .tfquery.hcl file (list blocks).
func IsQueryHCL(hcl string) bool {
	return regexp.MustCompile(`(?m)^\s*list\s+"`).MatchString(hcl)
}

// TerraformAtLeast returns a Terraform CLI (never OpenTofu: the docs are
// validated in Terraform's terms) of at least version min: the one the
// tests run (TerraformPath) when it is new enough, else the Terraform 1.14
// that tools/scripts/terraform-1.14.sh caches (AZUREPG_TF114_CACHE or
// ~/.cache/terraform-1.14.9), when it is there; "" when neither is. It
// never builds Terraform.
func TerraformAtLeast(min string) string {
	want := version.Must(version.NewVersion(min))
	cached := filepath.Join(os.Getenv("HOME"), ".cache", "terraform-1.14.9")
	if d := os.Getenv("AZUREPG_TF114_CACHE"); d != "" {
		cached = d
	}
	for _, p := range []string{TerraformPath(), filepath.Join(cached, "terraform")} {
		c := CLI(p)
		if c.Product != ProductTerraform {
			continue
		}
		if v, err := version.NewVersion(c.Version); err == nil && !v.LessThan(want) {
			return p
		}
	}
	return ""
}

// OpenTofuUnder says whether the tests run OpenTofu (TF_ACC_TERRAFORM_PATH
// names tofu, as `make testacc-tofu` sets it).
func OpenTofuUnder() bool { return CLI(TerraformPath()).OpenTofu() }

// providerHosts are the registry hosts a provider source without one
// resolves to: Terraform's, and OpenTofu's.
var providerHosts = []string{"registry.terraform.io", "registry.opentofu.org"}

// devOverrides is a dev_overrides block that installs the provider at
// source ("namespace/type") from dir under both hosts, so that the same
// configuration runs on Terraform and OpenTofu.
func devOverrides(sources []string, dir string) string {
	var b strings.Builder
	for _, s := range sources {
		for _, h := range providerHosts {
			fmt.Fprintf(&b, "    %q = %q\n", h+"/"+s, dir)
		}
	}
	return b.String()
}

// DevOverridesConfig is a CLI configuration that installs this provider
// from dir (a directory holding terraform-provider-azurepg), for Terraform
// and OpenTofu alike.
func DevOverridesConfig(dir string) string {
	return "provider_installation {\n  dev_overrides {\n" + devOverrides([]string{"azurepg/azurepg"}, dir) + "  }\n  direct {}\n}\n"
}
