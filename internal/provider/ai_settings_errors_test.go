package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// TestAccAISettingsErrors: a database without the extension, a login that
// is not in azure_ai_settings_manager and a missing database each get an
// error that says what to do, and change nothing.
func TestAccAISettingsErrors(t *testing.T) {
	acctest.Emulator(t)
	bare := aiDatabase(t, acctest.Name(`ai-bare "x"`), false)
	db := aiDatabase(t, acctest.Name("ai-denied"), true)
	missing := acctest.Name("ai-no-such-db")
	mi := acctest.NewObject(t, "managed_identity", "ai-not-manager")
	acctest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", mi.Name, mi.ObjectID)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{mi.Name}.Sanitize()) })
	body := `
  azure_openai {
    endpoint         = "https://acc.openai.azure.com"
    auth_type        = "subscription-key"
    subscription_key = "denied-key-1"
  }`
	notManager := acctest.ProviderBlock(mi, "") + strings.TrimPrefix(aiConfig(db, body), `provider "azurepg" {}`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: aiConfig(bare, body),
				ExpectError: words("azure_ai extension not installed", fmt.Sprintf("in database %q", bare),
					`resource "azurepg_extension" "azure_ai" {`, `name = "azure_ai"`, "database = "+hclquote.String(bare),
					"azure.extensions"),
			},
			{
				Config: notManager,
				ExpectError: words("Not allowed to manage azure_ai settings", "permission denied for function",
					"members of azure_ai_settings_manager", "azurepg_principal with admin = true"),
			},
			{
				Config:      aiConfig(missing, body),
				ExpectError: words("Database does not exist", fmt.Sprintf("The server has no database %q", missing)),
			},
			{
				Config: `provider "azurepg" {}
data "azurepg_ai_settings" "d" {
  database = ` + hclquote.String(bare) + `
}`,
				ExpectError: words("azure_ai extension not installed", `resource "azurepg_extension"`),
			},
		},
	})
	if v := aiGet(t, db, "azure_openai.subscription_key"); v != nil {
		t.Fatal("the refused key was set")
	}
}

// TestAccAISettingsValidation: bad input fails at plan time with a clear
// message, before any connection.
func TestAccAISettingsValidation(t *testing.T) {
	acctest.Emulator(t)
	step := func(body string, want ...string) resource.TestStep {
		return resource.TestStep{Config: aiConfig("orders", body), PlanOnly: true, ExpectError: words(want...)}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			step(`azure_openai { auth_type = "password" }`, "azure_openai.auth_type", `value must be one of: ["managed-identity" "subscription-key"]`),
			step(`azure_openai { endpoint = "http://acc.openai.azure.com" }`, "Not an https URL", "azure_openai.endpoint must be an absolute https URL"),
			step(`azure_ml { scoring_endpoint = "acc.openai.azure.com/score" }`, "Not an https URL"),
			step(`azure_cognitive { endpoint = "https://user:pw@acc.cognitiveservices.azure.com" }`, "Not an https URL"),
			step(`azure_openai { auth_type = "subscription-key" }`, "Subscription key missing",
				`azure_openai.auth_type is "subscription-key" but no key is set`, "subscription_key_wo"),
			step(`azure_ml {
    auth_type                   = "subscription-key"
    scoring_endpoint            = "https://ml.example.com/score"
    endpoint_key                = "k"
    serverless_ranking_endpoint = "https://rank.example.com"
  }`, "Subscription key missing", "serverless_ranking_endpoint is set, but its key is not"),
			step(`azure_openai {
    subscription_key            = "a"
    subscription_key_wo         = "b"
    subscription_key_wo_version = 1
  }`, "Invalid Attribute Combination", "azure_openai.subscription_key_wo"),
			step(`azure_openai { subscription_key_wo = "b" }`, "azure_openai.subscription_key_wo_version", "must be specified"),
			step(`azure_cognitive { region = "" }`, "azure_cognitive.region", "at least 1"),
		},
	})
}

