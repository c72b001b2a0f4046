// Package acctest is what the provider's acceptance tests share: the
// provider factories, provider blocks, the Terraform CLI helpers, and (from
// pgtest, re-exported here) the emulator fixture and SQL helpers.
package acctest

import (
	"fmt"
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/provider"
)

// ProviderFactories serve the provider in-process for terraform-plugin-testing.
var ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"azurepg": providerserver.NewProtocol6WithError(provider.New("test")()),
}

// The emulator fixture and SQL helpers of pgtest.
var (
	Emulator      = pgtest.Emulator
	Name          = pgtest.Name
	LongName      = pgtest.LongName
	SuperExec     = pgtest.SuperExec
	SuperQueryRow = pgtest.SuperQueryRow
	AdminConn     = pgtest.AdminConn
	RoleExists    = pgtest.RoleExists
	NewObject     = pgtest.NewObject
	NewAdmin      = pgtest.NewAdmin

	// The second emulator, another server of the first's cloud and
	// tenant, and the SQL helpers that take the emulator to run on.
	SecondEmulator  = pgtest.SecondEmulator
	SuperExecOn     = pgtest.SuperExecOn
	SuperQueryRowOn = pgtest.SuperQueryRowOn
	AdminConnOn     = pgtest.AdminConnOn
	RoleExistsOn    = pgtest.RoleExistsOn
	MakeAdminOn     = pgtest.MakeAdminOn

	// SetReadOnly makes the server read-only, as Azure does when its
	// storage is full (tests that run alone only).
	SetReadOnly = pgtest.SetReadOnly

	AzureAIVersion       = pgtest.AzureAIVersion
	OtherAzureAIVersions = pgtest.OtherAzureAIVersions
)

// Main runs the tests, then stops the emulators and removes the provider
// binaries built for CLI tests. Use it in TestMain.
func Main(m *testing.M) {
	if os.Getenv("TF_ACC") != "" {
		prepareForCLI(CLI(TerraformPath()))
	}
	code := m.Run()
	pgtest.Stop()
	removeBuiltBinaries()
	os.Exit(code)
}

// ProviderBlock is a provider block that logs in as the given managed
// identity (an admin from NewAdmin) with extra attributes appended.
func ProviderBlock(o emulator.Object, extra string) string {
	return fmt.Sprintf(`
provider "azurepg" {
  username    = %q
  auth_method = "managed_identity"
  client_id   = %q
  %s
}
`, o.Name, o.ClientID, extra)
}

// prepareForCLI adapts terraform-plugin-testing to the CLI under test.
// Under OpenTofu it
//   - serves the in-process provider under the address OpenTofu gives a
//     provider without a source (provider "azurepg" {}):
//     registry.opentofu.org/hashicorp/azurepg, where plugin-testing's
//     default is registry.terraform.io's; with the wrong host OpenTofu looks
//     for the provider in its registry instead of attaching to the test's;
//   - drops a TF_CLI_CONFIG_FILE that names no file: OpenTofu warns about
//     it on stdout, before the JSON of `tofu version -json`, which
//     plugin-testing (terraform-exec) then cannot read, and no test runs
//     (Terraform warns on stderr). The CLI tests write their own file.
//
// Variables set to anything else are left as they are.
func prepareForCLI(c CLIInfo) {
	if !c.OpenTofu() {
		return
	}
	for k, v := range map[string]string{"TF_ACC_PROVIDER_HOST": "registry.opentofu.org", "TF_ACC_PROVIDER_NAMESPACE": "hashicorp"} {
		if os.Getenv(k) == "" {
			_ = os.Setenv(k, v)
		}
	}
	if f := os.Getenv("TF_CLI_CONFIG_FILE"); f != "" {
		if _, err := os.Stat(f); err != nil {
			_ = os.Unsetenv("TF_CLI_CONFIG_FILE")
		}
	}
}
