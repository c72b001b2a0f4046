package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

const loginResource = "https://ossrdbms-aad.database.windows.net"

func tokenConfig(username, token string) string {
	return fmt.Sprintf(`
provider "azurepg" {
  username     = %q
  auth_method  = "access_token"
  access_token = %q
}
data "azurepg_principals" "all" {}
`, username, token)
}

// TestLoginDiagnosis: when the server refuses a token, the error says which
// cause applies, from the emulator's Azure text and the token's claims
// decoded before connecting: expired at T, another audience (naming the
// cloud setting), not a JWT, another identity than username.
func TestLoginDiagnosis(t *testing.T) {
	e := acctest.Emulator(t)
	ctx := context.Background()

	// Expired: an identity of its own, with one-second tokens.
	expiring := acctest.NewAdmin(t)
	e.SetTokenLifetime(expiring.ClientID, time.Second)
	old, err := e.IssueToken(ctx, loginResource, expiring.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	oldClaims, err := entratoken.DecodeClaims(old.Value)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(oldClaims.ExpiresAt) + time.Second)

	// Another audience: the Entra admin's token for Azure Resource Manager.
	arm, err := e.IssueToken(ctx, "https://management.azure.com", "")
	if err != nil {
		t.Fatal(err)
	}
	// Another identity: a managed identity without a role, logging in as the admin.
	other := acctest.NewObject(t, "managed_identity", "acc-login-other")
	otherTok, err := e.IssueToken(ctx, loginResource, other.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	good, err := e.IssueToken(ctx, loginResource, "")
	if err != nil {
		t.Fatal(err)
	}

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: tokenConfig(expiring.Name, old.Value),
				ExpectError: words("Cannot connect to the server",
					"The access token has expired.",
					"the token expired at "+oldClaims.ExpiresAt.Format(time.RFC3339),
					"used as is, never refreshed"),
			},
			{
				Config: tokenConfig(e.AdminName(), arm.Value),
				ExpectError: words("Cannot connect to the server",
					"does not have a valid audience claim",
					`the token is for the audience "https://management.azure.com"; the configured cloud "public" takes tokens for "`+loginResource+`"`,
					"Get a token for the resource "+loginResource),
			},
			{
				Config: tokenConfig(e.AdminName(), "{"+good.Value+"}"),
				ExpectError: words("Cannot connect to the server",
					"The access token has invalid format.",
					"the password sent is not a JWT",
					"exactly as the authentication endpoint returned it",
					"let the provider fetch tokens with another auth_method"),
			},
			{
				Config: tokenConfig(e.AdminName(), otherTok.Value),
				ExpectError: words("Cannot connect to the server",
					fmt.Sprintf("the token is for object %s (appid %s, tenant %s); the user name %q must be the role of that identity",
						other.ObjectID, other.ClientID, e.TenantID(), e.AdminName()),
					"(tenant_id, cloud), and auth_method/client_id select the identity", "the role's Entra object was not deleted and recreated"),
			},
			{
				// The same provider settings with a good token log in.
				Config: tokenConfig(e.AdminName(), good.Value),
			},
		},
	})
}

// TestLoginUnreachableOnce: with a wrong port, a plan that reads 14
// principals shows the connection failure in full once, and a one-line
// error for each other read that it blocked (Terraform shows every
// resource's diagnostics; the count grows with each one).
func TestLoginUnreachableOnce(t *testing.T) {
	acctest.Emulator(t)
	port := acctest.ClosedPort(t)
	w := acctest.NewWorkdir(t, acctest.RequiredProviders+fmt.Sprintf(`
provider "azurepg" {
  port = %d
}
data "azurepg_principal" "p" {
  count = 14
  name  = "acc-unreachable-${count.index}"
}
`, port), nil)
	r := w.Run("plan", "-input=false", "-no-color")
	if r.Err == nil {
		t.Fatal("plan succeeded against a closed port")
	}
	out := flat(r.Stdout + r.Stderr)
	if n := strings.Count(out, "Error: Cannot connect to the server"); n != 14 {
		t.Errorf("%d errors, want one per data source (14):\n%s", n, out)
	}
	full := "connection refused: nothing is listening there Check host and port (Azure flexible servers listen on 5432)"
	if n := strings.Count(out, full); n != 1 {
		t.Errorf("the full explanation appears %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "not done: connection refused: nothing is listening there (the same failure as the error told in full once"); n != 13 {
		t.Errorf("%d one-line errors, want 13:\n%s", n, out)
	}
	if !strings.Contains(out, "14 operations blocked by it so far") {
		t.Errorf("no error counts the 14 blocked operations:\n%s", out)
	}
}