// TestAccAISettingsNoKeyInLogs: with TF_LOG=trace for Terraform and the
// provider, no key (sensitive or write-only, accepted or refused) reaches
// the log.
func TestAccAISettingsNoKeyInLogs(t *testing.T) {
	acctest.Emulator(t)
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_LOG_PATH", logFile)
	t.Setenv("TF_ACC_LOG", "trace")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	db := aiDatabase(t, acctest.Name("ai-log"), true)
	keys := []string{"log-sens-" + acctest.Name("a"), "log-sens-" + acctest.Name("b"), "log-wo-" + acctest.Name("c"), "log-wo-" + acctest.Name("d")}
	// Keys come in through variables: the test harness itself logs the HCL.
	cfg := func(version int) string {
		return `variable "key" {
  type      = string
  sensitive = true
  ephemeral = true
}
variable "skey" {
  type      = string
  sensitive = true
}
` + aiConfig(db, `
  azure_openai {
    auth_type        = "subscription-key"
    subscription_key = var.skey
  }
  azure_ml {
    auth_type               = "subscription-key"
    endpoint_key_wo         = var.key
    endpoint_key_wo_version = `+strconv.Itoa(version)+`
  }`)
	}
	vars := func(sensitive, wo string) config.Variables {
		return config.Variables{"skey": config.StringVariable(sensitive), "key": config.StringVariable(wo)}
	}
	mi := acctest.NewObject(t, "managed_identity", "ai-log-denied")
	acctest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", mi.Name, mi.ObjectID)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{mi.Name}.Sanitize()) })
	refused := "log-refused-" + acctest.Name("e")
	keys = append(keys, refused)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:          cfg(1),
				ConfigVariables: vars(keys[0], keys[2]),
				Check:           checkAISettings(t, db, map[string]*string{"azure_openai.subscription_key": &keys[0], "azure_ml.endpoint_key": &keys[2]}),
			},
			{
				PreConfig:       func() { aiSet(t, db, "azure_openai.subscription_key", str("drifted")) },
				Config:          cfg(2),
				ConfigVariables: vars(keys[1], keys[3]),
				Check:           checkAISettings(t, db, map[string]*string{"azure_openai.subscription_key": &keys[1], "azure_ml.endpoint_key": &keys[3]}),
			},
		},
	})
	checkLog(t, logFile, keys)

	// A refused key goes through the error path. A test case of its own, with
	// the refused identity as the only provider: terraform-plugin-testing
	// serves every configuration of a provider from one in-process server, so
	// an aliased second configuration could replace the first one's login.
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config: `variable "refused" {
  type      = string
  sensitive = true
}
` + acctest.ProviderBlock(mi, "") + `
resource "azurepg_ai_settings" "denied" {
  database = ` + hclquote.String(db) + `
  azure_openai {
    auth_type        = "subscription-key"
    subscription_key = var.refused
  }
}`,
			ConfigVariables: config.Variables{"refused": config.StringVariable(refused)},
			ExpectError:     words("Not allowed to manage azure_ai settings"),
		}},
	})
	checkLog(t, logFile, keys)
}

// checkLog fails the test if the trace log is not the real thing or holds
// any of the keys.
func checkLog(t *testing.T, logFile string, keys []string) {
	t.Helper()
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	// The log is the real thing: Terraform's and the provider's trace lines.
	for _, want := range []string{"ApplyResourceChange", "azurepg_ai_settings", "[TRACE]", "Calling provider defined Resource Create", "tf_provider_addr"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the trace log (%d bytes) lacks %q", len(b), want)
		}
	}
	for _, k := range keys {
		if strings.Contains(log, k) {
			i := strings.Index(log, k)
			t.Errorf("key %d is in the trace log near: %q", len(k), log[max(0, i-300):i])
		}
	}
	t.Logf("trace log: %d bytes, none of %d keys in it", len(b), len(keys))
}
