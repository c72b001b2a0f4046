package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/jackc/pgx/v5"

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
// cloud setting), not a JWT, another identity's token (Azure's two texts:
// a role of another managed identity, a user's role), naming whose token
// it was and what to set.
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
	admin, ok := e.Object(e.AdminName())
	if !ok {
		t.Fatalf("the emulator's tenant has no %q", e.AdminName())
	}
	// A user's role, for the managed identity's token.
	user := acctest.NewObject(t, "user", "acc-login-user")
	userRole := acctest.LongName(`acc login "user" @ é; 'x' `, 63)
	acctest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'user', $2, false, false)", userRole, user.ObjectID)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{userRole}.Sanitize()) })
	otherWho := fmt.Sprintf("the token is of the service principal or managed identity object %s (appid %s, tenant %s), but the role",
		other.ObjectID, other.ClientID, e.TenantID())

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
				// Azure's oid-mismatch text (the admin's role is a managed
				// identity's), diagnosed by its text.
				Config: tokenConfig(e.AdminName(), otherTok.Value),
				ExpectError: words("Cannot connect to the server",
					"Service principal oid mismatch for role["+e.AdminName()+"]",
					otherWho, fmt.Sprintf("%q was created for another service principal or managed identity (object %s)", e.AdminName(), admin.ObjectID),
					fmt.Sprintf("Either log in as the identity the role %q was created for (for a managed identity or service principal, "+
						"auth_method and client_id select it), or set username to the role created for the token's identity (object %s);",
						e.AdminName(), other.ObjectID),
					"create one with azurepg_principal (object_id and type)"),
			},
			{
				// Azure's text for an application's token for a user's role.
				Config: tokenConfig(userRole, otherTok.Value),
				ExpectError: words("Cannot connect to the server",
					"Service Principals cannot generate AAD_AUTH_TOKENTYPE_APP_USER tokens for role["+userRole+"]",
					otherWho, fmt.Sprintf("%q was created for a user, whose own token alone logs in as it", userRole),
					fmt.Sprintf("Either log in as the identity the role %q was created for (for a user's role, a token of that user: "+
						"auth_method = \"azure_cli\" after az login as that user, or access_token), or set username to the role created "+
						"for the token's identity (object %s);", userRole, other.ObjectID)),
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
