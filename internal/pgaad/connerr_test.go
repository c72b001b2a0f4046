package pgaad_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// TestConnectionFacts: each failure to connect that the emulator can
// produce is an ErrConnection whose Fact names the situation, and whose
// advice speaks of the connection in pgaad's words: no provider attribute
// (auth_method, client_id, tenant_id, the provider's host or sslrootcert),
// which the provider words itself from the fact.
func TestConnectionFacts(t *testing.T) {
	e := pgtest.Emulator(t)
	admin, err := entratoken.New(entratoken.Settings{Method: "managed_identity"})
	if err != nil {
		t.Fatal(err)
	}
	unknownID, err := entratoken.New(entratoken.Settings{Method: "managed_identity", ClientID: "00000000-1111-2222-3333-444444444444"})
	if err != nil {
		t.Fatal(err)
	}
	token := func(s string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return s, nil }
	}
	entra := pgaad.Config{Host: e.Host(), Port: e.Port(), Username: e.AdminName(), SSLMode: "verify-full", SSLRootCert: e.CAFile(),
		Password: admin.Password, Entra: true}
	for _, tc := range []struct {
		name  string
		cfg   func(c *pgaad.Config)
		topic pgaad.Topic
		says  []string
	}{
		{"no TLS asked for", func(c *pgaad.Config) { c.SSLMode = "disable" },
			pgaad.TopicTLSRequired, []string{"the server accepts only TLS connections", "Connect with TLS (sslmode verify-full)."}},
		{"certificate for another name", func(c *pgaad.Config) { c.Host = "127.0.0.1" },
			pgaad.TopicCertHostName, []string{`not for the host name "127.0.0.1"`, "No token or password was sent", "Connect to the server by its FQDN",
				"never by an IP address"}},
		{"unknown authority", func(c *pgaad.Config) { c.SSLRootCert = "system" },
			pgaad.TopicCertAuthority, []string{"signed by an unknown authority, not by the system trust store", "set sslrootcert (or PGSSLROOTCERT)",
				"DigiCert Global Root G2", "Connect to the server by its FQDN"}},
		{"no such role", func(c *pgaad.Config) { c.Username = pgtest.Name("not a role") },
			pgaad.TopicLoginRefused, []string{"the server refused the Entra token of", "the user name is the principal's exact role name",
				"issued to the identity you meant", "not fetched by a credential"}},
		{"not a JWT", func(c *pgaad.Config) { c.Password = token("{not a token}") },
			pgaad.TopicTokenFormat, []string{"the password sent is not a JWT", "exactly as the authentication endpoint returned it",
				"let a credential fetch tokens"}},
		{"no token from the credential", func(c *pgaad.Config) { c.Password = unknownID.Password },
			pgaad.TopicCredential, []string{"The credential could not produce a token", "client id and tenant id"}},
		{"password refused", func(c *pgaad.Config) { c.Username, c.Password, c.Entra = emulator.ServerAdmin, token("wrong"), false },
			pgaad.TopicPasswordRefused, []string{`password authentication failed for "` + emulator.ServerAdmin + `"`, "Check the user name and the password."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := entra
			tc.cfg(&cfg)
			c := pgaad.NewClient(cfg)
			defer c.Close()
			_, err := c.ListPrincipals(context.Background(), false)
			var pe *pgaad.Error
			if !errors.Is(err, pgaad.ErrConnection) || !errors.As(err, &pe) {
				t.Fatalf("got %v, want ErrConnection", err)
			}
			if pe.Fact.Topic != tc.topic {
				t.Errorf("topic %q, want %q", pe.Fact.Topic, tc.topic)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not say %q:\n%v", s, err)
				}
			}
			// The advice only: the credential's own message (entratoken's)
			// names its auth_method.
			for _, w := range []string{"auth_method", "client_id", "tenant_id", "provider", "access_token", "AZUREPG_", "host must", "(the default)", `= "`} {
				if strings.Contains(pe.Advice, w) {
					t.Errorf("advice names %q:\n%s", w, pe.Advice)
				}
			}
		})
	}
}
