package provider_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// secretVariable is a variable that carries a secret into the provider
// block without Terraform writing it into the plan's configuration.
const secretVariable = `
variable "secret" {
  type      = string
  sensitive = true
  ephemeral = true
}
`

// TestReliabilityNoSecretsInLogs runs the real CLI with TF_LOG=trace for
// each way of passing a secret to the provider, successful and failing,
// and looks for the secret in every TRACE log (Terraform's and the
// provider process's), the output, the state and the plan JSON.
func TestReliabilityNoSecretsInLogs(t *testing.T) {
	e := acctest.Emulator(t)
	ctx := context.Background()
	prefix := acctest.Name("rel-secrets")
	names := tenantObjects(t, "user", prefix, 3)
	principals := func() string {
		var b strings.Builder
		for i, n := range names {
			fmt.Fprintf(&b, "resource \"azurepg_principal\" \"p%d\" {\n  name = %q\n}\n", i, n)
		}
		b.WriteString("data \"azurepg_principal\" \"d\" {\n  name = azurepg_principal.p0.name\n}\n")
		b.WriteString("data \"azurepg_principals\" \"all\" {\n  depends_on = [azurepg_principal.p1]\n}\n")
		return b.String()
	}

	t.Run("managed identity token", func(t *testing.T) {
		admin := acctest.NewAdmin(t)
		w := acctest.NewWorkdir(t, acctest.RequiredProviders+acctest.ProviderBlock(admin, "")+principals(), nil)
		w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
		w.PlanJSON("-no-color")
		w.MustRun("destroy", "-auto-approve", "-input=false", "-no-color")
		// The emulator hands out the same token while it is fresh: the one the provider used.
		tok, err := e.IssueToken(ctx, acctest.ResourcePublic, admin.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if e.TokenRequestsFor(admin.ClientID) == 0 {
			t.Fatal("the provider asked for no token: the test proves nothing")
		}
		w.CheckNoSecrets(map[string]string{"access token": tok.Value, "identity header": e.IdentityHeader()})
		// The logs searched hold the provider process's own TRACE lines.
		if !w.LogsContain("Calling provider defined Resource Create") {
			t.Fatal("the TRACE logs hold no line of the provider process")
		}
	})

	t.Run("password", func(t *testing.T) {
		cfg := acctest.RequiredProviders + secretVariable + fmt.Sprintf(`
provider "azurepg" {
  username    = %q
  auth_method = "password"
  password    = var.secret
}
data "azurepg_principals" "all" {}
`, emulator.ServerAdmin)
		w := acctest.NewWorkdir(t, cfg, map[string]string{"TF_VAR_secret": e.ServerAdminPassword()})
		w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
		w.PlanJSON("-no-color")
		w.CheckNoSecrets(map[string]string{"server admin password": e.ServerAdminPassword()})

		// A wrong password: the error must say what failed without echoing it.
		wrong := "Wr0ng-" + acctest.Name("password")
		bad := acctest.NewWorkdir(t, cfg, map[string]string{"TF_VAR_secret": wrong})
		r := bad.Run("plan", "-input=false", "-no-color")
		if r.Err == nil || !words("password authentication failed for", emulator.ServerAdmin, "Check username and password (PGPASSWORD)").MatchString(r.Stderr) {
			t.Fatalf("want a password error, got %v:\n%s", r.Err, r.Stderr)
		}
		bad.CheckNoSecrets(map[string]string{"wrong password": wrong})
	})

	t.Run("access token", func(t *testing.T) {
		admin := acctest.NewAdmin(t)
		tok, err := e.IssueToken(ctx, acctest.ResourcePublic, admin.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		cfg := acctest.RequiredProviders + secretVariable + fmt.Sprintf(`
provider "azurepg" {
  username     = %q
  auth_method  = "access_token"
  access_token = var.secret
}
`, admin.Name) + principals()
		w := acctest.NewWorkdir(t, cfg, map[string]string{"TF_VAR_secret": tok.Value})
		w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
		w.PlanJSON("-no-color")
		w.MustRun("destroy", "-auto-approve", "-input=false", "-no-color")
		w.CheckNoSecrets(map[string]string{"access token": tok.Value})

		// A token that the server refuses.
		forged := tok.Value[:len(tok.Value)-8] + "AAAAAAAA"
		bad := acctest.NewWorkdir(t, strings.Replace(cfg, principals(), "data \"azurepg_principals\" \"all\" {}\n", 1),
			map[string]string{"TF_VAR_secret": forged})
		r := bad.Run("plan", "-input=false", "-no-color")
		if r.Err == nil || !words("the server refused the Entra token of", admin.Name).MatchString(r.Stderr) {
			t.Fatalf("want a refused-token error, got %v:\n%s", r.Err, r.Stderr)
		}
		bad.CheckNoSecrets(map[string]string{"forged token": forged, "access token": tok.Value})
	})

	t.Run("client secret", func(t *testing.T) {
		// No Entra endpoint answers: the credential fails, and its error
		// must not carry the secret.
		secret := "cs~" + acctest.Name("client-secret")
		cfg := acctest.RequiredProviders + secretVariable + `
provider "azurepg" {
  username      = "some-app"
  auth_method   = "client_secret"
  tenant_id     = "aaaabbbb-0000-cccc-1111-dddd2222eeee"
  client_id     = "6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05"
  client_secret = var.secret
}
data "azurepg_principals" "all" {}
`
		w := acctest.NewWorkdir(t, cfg, map[string]string{"TF_VAR_secret": secret,
			"AZURE_AUTHORITY_HOST": fmt.Sprintf("https://127.0.0.1:%d/", acctest.ClosedPort(t))})
		r := w.Run("plan", "-input=false", "-no-color")
		if r.Err == nil || !words("could not get an Entra access token").MatchString(r.Stderr) {
			t.Fatalf("want a credential error, got %v:\n%s", r.Err, r.Stderr)
		}
		w.CheckNoSecrets(map[string]string{"client secret": secret})
	})
}
