package provider_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// TestAccTLSImpostor: something else answers on the host and port the
// provider is configured for, with TLS and a certificate from another CA,
// and asks for a password. With the defaults (verify-full, the emulator's
// CA in PGSSLROOTCERT) the provider refuses it during the handshake: the
// impostor receives nothing after TLS and no password message, and the
// error names the certificate problem. The same impostor with an explicit
// sslmode = "require" and no roots receives the token: the recording works.
func TestAccTLSImpostor(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	im := acctest.NewImpostor(t)
	at := fmt.Sprintf(`
  host = "localhost"
  port = %d`, im.Port)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: acctest.ProviderBlock(admin, at) + adminDataSource(admin),
				ExpectError: words("the server's certificate is signed by an unknown authority",
					"not by the roots in sslrootcert", "(sslmode = verify-full)",
					"No token or password was sent", "set the provider's sslrootcert (or PGSSLROOTCERT) to a PEM file",
					// All three roots Azure chains to (Learn, security-tls), China's and some replicas' included.
					"DigiCert Global Root G2", "Microsoft RSA Root Certificate Authority 2017", "DigiCert Global Root CA;",
					"host must be the server's FQDN", "never an IP address"),
			},
			{
				PreConfig: func() {
					msgs := im.Messages()
					if len(msgs) == 0 {
						t.Fatal("the impostor received no SSLRequest: the provider did not connect to it")
					}
					for _, m := range msgs {
						if m.TLS || m.Type != 0 {
							t.Fatalf("the impostor received a message after TLS (type %q, %d bytes): the provider talked to an unverified server", m.Type, len(m.Body))
						}
					}
					if p := im.Passwords(); len(p) != 0 {
						t.Fatalf("the impostor received %d password messages", len(p))
					}
					t.Setenv("PGSSLROOTCERT", "")
				},
				Config: acctest.ProviderBlock(admin, at+`
  sslmode = "require"`) + adminDataSource(admin),
				ExpectError: words("password authentication failed"),
			},
		},
	})
	p := im.Passwords()
	if len(p) == 0 || len(p[0]) < 100 || strings.Count(p[0], ".") != 2 {
		t.Fatalf("with sslmode = require the impostor should have received the token (a JWT) as the password; got %d password messages", len(p))
	}
}

// TestAccTLSWrongHostName: the emulator's certificate names localhost; the
// same server reached as 127.0.0.1 fails with the host-name error.
func TestAccTLSWrongHostName(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(admin, fmt.Sprintf(`
  host = "127.0.0.1"
  port = %d`, e.Port())) + adminDataSource(admin),
			ExpectError: words(`the server's certificate is not for the host name "127.0.0.1" (sslmode = verify-full)`,
				"No token or password was sent", "host must be the server's FQDN as it appears in its certificate",
				"private endpoint", "never an IP address"),
		}},
	})
}

// TestAccTLSRequireWarns: sslmode = "require", set explicitly, still logs
// in, and plan and apply each warn once (not once per data source) that the
// server is not verified, naming the setting.
func TestAccTLSRequireWarns(t *testing.T) {
	acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	cfg := acctest.RequiredProviders + acctest.ProviderBlock(admin, `sslmode = "require"`) + adminDataSource(admin) + fmt.Sprintf(`
data "azurepg_principal" "again" {
  name = %q
}
output "oid" {
  value = data.azurepg_principal.again.object_id
}
`, admin.Name)
	// No PGSSLROOTCERT: require then checks nothing (with it, pgx checks the chain).
	w := acctest.NewWorkdir(t, cfg, map[string]string{"PGSSLROOTCERT": ""})
	for _, args := range [][]string{
		{"plan", "-input=false", "-no-color"},
		{"apply", "-auto-approve", "-input=false", "-no-color"},
	} {
		r := w.MustRun(args...)
		out := r.Stdout + r.Stderr
		if n := strings.Count(out, "Warning: The server's identity is not verified"); n != 1 {
			t.Errorf("terraform %s: %d warnings about the unverified server, want 1:\n%s", args[0], n, out)
		}
		for _, want := range []string{`with provider["registry.terraform.io/azurepg/azurepg"]`, `sslmode = "require"`,
			"does not check the server's certificate", "receives the token or password", `(default "verify-full")`} {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
				t.Errorf("terraform %s: the output does not contain %q:\n%s", args[0], want, out)
			}
		}
	}
	if got := w.State()["data.azurepg_principal.me"]; got.Values["object_id"] != admin.ObjectID {
		t.Errorf("object_id %v, want %q", got.Values["object_id"], admin.ObjectID)
	}
}
