package provider_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// TestReliabilityHostileAISettings sends setting values built to break SQL
// (quotes, semicolons, backslashes, $$, template sequences, non-ASCII)
// through azurepg_ai_settings: the server holds exactly those values, and
// values with NUL are refused at plan time (the server cannot store them).
func TestReliabilityHostileAISettings(t *testing.T) {
	acctest.Emulator(t)
	canary := acctest.Name("rel ai canary")
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+quoteIdent(canary))
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+quoteIdent(canary)) })
	db := aiDatabase(t, hostileDatabaseName(), true)

	key := `k'ey"; DROP ROLE ` + quoteIdent(canary) + `; -- $$ \ 東京 ${x} %{y}`
	region := `west'); SELECT azure_ai.set_setting('azure_openai.endpoint', 'https://evil'); --`
	translator := `/subscriptions/'$$'/providers/"x"\y/東京`
	endpoint := "https://acc.openai.azure.com/path'x\";$$/é?q=a'b"
	body := func() string {
		return fmt.Sprintf(`
  azure_openai {
    endpoint         = %s
    auth_type        = "subscription-key"
    subscription_key = %s
  }
  azure_cognitive {
    endpoint               = "https://acc.cognitiveservices.azure.com"
    auth_type              = "managed-identity"
    region                 = %s
    translator_resource_id = %s
  }
`, hclquote.String(endpoint), hclquote.String(key), hclquote.String(region), hclquote.String(translator))
	}
	check := func(*terraform.State) error {
		for k, want := range map[string]string{
			"azure_openai.endpoint": endpoint, "azure_openai.subscription_key": key,
			"azure_cognitive.region": region, "azure_cognitive.translator_resource_id": translator,
		} {
			if got := aiGet(t, db, k); got == nil || *got != want {
				return fmt.Errorf("%s on the server is %v, want %q", k, got, want)
			}
		}
		if !acctest.RoleExists(t, canary) {
			return fmt.Errorf("the canary role %q was dropped", canary)
		}
		return nil
	}
	config := aiConfig(db, body())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: check},
			{
				Config:      aiConfig(db, body()) + "\n" + nulSetting("region"),
				PlanOnly:    true,
				ExpectError: words("must not contain a NUL character"),
			},
			{
				Config:      aiConfig(db, body()) + "\n" + nulSetting("subscription_key"),
				PlanOnly:    true,
				ExpectError: words("must not contain a NUL character"),
			},
			{Config: config, PlanOnly: true},
		},
	})
}

// nulSetting is a second azurepg_ai_settings whose azure_cognitive block
// has a NUL in the given attribute.
func nulSetting(attr string) string {
	extra := ""
	if attr == "subscription_key" {
		extra = `auth_type = "subscription-key"`
	}
	return fmt.Sprintf(`
resource "azurepg_ai_settings" "nul" {
  database = "nul_db"
  azure_cognitive {
    %s = "a\u0000b"
    %s
  }
}
`, attr, extra)
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }
