package provider_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

const (
	publicResource = "https://ossrdbms-aad.database.windows.net"
	chinaResource  = "https://ossrdbms-aad.database.chinacloudapi.cn"
)

// echoFactories serve azurepg and the echo provider, which copies its
// configuration (here, what the ephemeral resource returned) into the state
// of an echo resource, so that a test can look at an ephemeral result.
func echoFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	f := map[string]func() (tfprotov6.ProviderServer, error){"echo": echoprovider.NewProviderServer()}
	for k, v := range acctest.ProviderFactories {
		f[k] = v
	}
	return f
}

// echoToken puts a digest of the token (never the token itself), its expiry
// and its scope into the state of echo.<name>. The echo resource keeps what
// it first recorded, so each step that looks at a new token uses a new name.
func echoToken(name string) string {
	return fmt.Sprintf(`
provider "echo" {
  data = {
    token_sha256 = sha256(ephemeral.azurepg_access_token.t.token)
    expires_on   = ephemeral.azurepg_access_token.t.expires_on
    scope        = ephemeral.azurepg_access_token.t.scope
  }
}

resource "echo" %q {}
`, name)
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// issuedToken is the token the fake endpoint holds for the identity and
// resource: the one it handed out, while more than half its lifetime is left.
func issuedToken(t *testing.T, resourceURI, clientID string) emulator.Token {
	t.Helper()
	tok, err := acctest.Emulator(t).IssueToken(context.Background(), resourceURI, clientID)
	if err != nil {
		t.Fatalf("token of %s for %s: %v", clientID, resourceURI, err)
	}
	return tok
}

// expectIssued checks that the echo resource addr holds the digest, expiry and scope of
// the token that the fake endpoint issued to clientID for resourceURI.
func expectIssued(t *testing.T, addr, resourceURI, clientID string) []statecheck.StateCheck {
	data := tfjsonpath.New("data")
	return []statecheck.StateCheck{
		statecheck.ExpectKnownValue(addr, data.AtMapKey("token_sha256"), knownvalue.StringFunc(func(got string) error {
			if want := digest(issuedToken(t, resourceURI, clientID).Value); got != want {
				return fmt.Errorf("the token is not the one issued to %s for %s", clientID, resourceURI)
			}
			return nil
		})),
		statecheck.ExpectKnownValue(addr, data.AtMapKey("expires_on"), knownvalue.StringFunc(func(got string) error {
			at, err := time.Parse(time.RFC3339, got)
			if err != nil {
				return fmt.Errorf("expires_on %q is not RFC 3339: %w", got, err)
			}
			if want := issuedToken(t, resourceURI, clientID).ExpiresOn; !at.Equal(want) {
				return fmt.Errorf("expires_on %s, but the token expires at %s", at, want)
			}
			return nil
		})),
		statecheck.ExpectKnownValue(addr, data.AtMapKey("scope"), knownvalue.StringExact(resourceURI+"/.default")),
	}
}

// noToken fails when the token issued to clientID appears anywhere in a
// plan or a state, sensitive values included.
type noToken struct {
	t                     *testing.T
	resourceURI, clientID string
}

func (c noToken) check(what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if strings.Contains(string(b), issuedToken(c.t, c.resourceURI, c.clientID).Value) {
		return fmt.Errorf("the access token is in the %s", what)
	}
	return nil
}

func (c noToken) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = c.check("plan", req.Plan)
}

func (c noToken) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	resp.Error = c.check("state", req.State)
}

func tokenRequests(t *testing.T, resourceURI, clientID string, want func(int) bool, desc string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if n := acctest.Emulator(t).TokenRequests(resourceURI, clientID); !want(n) {
			return fmt.Errorf("token requests for %s by client %s: %d, want %s", resourceURI, clientID, n, desc)
		}
		return nil
	}
}

// planCheckFunc is a plan check that looks at the emulator, not the plan.
type planCheckFunc func() error

func (f planCheckFunc) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f()
}

func atLeastOne(n int) bool { return n >= 1 }
func none(n int) bool       { return n == 0 }

