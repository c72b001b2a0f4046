package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// TestAccAuthErrorLogin: a username that is no role gets the token refused,
// and the error says what the username must be and that the principal must
// exist on the server.
func TestAccAuthErrorLogin(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	wrong := acctest.Name("acc not a role") + "@contoso.com"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "azurepg" {
  username    = %q
  auth_method = "managed_identity"
  client_id   = %q
}
`, wrong, admin.ClientID) + adminDataSource(admin),
			ExpectError: words(`the server refused the Entra token of "`+wrong+`"`, "(28P01",
				"username is the principal's exact role name (case-sensitive)",
				"that principal exists on this server"),
		}},
	})
}

// TestAccAuthErrorNetwork: a closed port and an address that never answers
// name the host:port, and the time-out that was hit.
func TestAccAuthErrorNetwork(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	closed := acctest.ClosedPort(t)
	silent := acctest.SilentPort(t)
	var began time.Time // for the log: how long the time-out took is measured, not judged
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: acctest.ProviderBlock(admin, `
  host = "127.0.0.1"
  port = `+strconv.Itoa(closed)) + adminDataSource(admin),
				ExpectError: words("connecting to 127.0.0.1:"+strconv.Itoa(closed)+"/postgres", "connection refused", "Check host and port"),
			},
			{
				// A port that accepts TCP and never answers, as a dropped
				// packet or a hung middlebox would: the connect_timeout is hit.
				PreConfig: func() { began = time.Now() },
				Config: acctest.ProviderBlock(admin, `
  host            = "127.0.0.1"
  port            = `+strconv.Itoa(silent)+`
  connect_timeout = 2`) + adminDataSource(admin),
				ExpectError: words("connecting to 127.0.0.1:"+strconv.Itoa(silent)+"/postgres", "no answer within connect_timeout = 2s", "firewall"),
			},
			{
				PreConfig: func() {
					t.Logf("the unreachable host failed after %s (connect_timeout = 2)", time.Since(began).Round(100*time.Millisecond))
				},
				Config:            acctest.ProviderBlock(admin, "") + adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
			},
		},
	})
}

// TestAccAuthErrorTLS: the server refuses a connection without TLS, and
// verify-full fails against a CA that did not sign the server's certificate;
// both say what to change.
func TestAccAuthErrorTLS(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	other := acctest.OtherCA(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      acctest.ProviderBlock(admin, `sslmode = "disable"`) + adminDataSource(admin),
				ExpectError: words("the server accepts only TLS connections", "no encryption", `Set sslmode to "verify-full" (the default)`),
			},
			{
				// The emulator's CA (PGSSLROOTCERT from its environment): the default, verify-full, works.
				Config:            acctest.ProviderBlock(admin, "") + adminDataSource(admin),
				ConfigStateChecks: adminReadChecks(admin),
			},
			{
				PreConfig: func() { t.Setenv("PGSSLROOTCERT", other) },
				Config:    acctest.ProviderBlock(admin, `sslmode = "verify-ca"`) + adminDataSource(admin),
				ExpectError: words("the server's certificate is signed by an unknown authority, not by the roots in sslrootcert ("+other+") (sslmode = verify-ca)",
					"No token or password was sent", "PGSSLROOTCERT"),
			},
		},
	})
}

// TestAccAuthErrorCredential: a client_id the endpoint does not know, and an
// endpoint that is down, each name the credential and carry azidentity's
// message.
func TestAccAuthErrorCredential(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	unknown := "00000000-1111-2222-3333-444444444444"
	closed := acctest.ClosedPort(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "azurepg" {
  username    = %q
  auth_method = "managed_identity"
  client_id   = %q
}
`, admin.Name, unknown) + adminDataSource(admin),
				ExpectError: words(`could not get an Entra access token with auth_method "managed_identity"`,
					"ManagedIdentityCredential authentication failed", "RESPONSE 400",
					"no managed identity with client_id", unknown, "is assigned to this resource",
					"Check auth_method, client_id and tenant_id"),
			},
			{
				PreConfig: func() {
					t.Setenv("IDENTITY_ENDPOINT", fmt.Sprintf("http://127.0.0.1:%d/msi/token", closed))
				},
				// A setting of its own, so that this step does not reuse the token source of another.
				Config: acctest.ProviderBlock(admin, "max_connections = 3") + adminDataSource(admin),
				ExpectError: words(`could not get an Entra access token with auth_method "managed_identity"`,
					"ManagedIdentityCredential", fmt.Sprintf("127.0.0.1:%d", closed), "connection refused"),
			},
		},
	})
}

// TestAccAuthErrorCredentialMany: a credential that fails fails every read
// at once, not once per resource after the Azure SDK's retries: the reads
// that wait while the credential is asked get its failure (before failures
// were held, every read asked again: 3 min 11 s for 20 reads). Counted in
// the provider's debug log, not timed.
func TestAccAuthErrorCredentialMany(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	t.Setenv("IDENTITY_ENDPOINT", fmt.Sprintf("http://127.0.0.1:%d/msi/token", acctest.ClosedPort(t)))
	logFile := filepath.Join(t.TempDir(), "debug.log")
	t.Setenv("TF_ACC_LOG", "debug")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	var began time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { began = time.Now() },
			Config: acctest.ProviderBlock(admin, "") + fmt.Sprintf(`
data "azurepg_principal" "d" {
  count = 20
  name  = %q
}
`, admin.Name),
			ExpectError: words(`could not get an Entra access token with auth_method "managed_identity"`, "ManagedIdentityCredential", "connection refused"),
		}},
	})
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	fetches := strings.Count(string(b), "entratoken: token request failed")
	held := strings.Count(string(b), "entratoken: last credential failure handed out again")
	t.Logf("20 reads with a failing credential: %d credential fetches, %d failures handed out again; failed after %s",
		fetches, held, time.Since(began).Round(100*time.Millisecond))
	// A read asks the credential again only once the failure is 30 s old:
	// 20 fetches would take 20 reads spread over 10 minutes.
	if fetches == 0 || fetches >= 20 {
		t.Errorf("%d credential fetches for 20 reads: want at least one, and the others handed its failure", fetches)
	}
}

// TestAccAuthErrorExpiredStaticToken: an access_token that has expired is
// refused, and the error says that such a token is never refreshed.
func TestAccAuthErrorExpiredStaticToken(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	e.SetTokenLifetime(admin.ClientID, 2*time.Second)
	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(tok.ExpiresOn) + 1500*time.Millisecond)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.AuthBlock(admin.Name, "access_token", fmt.Sprintf("access_token = %q", tok.Value)) + adminDataSource(admin),
			ExpectError: words(`the server refused the Entra token of "`+admin.Name+`"`, "The access token has expired", "the token expired at",
				"access_token", "never refreshed"),
		}},
	})
}
