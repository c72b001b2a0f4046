package provider_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

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
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(ds, "id", db),
				resource.TestCheckResourceAttr(ds, "azure_openai.endpoint", "https://acc.openai.azure.com"),
				resource.TestCheckResourceAttr(ds, "azure_openai.auth_type", "subscription-key"),
				resource.TestCheckResourceAttr(ds, "azure_openai.subscription_key_set", "true"),
				resource.TestCheckResourceAttr(ds, "azure_cognitive.region", "westeurope"),
				resource.TestCheckNoResourceAttr(ds, "azure_cognitive.endpoint"),
				resource.TestCheckResourceAttr(ds, "azure_cognitive.subscription_key_set", "false"),
				resource.TestCheckResourceAttr(ds, "azure_ml.endpoint_key_set", "false"),
				resource.TestCheckResourceAttr(ds, "azure_ml.serverless_ranking_endpoint_key_set", "true"),
				resource.TestCheckNoResourceAttr(ds, "azure_openai.subscription_key"),
				func(s *terraform.State) error {
					for k, v := range s.RootModule().Resources[ds].Primary.Attributes {
						if strings.Contains(v, "ds-key-1") || strings.Contains(v, "ds-oob-key") {
							return fmt.Errorf("the data source holds a key in %s", k)
						}
					}
					return nil
				},
			),
		}},
	})
}
