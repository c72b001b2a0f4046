package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// aiDatabase creates a database, with the azure_ai extension when install
// is true, and drops it after the test.
func aiDatabase(t *testing.T, name string, install bool) string {
	t.Helper()
	acctest.SuperExec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		acctest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	if install {
		acctest.SuperExec(t, name, "CREATE EXTENSION azure_ai")
	}
	return name
}

// hostileDatabaseName is 63 bytes of quotes, a semicolon, SQL, a space and
// non-ASCII, unique per call.
func hostileDatabaseName() string {
	n := acctest.Name(`ai "db"; DROP DATABASE postgres; -- é`)
	for len(n) < 63 {
		n += "x"
	}
	return n
}

// aiGet reads a setting on the server (as the superuser); nil when unset.
func aiGet(t *testing.T, db, key string) *string {
	t.Helper()
	var v *string
	acctest.SuperQueryRow(t, db, "SELECT azure_ai.get_setting($1)", []any{key}, &v)
	return v
}

// aiSet changes a setting behind Terraform's back; nil clears it.
func aiSet(t *testing.T, db, key string, value *string) {
	t.Helper()
	acctest.SuperExec(t, db, "SELECT azure_ai.set_setting($1, $2)", key, value)
}

func str(s string) *string { return &s }

// checkAISettings checks the server's values; nil means unset.
func checkAISettings(t *testing.T, db string, want map[string]*string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for key, w := range want {
			got := aiGet(t, db, key)
			switch {
			case w == nil && got != nil:
				return fmt.Errorf("%s: set on the server, want unset", key)
			case w != nil && got == nil:
				return fmt.Errorf("%s: unset on the server, want it set", key)
			case w != nil && *got != *w:
				if strings.Contains(key, "_key") {
					return fmt.Errorf("%s: the server has another key than expected", key)
				}
				return fmt.Errorf("%s = %q on the server, want %q", key, *got, *w)
			}
		}
		return nil
	}
}

func aiConfig(db, body string) string {
	return fmt.Sprintf(`provider "azurepg" {}

resource "azurepg_ai_settings" "s" {
  database = %s
%s
}
`, hclquote.String(db), body)
}

// hclStr quotes s for HCL (the database names here have quotes but no ${).

const aiAllServices = `
  azure_openai {
    endpoint         = "https://acc.openai.azure.com"
    auth_type        = "subscription-key"
    subscription_key = "openai-key-1"
  }
  azure_cognitive {
    endpoint               = "https://acc.cognitiveservices.azure.com"
    auth_type              = "managed-identity"
    translator_resource_id = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/tr"
  }
  azure_ml {
    scoring_endpoint                = "https://acc.westeurope.inference.ml.azure.com/score"
    auth_type                       = "subscription-key"
    endpoint_key                    = "ml-key-1"
    serverless_ranking_endpoint     = "https://rank.westeurope.models.ai.azure.com"
    serverless_ranking_endpoint_key = "rank-key-1"
  }
`

