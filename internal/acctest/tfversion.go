package acctest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
)

// TerraformPath is the Terraform CLI the tests run: TF_ACC_TERRAFORM_PATH
// when set (as terraform-plugin-testing reads it), else terraform on PATH.
func TerraformPath() string {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p
	}
	return "terraform"
}

var (
	tfVersionMu    sync.Mutex
	tfVersionCache = map[string]string{}
)

// TerraformVersion is the version of the Terraform CLI at path, from
// `terraform version -json` ("" when it cannot be run).
func TerraformVersion(path string) string {
	tfVersionMu.Lock()
	defer tfVersionMu.Unlock()
	if v, ok := tfVersionCache[path]; ok {
		return v
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version", "-json")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err == nil {
		_ = json.Unmarshal(out, &v)
	}
	tfVersionCache[path] = v.Version
	return v.Version
}

// RequireTerraform skips the test, with one line, unless the Terraform CLI
// the tests run (TerraformPath) is at least min: "1.12.0" for resource
// identity, "1.14.0" for list resources, `terraform query` and actions.
// `make testacc-tf114` runs these tests with Terraform 1.14.
func RequireTerraform(t testing.TB, min string) {
	t.Helper()
	path := TerraformPath()
	got := TerraformVersion(path)
	have, err := version.NewVersion(got)
	if err != nil || have.LessThan(version.Must(version.NewVersion(min))) {
		if got == "" {
			got = "not runnable"
		}
		t.Skipf("needs Terraform >= %s; %s is %s (run `make testacc-tf114`, or set TF_ACC_TERRAFORM_PATH)", min, path, got)
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

// TerraformAtLeast returns a Terraform CLI of at least version min: the one
// the tests run (TerraformPath) when it is new enough, else the Terraform
// 1.14 that tools/scripts/terraform-1.14.sh caches (AZUREPG_TF114_CACHE or
// ~/.cache/terraform-1.14.9), when it is there; "" when neither is. It
// never builds Terraform.
func TerraformAtLeast(min string) string {
	want := version.Must(version.NewVersion(min))
	cached := filepath.Join(os.Getenv("HOME"), ".cache", "terraform-1.14.9")
	if d := os.Getenv("AZUREPG_TF114_CACHE"); d != "" {
		cached = d
	}
	for _, p := range []string{TerraformPath(), filepath.Join(cached, "terraform")} {
		if v, err := version.NewVersion(TerraformVersion(p)); err == nil && !v.LessThan(want) {
			return p
		}
	}
	return ""
}
