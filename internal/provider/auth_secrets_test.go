package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// secretSet is the secrets a test must not find anywhere, by description.
type secretSet map[string]string

func (s secretSet) find(where string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if found := acctest.FindSecrets(where, b, s); len(found) > 0 {
		return errors.New(strings.Join(found, "; "))
	}
	return nil
}

// planHasNoSecrets checks the plan JSON (terraform show -json of the saved plan).
type planHasNoSecrets struct {
	secrets secretSet
	where   string
}

func (c planHasNoSecrets) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c.secrets.find(c.where, req.Plan)
}

// stateHasNoSecrets checks the state JSON (terraform show -json).
type stateHasNoSecrets struct{ secrets secretSet }

func (c stateHasNoSecrets) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = c.secrets.find("state JSON", req.State)
}

// shimmedStateHasNoSecrets checks the state as Check functions see it.
func shimmedStateHasNoSecrets(secrets secretSet) resource.TestCheckFunc {
	return func(s *terraform.State) error { return secrets.find("state", s) }
}

func noSecretsChecks(secrets secretSet) (resource.ConfigPlanChecks, []statecheck.StateCheck) {
	return resource.ConfigPlanChecks{
		PreApply:             []plancheck.PlanCheck{planHasNoSecrets{secrets, "plan JSON"}},
		PostApplyPostRefresh: []plancheck.PlanCheck{planHasNoSecrets{secrets, "refresh plan JSON"}},
	}, []statecheck.StateCheck{stateHasNoSecrets{secrets}}
}

const ephemeralSecretVariable = `
variable "client_secret" {
  type      = string
  ephemeral = true
}
`

// TestAccAuthNoSecrets: with TF_LOG=trace (provider and Terraform CLI logs),
// no token, password or client secret appears in the logs, the state or the
// plan JSON. The secrets are given the way users give them: the password and
// the token through the provider's environment variables (PGPASSWORD,
// AZUREPG_ACCESS_TOKEN), the client secret from an ephemeral variable, and the
// managed identity's token fetched by the provider itself.
func TestAccAuthNoSecrets(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	logDir := t.TempDir()
	providerLog := filepath.Join(logDir, "provider.log")
	cliLog := filepath.Join(logDir, "terraform.log")
	t.Setenv("TF_LOG", "trace")
	t.Setenv("TF_LOG_PATH", providerLog)
	t.Setenv("TF_ACC_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", cliLog)

	// The static token belongs to a second admin, so that it differs from
	// the token the provider fetches for the first.
	admin2 := acctest.NewAdmin(t)
	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin2.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	clientSecret := "cs~" + acctest.Name("NotInAnyLog")
	secrets := secretSet{
		"server admin password": e.ServerAdminPassword(),
		"static access token":   tok.Value,
		"client secret":         clientSecret,
	}
	closed := acctest.ClosedPort(t)
	p1 := acctest.NewObject(t, "user", "acc-secret")
	p2 := acctest.NewObject(t, "group", "acc-secret")
	principals := fmt.Sprintf(`
resource "azurepg_principal" "p1" {
  name = %q
}
`, p1.Name)
	principals2 := principals + fmt.Sprintf(`
resource "azurepg_principal" "p2" {
  name = %q
}
`, p2.Name)
	planChecks, stateChecks := noSecretsChecks(secrets)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, p1.Name, p2.Name),
		Steps: []resource.TestStep{
			{
				// password from PGPASSWORD; client_secret (unused by this method)
				// from an ephemeral variable. (A literal in the provider block
				// would be in the plan JSON: Terraform copies the configuration's
				// constant expressions there.)
				PreConfig:       func() { t.Setenv("PGPASSWORD", e.ServerAdminPassword()) },
				ConfigVariables: config.Variables{"client_secret": config.StringVariable(clientSecret)},
				// It reads only: creating principals is for Entra admins.
				Config: ephemeralSecretVariable + acctest.AuthBlock(emulator.ServerAdmin, "password", "client_secret = var.client_secret") +
					adminDataSource(admin),
				ConfigPlanChecks:  planChecks,
				ConfigStateChecks: append(adminReadChecks(admin), stateChecks...),
				Check:             shimmedStateHasNoSecrets(secrets),
			},
			{
				// access token from AZUREPG_ACCESS_TOKEN.
				PreConfig: func() {
					os.Unsetenv("PGPASSWORD")
					t.Setenv("AZUREPG_ACCESS_TOKEN", tok.Value)
				},
				Config:            acctest.AuthBlock(admin2.Name, "access_token", "") + principals2 + adminDataSource(admin),
				ConfigPlanChecks:  planChecks,
				ConfigStateChecks: append(adminReadChecks(admin), stateChecks...),
				Check:             shimmedStateHasNoSecrets(secrets),
			},
			{
				// The managed identity's own token.
				PreConfig:         func() { os.Unsetenv("AZUREPG_ACCESS_TOKEN") },
				Config:            acctest.ProviderBlock(admin, "") + principals2 + adminDataSource(admin),
				ConfigPlanChecks:  planChecks,
				ConfigStateChecks: append(adminReadChecks(admin), stateChecks...),
				Check:             shimmedStateHasNoSecrets(secrets),
			},
			{
				// A client secret that is sent and refused (nobody listens at the authority).
				PreConfig:       func() { t.Setenv("AZURE_AUTHORITY_HOST", fmt.Sprintf("https://127.0.0.1:%d/", closed)) },
				ConfigVariables: config.Variables{"client_secret": config.StringVariable(clientSecret)},
				Config: ephemeralSecretVariable + acctest.AuthBlock(admin.Name, "client_secret", fmt.Sprintf(`
  tenant_id     = %q
  client_id     = %q
  client_secret = var.client_secret`, e.TenantID(), admin.ClientID)) + principals2 + adminDataSource(admin),
				ExpectError: words(`could not get an Entra access token with auth_method "client_secret"`, "ClientSecretCredential"),
			},
			{
				PreConfig:         func() { os.Unsetenv("AZURE_AUTHORITY_HOST") },
				Config:            acctest.ProviderBlock(admin, "") + principals2 + adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
			},
		},
	})
	// The managed identity's token the provider used (the endpoint's current one).
	mi, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if mi.Value == tok.Value {
		t.Fatal("the managed identity's token is the static one: the test would not tell them apart")
	}
	secrets["managed identity token"] = mi.Value
	// TF_ACC_LOG_PATH takes the in-process provider's log too; TF_LOG_PATH
	// keeps what the Go log package writes (usually nothing).
	acctest.CheckNoSecretsInFile(t, cliLog, 100000, secrets)
	acctest.CheckNoSecretsInFile(t, providerLog, 0, secrets)
	for _, f := range []string{providerLog, cliLog} {
		b, _ := os.ReadFile(f)
		t.Logf("%s: %d bytes", filepath.Base(f), len(b))
	}
	// The log is the real thing: Terraform's and the provider's trace lines,
	// with the user name and the credential's error.
	b, _ := os.ReadFile(cliLog)
	for _, want := range []string{emulator.ServerAdmin, "ClientSecretCredential", "Calling provider defined Provider Configure",
		"Calling provider defined DataSource Read", "ReadDataSource"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the trace log does not contain %q: is it the log of this test?", want)
		}
	}
}