// TestAccAccessTokenProviderCredential: without settings of its own the
// token comes from the provider's credential (its user-assigned identity),
// for the public cloud's scope; it logs in to the server with psql in a
// local-exec provisioner, and it is in neither the plan nor the state.
func TestAccAccessTokenProviderCredential(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	e.SetTokenLifetime(admin.ClientID, 40*time.Minute)
	hidden := noToken{t, publicResource, admin.ClientID}

	login := ""
	if _, err := exec.LookPath("psql"); err == nil {
		// The token as psql's password: the login proves it is the identity's.
		login = fmt.Sprintf(`
resource "terraform_data" "psql" {
  provisioner "local-exec" {
    command = "test \"$(psql -Atc 'SELECT current_user')\" = \"$PGUSER\""
    environment = {
      PGHOST      = %q
      PGPORT      = "%d"
      PGUSER      = %q
      PGDATABASE  = "postgres"
      PGSSLMODE   = "verify-full"
      PGSSLROOTCERT = %q
      PGPASSWORD  = ephemeral.azurepg_access_token.t.token
    }
  }
}
`, e.Host(), e.Port(), admin.Name, e.CAFile())
	} else {
		t.Log("psql not found: the login step is left out")
	}

	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: echoFactories(),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(admin, "") + `
ephemeral "azurepg_access_token" "t" {}
` + echoToken("token") + login,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply:             []plancheck.PlanCheck{hidden},
				PostApplyPostRefresh: []plancheck.PlanCheck{hidden},
			},
			ConfigStateChecks: append(expectIssued(t, "echo.token", publicResource, admin.ClientID), hidden),
			Check: resource.ComposeAggregateTestCheckFunc(
				tokenRequests(t, publicResource, admin.ClientID, atLeastOne, "at least one"),
				tokenRequests(t, chinaResource, admin.ClientID, none, "none"),
				tokenRequests(t, publicResource, "", none, "none (the default identity was not asked)"),
			),
		}},
	})
}

// TestAccAccessTokenOverrides: client_id and cloud set in the block win over
// the provider's: the token is another identity's, for China's scope.
func TestAccAccessTokenOverrides(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	other := acctest.NewObject(t, "managed_identity", "token-mi")
	e.SetTokenLifetime(other.ClientID, 30*time.Minute)

	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: echoFactories(),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(admin, "") + fmt.Sprintf(`
ephemeral "azurepg_access_token" "t" {
  client_id = %q
  cloud     = "china"
}
`, other.ClientID) + echoToken("china"),
			ConfigStateChecks: append(expectIssued(t, "echo.china", chinaResource, other.ClientID), noToken{t, chinaResource, other.ClientID}),
			Check: resource.ComposeAggregateTestCheckFunc(
				tokenRequests(t, chinaResource, other.ClientID, atLeastOne, "at least one"),
				tokenRequests(t, publicResource, other.ClientID, none, "none"),
				tokenRequests(t, publicResource, admin.ClientID, none, "none (the provider's identity was not asked)"),
				tokenRequests(t, chinaResource, admin.ClientID, none, "none (the provider's identity was not asked)"),
			),
		}, {
			// An empty client_id asks for the default (system-assigned) identity.
			Config: acctest.ProviderBlock(admin, "") + `
ephemeral "azurepg_access_token" "t" {
  client_id = ""
}
` + echoToken("system_assigned"),
			ConfigStateChecks: expectIssued(t, "echo.system_assigned", publicResource, ""),
			Check: resource.ComposeAggregateTestCheckFunc(
				tokenRequests(t, publicResource, "", atLeastOne, "at least one"),
				tokenRequests(t, publicResource, admin.ClientID, none, "none (the provider's identity was not asked)"),
			),
		}},
	})
}

// TestAccAccessTokenUnknownProviderIdentity: the provider's client_id comes
// from a resource of the same apply, so it is unknown while planning; the
// plan succeeds, and the apply hands out that identity's token.
//
// OpenTofu (1.12) opens an ephemeral resource while planning unless its own
// configuration is unknown or it depends on a pending change, and refuses an
// unknown result ("produced a value ... that is not wholly known"), which
// Terraform takes; nor can a provider defer there (OpenTofu does not offer
// deferrals). Under OpenTofu the test shows that refusal, then the way
// around it that the docs give: depends_on on the resource the credential
// comes from, so that OpenTofu opens the block during apply.
func TestAccAccessTokenUnknownProviderIdentity(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	e.SetTokenLifetime(admin.ClientID, 40*time.Minute)
	defaultBefore := e.TokenRequests(publicResource, "")
	config := func(ephemeralBody string) string {
		return fmt.Sprintf(`
resource "terraform_data" "identity" {
  input = %q
}

provider "azurepg" {
  username    = %q
  auth_method = "managed_identity"
  client_id   = terraform_data.identity.output
}

ephemeral "azurepg_access_token" "t" {%s}
`, admin.ClientID, admin.Name, ephemeralBody) + echoToken("token")
	}
	step := resource.TestStep{
		Config: config(""),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			// While planning, the token is not fetched with a guessed identity.
			PreApply: []plancheck.PlanCheck{planCheckFunc(func() error {
				if n := e.TokenRequests(publicResource, ""); n != defaultBefore {
					return fmt.Errorf("the default identity was asked for a token while planning (%d requests, %d before)", n, defaultBefore)
				}
				if n := e.TokenRequestsFor(admin.ClientID); n != 0 {
					return fmt.Errorf("%d token requests while the client id was unknown", n)
				}
				return nil
			})},
		},
		ConfigStateChecks: expectIssued(t, "echo.token", publicResource, admin.ClientID),
	}
	steps := []resource.TestStep{step}
	if acctest.OpenTofuUnder() {
		refused := resource.TestStep{
			Config:      config(""),
			ExpectError: regexp.MustCompile(`produced\s+a\s+value\s+for\s+ephemeral\.azurepg_access_token\.t\s+that\s+is\s+not\s+wholly\s+known`),
		}
		step.Config = config("\n  depends_on = [terraform_data.identity]\n")
		steps = []resource.TestStep{refused, step}
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: echoFactories(),
		Steps:                    steps,
	})
}

