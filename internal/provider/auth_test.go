package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// hclList renders names as an HCL list of strings (the names used here have
// no template sequences).
func hclList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// checkTokenRequests checks how many tokens the fake endpoint handed out for
// a client id, over all resources.
func checkTokenRequests(t *testing.T, clientID string, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := acctest.Emulator(t).TokenRequestsFor(clientID); got != want {
			return fmt.Errorf("token requests for client_id %s: got %d, want %d", clientID, got, want)
		}
		return nil
	}
}

// checkTokenRequestsFor checks the requests for one resource (cloud) and client id.
func checkTokenRequestsFor(t *testing.T, res, clientID string, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := acctest.Emulator(t).TokenRequests(res, clientID); got != want {
			return fmt.Errorf("token requests for %s and client_id %s: got %d, want %d", res, clientID, got, want)
		}
		return nil
	}
}

// planCheck runs a check function as a plan check (plan-only steps do not
// run Check).
type planCheck func() error

func (f planCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f()
}

func tokenCountCheck(t *testing.T, clientID string, want int) plancheck.PlanCheck {
	return planCheck(func() error { return checkTokenRequests(t, clientID, want)(nil) })
}

// adminDataSource reads the admin's own principal: the smallest thing that
// needs a connection.
func adminDataSource(admin emulator.Object) string {
	return fmt.Sprintf(`
data "azurepg_principal" "me" {
  name = %q
}
`, admin.Name)
}

// adminReadChecks checks what adminDataSource read (a fresh slice each call).
func adminReadChecks(admin emulator.Object) []statecheck.StateCheck {
	const me = "data.azurepg_principal.me"
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue(me, tfjsonpath.New("object_id"), knownvalue.StringExact(admin.ObjectID)),
		statecheck.ExpectKnownValue(me, tfjsonpath.New("type"), knownvalue.StringExact("service")),
		statecheck.ExpectKnownValue(me, tfjsonpath.New("admin"), knownvalue.Bool(true)),
	}
}

