package provider_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// identityConfig is one principal, one extension and one azure_ai settings
// resource, with hostile names, logged in as the emulator's Entra admin.
func identityConfig(role, objectID, db string) string {
	return fmt.Sprintf(`provider "azurepg" {}

resource "azurepg_principal" "p" {
  name      = %s
  type      = "service"
  object_id = %q
}

resource "azurepg_extension" "x" {
  database = %s
  name     = "azure_ai"
}

resource "azurepg_ai_settings" "s" {
  database = %s
  azure_cognitive {
    endpoint  = "https://acc.cognitiveservices.azure.com"
    auth_type = "managed-identity"
  }
  depends_on = [azurepg_extension.x]
}
`, hclquote.String(role), objectID, hclquote.String(db), hclquote.String(db))
}

// TestAccIdentityInStateAndImport (Terraform 1.12+): the three resources
// carry their identity in the state (host + names), and each one imports
// from an import block with `identity = {...}`, the plan after it empty.
func TestAccIdentityInStateAndImport(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureIdentity)
	host := os.Getenv("AZUREPG_HOST")
	role := acctest.Name(`id "p"; @ é`)
	oid := acctest.NewObject(t, "managed_identity", "acc-id-mi").ObjectID
	db := extensionTestDatabase(t, true)
	cfg := identityConfig(role, oid, db)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, role),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("azurepg_principal.p", map[string]knownvalue.Check{
						"host": knownvalue.StringExact(host), "port": knownvalue.Null(), "name": knownvalue.StringExact(role),
					}),
					statecheck.ExpectIdentity("azurepg_extension.x", map[string]knownvalue.Check{
						"host": knownvalue.StringExact(host), "port": knownvalue.Null(), "database": knownvalue.StringExact(db), "name": knownvalue.StringExact("azure_ai"),
					}),
					statecheck.ExpectIdentity("azurepg_ai_settings.s", map[string]knownvalue.Check{
						"host": knownvalue.StringExact(host), "port": knownvalue.Null(), "database": knownvalue.StringExact(db),
					}),
				},
			},
			{Config: cfg, ResourceName: "azurepg_principal.p", ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
			{Config: cfg, ResourceName: "azurepg_extension.x", ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
			{Config: cfg, ResourceName: "azurepg_ai_settings.s", ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
		},
	})
}

// TestAccIdentityImportErrors: an identity naming a server that the provider
// may not log in to (not its host, not in allowed_hosts), or a role that
// does not exist, fails the import with a message that says so.
func TestAccIdentityImportErrors(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureIdentity)
	role := acctest.Name("id-missing")
	importBlock := func(identity string) string {
		return fmt.Sprintf(`provider "azurepg" {}

import {
  to       = azurepg_principal.p
  identity = %s
}

resource "azurepg_principal" "p" {
  name = %s
}
`, identity, hclquote.String(role))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      importBlock(fmt.Sprintf("{ host = \"other.postgres.database.azure.com\", name = %s }", hclquote.String(role))),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Server not allowed.*other\.postgres\.database\.azure\.com.*allowed_hosts`),
			},
			{
				Config:      importBlock(fmt.Sprintf("{ name = %s }", hclquote.String(role))),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Role not found`),
			},
		},
	})
}

// TestAccIdentityUpgradeFrom111: a state written by Terraform 1.11 (no
// identity) plans empty on Terraform 1.12+, and the next apply stores the
// identity without changing anything. Under OpenTofu (make testacc-tofu)
// this is a move from Terraform 1.11 to OpenTofu 1.12, which reads the
// state's registry.terraform.io provider address as its own registry's.
func TestAccIdentityUpgradeFrom111(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureIdentity)
	old := "terraform" // Terraform 1.11 on PATH, as `make test` runs it
	if v := acctest.TerraformVersion(old); !strings.HasPrefix(v, "1.11.") {
		t.Skipf("needs Terraform 1.11 on PATH to write the old state; terraform on PATH is %q", v)
	}
	role := acctest.Name(`id-upgrade "p" é`)
	oid := acctest.NewObject(t, "managed_identity", "acc-upg-mi").ObjectID
	db := extensionTestDatabase(t, true)
	w := acctest.NewWorkdir(t, cliRequiredProviders+identityConfig(role, oid, db), nil)
	w.Env = map[string]string{"TF_ACC_TERRAFORM_PATH": old}
	w.MustRun("apply", "-auto-approve", "-no-color")
	t.Cleanup(func() { w.Run("destroy", "-auto-approve", "-no-color") })
	if got := stateIdentities(t, w.Dir); len(got) != 0 {
		t.Fatalf("Terraform 1.11 wrote identities %v; the test needs a state without them", got)
	}

	w.Env = nil // Terraform 1.12+ (TF_ACC_TERRAFORM_PATH)
	r := w.Run("plan", "-detailed-exitcode", "-no-color")
	if r.Err != nil || !strings.Contains(r.Stdout, "No changes.") {
		t.Fatalf("plan on the new Terraform over the 1.11 state is not empty (%v):\n%s\n%s", r.Err, r.Stdout, r.Stderr)
	}
	r = w.MustRun("apply", "-auto-approve", "-no-color")
	if !strings.Contains(r.Stdout, "0 added, 0 changed, 0 destroyed") {
		t.Fatalf("apply changed something:\n%s", r.Stdout)
	}
	want := map[string]string{
		"azurepg_principal.p":   fmt.Sprintf(`{"host":%q,"name":%q,"port":null}`, os.Getenv("AZUREPG_HOST"), role),
		"azurepg_extension.x":   fmt.Sprintf(`{"database":%q,"host":%q,"name":"azure_ai","port":null}`, db, os.Getenv("AZUREPG_HOST")),
		"azurepg_ai_settings.s": fmt.Sprintf(`{"database":%q,"host":%q,"port":null}`, db, os.Getenv("AZUREPG_HOST")),
	}
	got := stateIdentities(t, w.Dir)
	for addr, id := range want {
		if got[addr] != id {
			t.Errorf("%s: identity in the state %s, want %s", addr, got[addr], id)
		}
	}
	// And the state stays quiet afterwards.
	if r := w.Run("plan", "-detailed-exitcode", "-no-color"); r.Err != nil {
		t.Fatalf("plan after the upgrade is not empty (%v):\n%s\n%s", r.Err, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(w.Dir, "terraform.tfstate")); err != nil {
		t.Fatal(err)
	}
}

// stateIdentities reads terraform.tfstate: resource address -> identity JSON
// (compact, keys sorted), for instances that have one.
func stateIdentities(t *testing.T, dir string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Type, Name string
			Instances  []struct {
				Identity map[string]any `json:"identity"`
			}
		}
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range st.Resources {
		for _, i := range r.Instances {
			if i.Identity != nil {
				b, _ := json.Marshal(i.Identity) // map keys sorted
				out[r.Type+"."+r.Name] = string(b)
			}
		}
	}
	return out
}

// cliRequiredProviders names the provider's source for configs run through
// the CLI (dev_overrides install it).
const cliRequiredProviders = "terraform {\n  required_providers {\n    azurepg = { source = \"azurepg/azurepg\" }\n  }\n}\n\n"