// TestAccAccessTokenErrors: settings that cannot yield a token fail with a
// message that says why, at plan time where the value alone is wrong.
func TestAccAccessTokenErrors(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	const missing = "6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05"
	block := func(provider, body string) string {
		return provider + "\nephemeral \"azurepg_access_token\" \"t\" {\n" + body + "\n}\n" + echoToken("token")
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: echoFactories(),
		Steps: []resource.TestStep{
			{
				// The fake endpoint knows no such identity.
				Config: block(acctest.ProviderBlock(admin, ""), fmt.Sprintf("client_id = %q", missing)),
				ExpectError: regexp.MustCompile(`(?s)Could not get an Entra access token.*auth_method\s+"managed_identity",\s+` +
					`client_id\s+"` + missing + `".*no managed identity with client_id`),
			},
			{
				Config:      block(acctest.ProviderBlock(admin, ""), `auth_method = "password"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)auth_method.*value must be one of`),
			},
			{
				Config:      block(acctest.ProviderBlock(admin, ""), `cloud = "mars"`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)cloud.*value must be one of`),
			},
			{
				Config: block(acctest.ProviderBlock(admin, ""), `
  auth_method   = "client_secret"
  client_secret = "not-a-real-secret"
  tenant_id     = ""`),
				ExpectError: regexp.MustCompile(`(?s)Invalid credential settings for the access token.*client_secret\s+needs\s+tenant_id`),
			},
			{
				Config: block(`
provider "azurepg" {
  username    = "pgadmin"
  auth_method = "password"
  password    = "break-glass"
}`, ""),
				ExpectError: regexp.MustCompile(`(?s)No Entra token with a password.*Set\s+auth_method\s+in\s+this\s+block`),
			},
		},
	})
}

// TestAccAccessTokenStatic: with auth_method = "access_token" the token given
// to the provider is handed on, and expires_on is read from its exp claim.
func TestAccAccessTokenStatic(t *testing.T) {
	acctest.Emulator(t)
	exp := time.Now().Add(17 * time.Minute).Truncate(time.Second).UTC()
	claims, _ := json.Marshal(map[string]any{"aud": publicResource, "exp": exp.Unix()})
	enc := base64.RawURLEncoding
	static := enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(claims) + ".c2ln"
	t.Setenv("AZUREPG_ACCESS_TOKEN", static)

	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		ProtoV6ProviderFactories: echoFactories(),
		Steps: []resource.TestStep{{
			Config: `
provider "azurepg" {
  auth_method = "access_token"
}

ephemeral "azurepg_access_token" "t" {}
` + echoToken("token"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.token", tfjsonpath.New("data").AtMapKey("token_sha256"), knownvalue.StringExact(digest(static))),
				statecheck.ExpectKnownValue("echo.token", tfjsonpath.New("data").AtMapKey("expires_on"), knownvalue.StringExact(exp.Format(time.RFC3339))),
			},
		}, {
			// A token that is not a JWT is handed on; its expiry is unknown, so null.
			PreConfig: func() { t.Setenv("AZUREPG_ACCESS_TOKEN", "opaque token; not a JWT") },
			Config: `
provider "azurepg" {
  auth_method = "access_token"
}

ephemeral "azurepg_access_token" "t" {}
` + echoToken("opaque"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.opaque", tfjsonpath.New("data").AtMapKey("token_sha256"), knownvalue.StringExact(digest("opaque token; not a JWT"))),
				statecheck.ExpectKnownValue("echo.opaque", tfjsonpath.New("data").AtMapKey("expires_on"), knownvalue.Null()),
			},
		}},
	})
}