// TestAccAuthManagedIdentityOneToken: with a user-assigned managed identity,
// a plan that reads 20 data sources in parallel (Terraform's parallelism is
// 10, the pool has 4 connections) fetches exactly one token, and the apply
// of 20 principals, the refresh and the plans after it fetch none.
func TestAccAuthManagedIdentityOneToken(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	names := make([]string, 20)
	for i := range names {
		names[i] = acctest.NewObject(t, "group", "acc-one-token").Name
	}
	reads := acctest.ProviderBlock(admin, "") + fmt.Sprintf(`
data "azurepg_principal" "d" {
  count = 20
  name  = %q
}
`, admin.Name)
	creates := reads + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  count = 20
  name  = %s[count.index]
}
`, hclList(names))
	if n := e.TokenRequestsFor(admin.ClientID); n != 0 {
		t.Fatalf("%d token requests before the test", n)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, names...),
		Steps: []resource.TestStep{
			{
				// A plan only: 20 data source reads.
				Config:   reads,
				PlanOnly: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPreRefresh:  []plancheck.PlanCheck{tokenCountCheck(t, admin.ClientID, 1)},
					PostApplyPostRefresh: []plancheck.PlanCheck{tokenCountCheck(t, admin.ClientID, 1)},
				},
			},
			{
				PreConfig: func() {
					if n := e.TokenRequestsFor(admin.ClientID); n != 1 {
						t.Errorf("the plan over 20 data sources fetched %d tokens, want 1", n)
					}
				},
				Config: creates,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.p[19]", tfjsonpath.New("name"), knownvalue.StringExact(names[19])),
					statecheck.ExpectKnownValue("data.azurepg_principal.d[19]", tfjsonpath.New("object_id"), knownvalue.StringExact(admin.ObjectID)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTokenRequests(t, admin.ClientID, 1),
					checkTokenRequestsFor(t, acctest.ResourcePublic, admin.ClientID, 1),
				),
			},
			{
				// Refresh and plan again: still the first token.
				Config:   creates,
				PlanOnly: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{tokenCountCheck(t, admin.ClientID, 1)},
				},
			},
		},
	})
	t.Logf("token requests for the whole test (plan of 20 reads, apply of 20 principals, refreshes, destroy): %d",
		e.TokenRequestsFor(admin.ClientID))
}

// TestAccAuthClientIDAndClouds: the configured client_id, and the scope of
// each cloud, reach the token endpoint; the login works with each token.
func TestAccAuthClientIDAndClouds(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            acctest.ProviderBlock(admin, "") + adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTokenRequestsFor(t, acctest.ResourcePublic, admin.ClientID, 1),
					checkTokenRequestsFor(t, acctest.ResourceChina, admin.ClientID, 0),
					// No token for the default identity (no client_id) was asked for by this test's provider.
					checkTokenRequests(t, admin.ClientID, 1),
				),
			},
			{
				Config:            acctest.ProviderBlock(admin, `cloud = "china"`) + adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTokenRequestsFor(t, acctest.ResourceChina, admin.ClientID, 1),
					checkTokenRequestsFor(t, acctest.ResourceUSGovernment, admin.ClientID, 0),
				),
			},
			{
				Config:            acctest.ProviderBlock(admin, `cloud = "usgovernment"`) + adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTokenRequestsFor(t, acctest.ResourceUSGovernment, admin.ClientID, 1),
					checkTokenRequestsFor(t, acctest.ResourcePublic, admin.ClientID, 1),
					checkTokenRequestsFor(t, acctest.ResourceChina, admin.ClientID, 1),
					checkTokenRequests(t, admin.ClientID, 3),
				),
			},
		},
	})
}

// TestAccAuthAzureCLI: auth_method = "azure_cli" runs `az` from PATH with the
// cloud's resource (and the tenant when tenant_id is set), and logs in with
// the token it prints; the managed-identity endpoint is not asked.
func TestAccAuthAzureCLI(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	calls := acctest.FakeAZ(t, tok)
	checkCalls := func(want ...string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			got := acctest.ReadLines(t, calls)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				return fmt.Errorf("az was called with:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            acctest.AuthBlock(admin.Name, "azure_cli", "") + adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkCalls("account get-access-token -o json --resource "+acctest.ResourcePublic),
					checkTokenRequests(t, admin.ClientID, 0),
				),
			},
			{
				Config: acctest.AuthBlock(admin.Name, "azure_cli", fmt.Sprintf(`
  cloud     = "china"
  tenant_id = %q`, e.TenantID())) + adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkCalls("account get-access-token -o json --resource "+acctest.ResourcePublic,
						"account get-access-token -o json --resource "+acctest.ResourceChina+" --tenant "+e.TenantID()),
					checkTokenRequests(t, admin.ClientID, 0),
				),
			},
		},
	})
}

// TestAccAuthStaticTokenAndPassword: a token obtained elsewhere
// (access_token), and the server admin's password (password), both log in;
// neither asks the token endpoint.
func TestAccAuthStaticTokenAndPassword(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	other := acctest.NewObject(t, "user", "acc-static")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, other.Name),
		Steps: []resource.TestStep{
			{
				Config: acctest.AuthBlock(admin.Name, "access_token", fmt.Sprintf("access_token = %q", tok.Value)) +
					adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTokenRequests(t, admin.ClientID, 0),
				),
			},
			{
				// The server admin (a password role, member of azure_pg_admin) logs in and reads.
				Config: acctest.AuthBlock(emulator.ServerAdmin, "password", fmt.Sprintf("password = %q", e.ServerAdminPassword())) +
					adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTokenRequests(t, admin.ClientID, 0),
				),
			},
			{
				// But only Entra admins create principals: Azure's own refusal reaches the user.
				Config: acctest.AuthBlock(emulator.ServerAdmin, "password", fmt.Sprintf("password = %q", e.ServerAdminPassword())) +
					adminDataSource(admin) + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name = %q
}
`, other.Name),
				ExpectError: words("permission denied for function pgaadauth_create_principal"),
			},
		},
	})
}

