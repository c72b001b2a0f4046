package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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

// TestConnectionOtherIdentity: the emulator answers Azure's texts when a
// managed identity's valid token tries a role created for a user, or for
// another managed identity; the error says whose token it was (its object
// id, appid and tenant) and which role it tried, and the fact carries both,
// for a front end's words.
func TestConnectionOtherIdentity(t *testing.T) {
	t.Parallel()
	e := pgtest.Emulator(t)
	ctx := context.Background()
	mi := pgtest.NewObject(t, "managed_identity", "other-id token")
	tok, err := e.IssueToken(ctx, "https://ossrdbms-aad.database.windows.net", mi.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	user := pgtest.NewObject(t, "user", `other-id "user" é`)
	userRole := pgtest.LongName(`other-id user role "u" @ ü; 'x' `, 63)
	pgtest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'user', $2, false, false)", userRole, user.ObjectID)
	svc := pgtest.NewObject(t, "managed_identity", `other-id "svc" ß`)
	svcRole := pgtest.LongName(`other-id svc role "s" @ ö; 'y' `, 63)
	pgtest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", svcRole, svc.ObjectID)
	t.Cleanup(func() {
		for _, r := range []string{userRole, svcRole} {
			pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize())
		}
	})
	who := "the service principal or managed identity object " + mi.ObjectID + " (appid " + mi.ClientID + ", tenant " + e.TenantID() + ")"
	for _, tc := range []struct {
		name, role, kind string
		says             []string
	}{
		{"a role created for a user", userRole, "user", []string{
			"Service Principals cannot generate AAD_AUTH_TOKENTYPE_APP_USER tokens for role[" + userRole + "]",
			"the token is of " + who + ", but the role " + fmt.Sprintf("%q", userRole) + " was created for a user, whose own token alone logs in as it",
		}},
		{"a role created for another managed identity", svcRole, "service", []string{
			"Service principal oid mismatch for role[" + svcRole + "]",
			"the token is of " + who + ", but the role " + fmt.Sprintf("%q", svcRole) +
				" was created for another service principal or managed identity (object " + svc.ObjectID + ")",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: tc.role, SSLMode: "verify-full", SSLRootCert: e.CAFile(),
				Password: func(context.Context) (string, error) { return tok.Value, nil }, Entra: true})
			defer c.Close()
			_, err := c.ListPrincipals(ctx, false)
			var pe *pgaad.Error
			if !errors.Is(err, pgaad.ErrConnection) || !errors.As(err, &pe) {
				t.Fatalf("got %v, want ErrConnection", err)
			}
			want := pgaad.Fact{Topic: pgaad.TopicTokenOtherIdentity, Role: tc.role, TokenObjectID: mi.ObjectID, RoleKind: tc.kind}
			if f := pe.Fact; f.Topic != want.Topic || f.Role != want.Role || f.TokenObjectID != want.TokenObjectID || f.RoleKind != want.RoleKind {
				t.Errorf("fact %+v, want %+v", f, want)
			}
			says := append(slices.Clone(tc.says), fmt.Sprintf("Either log in as the identity the role %q was created for", tc.role),
				"or log in with the user name of the role created for the token's identity (object "+mi.ObjectID+")",
				"pgaadauth_create_principal_with_oid")
			for _, s := range says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error does not say %q:\n%v", s, err)
				}
			}
			if strings.Contains(err.Error(), "Check that:") {
				t.Errorf("the general checks instead of the diagnosis:\n%v", err)
			}
		})
	}
}
