package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// TestAccDecisionLogDebug: with TF_LOG=debug the provider logs its
// decisions (settings from the environment, a token fetched with its
// expiry, a pool opened) and never a token.
func TestAccDecisionLogDebug(t *testing.T) {
	acctest.Emulator(t)
	logFile := filepath.Join(t.TempDir(), "debug.log")
	t.Setenv("TF_LOG", "debug")
	t.Setenv("TF_LOG_PATH", logFile)
	t.Setenv("TF_ACC_LOG", "debug")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	o := acctest.NewObject(t, "user", "decision-log")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{{
			// An auth setting of its own (connect_timeout bounds the token
			// fetch too) gives this test a client and a token source of its
			// own: the provider runs in this process, where other tests'
			// clients already hold a token and connections.
			Config: "provider \"azurepg\" {\n  connect_timeout = 29\n}\n" + fmt.Sprintf(`resource "azurepg_principal" "p" {
  name = %q
}`, o.Name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("azurepg_principal.p", tfjsonpath.New("name"), knownvalue.StringExact(o.Name)),
			},
		}},
	})
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{
		"azurepg: provider settings taken from the environment",
		"entratoken: token fetched",
		"expires_on",
		"pgaad: pool opened",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the debug log lacks %q", want)
		}
	}
	// Entra tokens are JWTs: three base64url parts, the first "eyJ".
	if jwt := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.`).FindString(log); jwt != "" {
		t.Errorf("a token reached the debug log: %.20s...", jwt)
	}
}