// TestAccAISettingsAllServices: the three services on a database with a
// hostile 63-byte name, read back (the framework checks the second plan is
// empty), imported by database name, and cleared on destroy, except a key
// that the configuration never mentioned.
func TestAccAISettingsAllServices(t *testing.T) {
	acctest.Emulator(t)
	db := aiDatabase(t, hostileDatabaseName(), true)
	aiSet(t, db, "azure_cognitive.region", str("westeurope")) // not managed: must survive
	managed := map[string]*string{
		"azure_openai.endpoint":                    str("https://acc.openai.azure.com"),
		"azure_openai.auth_type":                   str("subscription-key"),
		"azure_openai.subscription_key":            str("openai-key-1"),
		"azure_cognitive.endpoint":                 str("https://acc.cognitiveservices.azure.com"),
		"azure_cognitive.auth_type":                str("managed-identity"),
		"azure_cognitive.translator_resource_id":   str("/subscriptions/0000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/tr"),
		"azure_ml.scoring_endpoint":                str("https://acc.westeurope.inference.ml.azure.com/score"),
		"azure_ml.auth_type":                       str("subscription-key"),
		"azure_ml.endpoint_key":                    str("ml-key-1"),
		"azure_ml.serverless_ranking_endpoint":     str("https://rank.westeurope.models.ai.azure.com"),
		"azure_ml.serverless_ranking_endpoint_key": str("rank-key-1"),
	}
	cleared := map[string]*string{"azure_cognitive.region": str("westeurope")}
	for k := range managed {
		cleared[k] = nil
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkAISettings(t, db, cleared),
		Steps: []resource.TestStep{
			{
				Config: aiConfig(db, aiAllServices),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("id"), knownvalue.StringExact(db)),
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("database"), knownvalue.StringExact(db)),
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("azure_openai").AtMapKey("subscription_key"),
						knownvalue.StringExact("openai-key-1")),
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("azure_ml").AtMapKey("serverless_ranking_endpoint_key"),
						knownvalue.StringExact("rank-key-1")),
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("azure_cognitive").AtMapKey("region"), knownvalue.Null()),
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("azure_cognitive").AtMapKey("subscription_key"), knownvalue.Null()),
				},
				Check: checkAISettings(t, db, managed),
			},
			{
				ResourceName:      "azurepg_ai_settings.s",
				ImportState:       true,
				ImportStateId:     db,
				ImportStateVerify: true,
				// Import cannot know the configuration, so it adopts every setting present.
				ImportStateVerifyIgnore: []string{"azure_cognitive.region"},
				ImportStateCheck: func(s []*terraform.InstanceState) error {
					if len(s) != 1 || s[0].Attributes["azure_cognitive.region"] != "westeurope" {
						return fmt.Errorf("import did not read the unmanaged region: %v", s)
					}
					return nil
				},
			},
		},
	})
}

// TestAccAISettingsSwitchAuth: subscription-key → managed-identity (the key
// leaves the configuration, so it is cleared on the server) → back.
func TestAccAISettingsSwitchAuth(t *testing.T) {
	acctest.Emulator(t)
	db := aiDatabase(t, acctest.Name("ai-switch"), true)
	withKey := `
  azure_openai {
    endpoint         = "https://acc.openai.azure.com"
    auth_type        = "subscription-key"
    subscription_key = "switch-key-1"
  }
  azure_ml {
    scoring_endpoint = "https://ml.example.com/score"
    auth_type        = "subscription-key"
    endpoint_key     = "switch-ml-1"
  }`
	managedIdentity := `
  azure_openai {
    endpoint  = "https://acc.openai.azure.com"
    auth_type = "managed-identity"
  }
  azure_ml {
    scoring_endpoint = "https://ml.example.com/score"
    auth_type        = "managed-identity"
  }`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: aiConfig(db, withKey),
				Check: checkAISettings(t, db, map[string]*string{
					"azure_openai.auth_type": str("subscription-key"), "azure_openai.subscription_key": str("switch-key-1"),
					"azure_ml.auth_type": str("subscription-key"), "azure_ml.endpoint_key": str("switch-ml-1"),
				}),
			},
			{
				Config: aiConfig(db, managedIdentity),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_ai_settings.s", plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("azure_openai").AtMapKey("subscription_key"), knownvalue.Null()),
				},
				Check: checkAISettings(t, db, map[string]*string{
					"azure_openai.auth_type": str("managed-identity"), "azure_openai.subscription_key": nil,
					"azure_ml.auth_type": str("managed-identity"), "azure_ml.endpoint_key": nil,
					"azure_openai.endpoint": str("https://acc.openai.azure.com"),
				}),
			},
			{
				Config: aiConfig(db, withKey),
				Check: checkAISettings(t, db, map[string]*string{
					"azure_openai.auth_type": str("subscription-key"), "azure_openai.subscription_key": str("switch-key-1"),
					"azure_ml.auth_type": str("subscription-key"), "azure_ml.endpoint_key": str("switch-ml-1"),
				}),
			},
			{
				// A whole block removed: its settings are cleared, the others stay.
				Config: aiConfig(db, `
  azure_openai {
    endpoint  = "https://acc.openai.azure.com"
    auth_type = "managed-identity"
  }`),
				Check: checkAISettings(t, db, map[string]*string{
					"azure_openai.auth_type": str("managed-identity"), "azure_openai.subscription_key": nil,
					"azure_ml.auth_type": nil, "azure_ml.endpoint_key": nil, "azure_ml.scoring_endpoint": nil,
				}),
			},
		},
	})
}