// TestAccAuthUnknownAtPlan: the provider's host comes from a resource created
// in the same apply (terraform_data, built into Terraform): the plan must
// not fail, nothing connects before the value is known, and the apply
// creates the principal once it is.
func TestAccAuthUnknownAtPlan(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	p := acctest.NewObject(t, "group", "acc-unknown-host")
	config := fmt.Sprintf(`
resource "terraform_data" "server" {
  input = %q
}

provider "azurepg" {
  host        = terraform_data.server.output
  port        = %d
  username    = %q
  auth_method = "managed_identity"
  client_id   = %q
}

resource "azurepg_principal" "p" {
  name = %q
}
`, e.Host(), e.Port(), admin.Name, admin.ClientID, p.Name)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		ExternalProviders:        map[string]resource.ExternalProvider{"terraform": {Source: "terraform.io/builtin/terraform"}},
		CheckDestroy:             checkRolesGone(t, p.Name),
		Steps: []resource.TestStep{
			{
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{tokenCountCheck(t, admin.ClientID, 0)},
				},
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					// The host really is unknown when the provider is configured for the plan.
					PreApply: []plancheck.PlanCheck{plancheck.ExpectUnknownValue("terraform_data.server", tfjsonpath.New("output"))},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.p", tfjsonpath.New("object_id"), knownvalue.StringExact(p.ObjectID)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkServerPrincipal(t, p.Name, "group", p.ObjectID, false, false),
					checkTokenRequests(t, admin.ClientID, 1),
				),
			},
		},
	})
}

// TestAccAuthNoConnectionBeforeNeeded: planning the creation of a principal
// on a server that cannot be reached succeeds: no connection and no token
// before a resource needs one.
func TestAccAuthNoConnectionBeforeNeeded(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(admin, fmt.Sprintf(`
  host            = "127.0.0.1"
  port            = %d
  connect_timeout = 1`, acctest.ClosedPort(t))) + `
resource "azurepg_principal" "p" {
  name = "someone@contoso.com"
}
`,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{tokenCountCheck(t, admin.ClientID, 0)},
			},
		}},
	})
}

// TestAccAuthHostileUsername: the login name reaches the server exactly,
// whatever it contains (@, spaces, quotes, a semicolon, %, :, /, non-ASCII,
// 63 bytes), with a managed identity and with the default chain.
// (Note: the Azure SDK caches managed-identity tokens per process and scope,
// shared by every credential, so a second credential for the same scope
// does not ask the endpoint again.)
func TestAccAuthHostileUsername(t *testing.T) {
	e := acctest.Emulator(t)
	base := acctest.Name(`acc "mi" o'brien; @x:y/%20 ünï`)
	name := base
	for len(name) < 63 {
		name += "z"
	}
	name = name[:63]
	if len(name) != 63 {
		t.Fatalf("name of %d bytes", len(name))
	}
	admin, err := e.AddObject(context.Background(), emulator.Object{Kind: "managed_identity", Name: name})
	if err != nil {
		t.Fatal(err)
	}
	acctest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, true, false)", admin.Name, admin.ObjectID)
	whoami := `
data "azurepg_principals" "admins" {
  admins_only = true
}
`
	hasAdmin := func(s *terraform.State) error {
		rs := s.RootModule().Resources["data.azurepg_principals.admins"]
		for k, v := range rs.Primary.Attributes {
			if strings.HasSuffix(k, ".name") && v == name {
				return nil
			}
		}
		return fmt.Errorf("%q is not among the admins", name)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: acctest.ProviderBlock(admin, "") + whoami,
				Check:  resource.ComposeAggregateTestCheckFunc(hasAdmin, checkTokenRequests(t, admin.ClientID, 1)),
			},
			{
				// The default chain with client_id (workload identity, then managed identity, then Azure CLI).
				// Another cloud, so that the Azure SDK's own in-process token cache cannot answer.
				Config: acctest.AuthBlock(admin.Name, "default", fmt.Sprintf("client_id = %q\n  cloud = \"china\"", admin.ClientID)) + whoami,
				Check: resource.ComposeAggregateTestCheckFunc(hasAdmin,
					checkTokenRequestsFor(t, acctest.ResourceChina, admin.ClientID, 1), checkTokenRequests(t, admin.ClientID, 2)),
			},
		},
	})
}
