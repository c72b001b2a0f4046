package provider_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// TestAccAISettingsDataSource: the data source shows the non-secret
// settings (those set out of band too) and which keys are set, never a key.
func TestAccAISettingsDataSource(t *testing.T) {
	acctest.Emulator(t)
	db := aiDatabase(t, hostileDatabaseName(), true)
	aiSet(t, db, "azure_cognitive.region", str("westeurope"))
	aiSet(t, db, "azure_ml.serverless_ranking_endpoint_key", str("ds-oob-key"))
	const ds = "data.azurepg_ai_settings.d"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config: aiConfig(db, `
  azure_openai {
    endpoint         = "https://acc.openai.azure.com"
    auth_type        = "subscription-key"
    subscription_key = "ds-key-1"
  }`) + fmt.Sprintf(`
data "azurepg_ai_settings" "d" {
  database   = %s
  depends_on = [azurepg_ai_settings.s]
}`, hclquote.String(db)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("id"), knownvalue.StringExact(db)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("azure_openai").AtMapKey("endpoint"), knownvalue.StringExact("https://acc.openai.azure.com")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("azure_openai").AtMapKey("auth_type"), knownvalue.StringExact("subscription-key")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("azure_openai").AtMapKey("subscription_key_set"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("azure_cognitive").AtMapKey("region"), knownvalue.StringExact("westeurope")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("azure_cognitive").AtMapKey("endpoint"), knownvalue.Null()),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("azure_cognitive").AtMapKey("subscription_key_set"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("azure_ml").AtMapKey("endpoint_key_set"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("azure_ml").AtMapKey("serverless_ranking_endpoint_key_set"), knownvalue.Bool(true)),
			},
			// The schema has no key attribute to check (only *_set): this
			// check reads every attribute for the key values instead.
			Check: func(s *terraform.State) error {
				for k, v := range s.RootModule().Resources[ds].Primary.Attributes {
					if strings.Contains(v, "ds-key-1") || strings.Contains(v, "ds-oob-key") {
						return fmt.Errorf("the data source holds a key in %s", k)
					}
				}
				return nil
			},
		}},
	})
}