// TestAccAISettingsDrift: changes made outside Terraform to managed
// settings, a sensitive key included, show as an update and are undone.
func TestAccAISettingsDrift(t *testing.T) {
	acctest.Emulator(t)
	db := aiDatabase(t, acctest.Name("ai-drift"), true)
	cfg := aiConfig(db, `
  azure_cognitive {
    endpoint         = "https://acc.cognitiveservices.azure.com"
    auth_type        = "subscription-key"
    subscription_key = "drift-key-1"
    region           = "westeurope"
  }`)
	want := map[string]*string{
		"azure_cognitive.subscription_key": str("drift-key-1"), "azure_cognitive.region": str("westeurope"),
		"azure_cognitive.endpoint": str("https://acc.cognitiveservices.azure.com"),
	}
	update := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
		plancheck.ExpectResourceAction("azurepg_ai_settings.s", plancheck.ResourceActionUpdate),
	}}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkAISettings(t, db, want)},
			{
				PreConfig:        func() { aiSet(t, db, "azure_cognitive.subscription_key", str("changed-by-hand")) },
				Config:           cfg,
				ConfigPlanChecks: update,
				Check:            checkAISettings(t, db, want),
			},
			{
				PreConfig:        func() { aiSet(t, db, "azure_cognitive.region", nil) },
				Config:           cfg,
				ConfigPlanChecks: update,
				Check:            checkAISettings(t, db, want),
			},
			{
				// The extension dropped (and its settings with it): a warning, and
				// the settings are set again once it is back.
				PreConfig: func() { acctest.SuperExec(t, db, "DROP EXTENSION azure_ai") },
				Config:    cfg,
				PlanOnly:  true,
				// The refresh sees every managed setting gone.
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() { acctest.SuperExec(t, db, "CREATE EXTENSION azure_ai") },
				Config:    cfg,
				Check:     checkAISettings(t, db, want),
			},
		},
	})
}

// aiWOConfig gives the key through a sensitive, ephemeral variable, so that
// Terraform itself keeps it out of the plan's configuration section.
func aiWOConfig(db string, version int) string {
	return fmt.Sprintf(`variable "key" {
  type      = string
  sensitive = true
  ephemeral = true
}
`+aiConfig(db, `
  azure_openai {
    endpoint                    = "https://acc.openai.azure.com"
    auth_type                   = "subscription-key"
    subscription_key_wo         = var.key
    subscription_key_wo_version = %d
  }`), version)
}

// noSecretInFiles fails when any file under dir (state, plan files,
// .terraform) contains one of the secrets. The tfvars file that passes the
// key in is skipped.
func noSecretInFiles(dir string, secrets ...string) error {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 || strings.HasSuffix(d.Name(), ".auto.tfvars.json") {
			return nil // provider plugin links; the test's own input of the variable
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				found = append(found, p)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(found) > 0 {
		return fmt.Errorf("a key is written in %v", found)
	}
	return nil
}

// stateFiles counts terraform.tfstate files under dir, to show that the
// search above looked at a state.
func stateFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "terraform.tfstate" {
			n++
		}
		return nil
	})
	return n
}

// planHasNo checks the plan JSON (all of it, as Terraform showed it).
type planHasNo []string

func (p planHasNo) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	b, err := json.Marshal(req.Plan)
	if err != nil {
		resp.Error = err
		return
	}
	for _, s := range p {
		if strings.Contains(string(b), s) {
			resp.Error = fmt.Errorf("the plan JSON contains a key")
			return
		}
	}
	if !strings.Contains(string(b), "subscription_key_wo_version") {
		resp.Error = fmt.Errorf("the plan JSON does not describe the resource: %.200s", b)
	}
}

// TestAccAISettingsWriteOnly: a write-only key reaches the server, is in
// neither the state file nor the plan JSON, is not sent again while its
// version stays, and is sent again when the version changes.
func TestAccAISettingsWriteOnly(t *testing.T) {
	acctest.Emulator(t)
	work := t.TempDir()
	t.Setenv("TF_ACC_TEMP_DIR", work)
	db := aiDatabase(t, acctest.Name("ai-wo"), true)
	k1, k2 := "wo-key-"+acctest.Name("one"), "wo-key-"+acctest.Name("two")
	noFiles := func(*terraform.State) error {
		if stateFiles(work) == 0 {
			return fmt.Errorf("no state file under %s", work)
		}
		return noSecretInFiles(work, k1, k2)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkAISettings(t, db, map[string]*string{"azure_openai.subscription_key": nil}),
		Steps: []resource.TestStep{
			{
				Config:          aiWOConfig(db, 1),
				ConfigVariables: config.Variables{"key": config.StringVariable(k1)},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{planHasNo{k1, k2}},
					PostApplyPostRefresh: []plancheck.PlanCheck{planHasNo{k1, k2}},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("azure_openai").AtMapKey("subscription_key_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("azure_openai").AtMapKey("subscription_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue("azurepg_ai_settings.s", tfjsonpath.New("azure_openai").AtMapKey("subscription_key_wo_version"),
						knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAISettings(t, db, map[string]*string{"azure_openai.subscription_key": str(k1)}),
					noFiles,
				),
			},
			{
				// A new value with the same version is not sent: the hand-made
				// change stays (write-only values cannot be compared).
				PreConfig:       func() { aiSet(t, db, "azure_openai.subscription_key", str("set-by-hand")) },
				Config:          aiWOConfig(db, 1),
				ConfigVariables: config.Variables{"key": config.StringVariable(k2)},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_ai_settings.s", plancheck.ResourceActionNoop),
				}},
				Check: checkAISettings(t, db, map[string]*string{"azure_openai.subscription_key": str("set-by-hand")}),
			},
			{
				Config:          aiWOConfig(db, 2),
				ConfigVariables: config.Variables{"key": config.StringVariable(k2)},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("azurepg_ai_settings.s", plancheck.ResourceActionUpdate),
					planHasNo{k1, k2},
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkAISettings(t, db, map[string]*string{"azure_openai.subscription_key": str(k2)}),
					noFiles,
				),
			},
		},
	})
}

// TestAccAISettingsWithExtension: one apply installs azure_ai with
// azurepg_extension and applies the settings after it (user story 2); the
// destroy clears the settings before it drops the extension.
func TestAccAISettingsWithExtension(t *testing.T) {
	acctest.Emulator(t)
	// Created by the Entra admin, which then owns it, as on Azure.
	db := acctest.Name("ai-story")
	if _, err := acctest.AdminConn(t, "postgres").Exec(context.Background(), "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		acctest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	})
	extensions := func() int {
		var n int
		acctest.SuperQueryRow(t, db, "SELECT count(*) FROM pg_extension WHERE extname = 'azure_ai'", nil, &n)
		return n
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if extensions() != 0 {
				return fmt.Errorf("azure_ai is still installed")
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`provider "azurepg" {}

resource "azurepg_extension" "azure_ai" {
  database = %s
  name     = "azure_ai"
}

resource "azurepg_ai_settings" "s" {
  database = azurepg_extension.azure_ai.database
  azure_openai {
    endpoint  = "https://acc.openai.azure.com"
    auth_type = "managed-identity"
  }
  depends_on = [azurepg_extension.azure_ai]
}`, hclquote.String(db)),
			Check: resource.ComposeAggregateTestCheckFunc(
				func(*terraform.State) error {
					if extensions() != 1 {
						return fmt.Errorf("azure_ai is not installed")
					}
					return nil
				},
				checkAISettings(t, db, map[string]*string{
					"azure_openai.endpoint": str("https://acc.openai.azure.com"), "azure_openai.auth_type": str("managed-identity"),
				}),
			),
		}},
	})
}
