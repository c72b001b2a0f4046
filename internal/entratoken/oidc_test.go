package entratoken_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

const (
	testTenant = "7f3e1a52-0000-4000-8000-000000000016"
	testClient = "c1e27a11-0000-4000-8000-000000000016"
)

// fakeEntra starts the fake authority (HTTPS on 127.0.0.1) with its GitHub
// and Azure Pipelines endpoints, and makes azidentity trust it in-process.
func fakeEntra(t *testing.T) *acctest.FakeEntra {
	t.Helper()
	f := acctest.NewFakeEntra(t, emulator.Token{Value: "entra-access-" + acctest.Name("tok"), ExpiresOn: time.Now().Add(time.Hour)})
	f.Assertion = "eyJhbGciOiJSUzI1NiJ9.federated-" + acctest.Name("gh") + ".sig"
	f.GitHubRequestToken = "ghreq-" + acctest.Name("secret")
	f.ADOSystemToken = "ado-system-" + acctest.Name("secret")
	f.ADOServiceConnection = "5b0d3c2e-0000-4000-8000-000000000016"
	pem, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	entratoken.SetTransportForTest(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}})
	t.Cleanup(func() { entratoken.SetTransportForTest(nil) })
	t.Setenv("AZURE_AUTHORITY_HOST", f.URL)
	return f
}

func oidcSettings(mod func(*entratoken.Settings)) entratoken.Settings {
	s := entratoken.Settings{Method: entratoken.MethodOIDC, TenantID: testTenant, ClientID: testClient}
	mod(&s)
	return s
}

// TestOIDCSources: each federated token source, through real azidentity
// against the fake authority, yields the authority's access token, and the
// authority received the CI system's federated token for our client.
func TestOIDCSources(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "tfc-token")
	cases := []struct {
		name     string
		settings func(f *acctest.FakeEntra) entratoken.Settings
		gh, ado  int
	}{
		{name: "oidc_token", settings: func(f *acctest.FakeEntra) entratoken.Settings {
			return oidcSettings(func(s *entratoken.Settings) { s.OIDCToken = f.Assertion })
		}},
		{name: "oidc_token_file_path", settings: func(f *acctest.FakeEntra) entratoken.Settings {
			if err := os.WriteFile(tokenFile, []byte(f.Assertion+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return oidcSettings(func(s *entratoken.Settings) { s.OIDCTokenFilePath = tokenFile })
		}},
		{name: "github", gh: 1, settings: func(f *acctest.FakeEntra) entratoken.Settings {
			return oidcSettings(func(s *entratoken.Settings) { s.OIDCRequestURL, s.OIDCRequestToken = f.GitHubURL, f.GitHubRequestToken })
		}},
		{name: "azure_pipelines", ado: 1, settings: func(f *acctest.FakeEntra) entratoken.Settings {
			t.Setenv("SYSTEM_OIDCREQUESTURI", f.ADOURL)
			return oidcSettings(func(s *entratoken.Settings) {
				s.ADOServiceConnectionID, s.SystemAccessToken = f.ADOServiceConnection, f.ADOSystemToken
				// GitHub's variables too: the service connection comes first.
				s.OIDCRequestURL, s.OIDCRequestToken = f.GitHubURL, f.GitHubRequestToken
			})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := fakeEntra(t)
			src, err := entratoken.New(c.settings(f))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := src.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.Value != f.Token.Value {
				t.Errorf("token %q, want the authority's %q", tok.Value, f.Token.Value)
			}
			rs := f.Requests()
			if len(rs) != 1 {
				t.Fatalf("%d token requests: %+v", len(rs), rs)
			}
			r := rs[0]
			if r.Tenant != testTenant || r.ClientID != testClient || r.Assertion != f.Assertion || r.Secret != "" ||
				r.GrantType != "client_credentials" || !strings.HasPrefix(r.Scope, "https://ossrdbms-aad.database.windows.net/.default") {
				t.Errorf("request %+v", r)
			}
			if gh, ado := f.CIRequests(); gh != c.gh || ado != c.ado {
				t.Errorf("GitHub endpoint asked %d times (want %d), Azure Pipelines %d (want %d)", gh, c.gh, ado, c.ado)
			}
		})
	}
}

// TestOIDCTokenFileReread: the token file is read at each exchange. The
// authority issues tokens that live 1 s, so the second Token call needs a
// new exchange; the file changed in between and the authority got the new
// federated token. (One Source: the same credential, as one provider process.)
func TestOIDCTokenFileReread(t *testing.T) {
	f := fakeEntra(t)
	f.Lifetime = time.Second
	first, second := f.Assertion+"-first", f.Assertion+"-second"
	f.Accept = func(a string) bool { return a == first || a == second }
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := entratoken.New(oidcSettings(func(s *entratoken.Settings) { s.OIDCTokenFilePath = file }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(second), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the 1 s token expires
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range f.Requests() {
		got = append(got, strings.TrimPrefix(r.Assertion, f.Assertion))
	}
	if len(got) != 2 || got[0] != "-first" || got[1] != "-second" {
		t.Errorf("assertions sent: %q, want [-first -second]", got)
	}
	// A file that vanished: the error names the setting, not a token.
	os.Remove(file)
	time.Sleep(1100 * time.Millisecond)
	_, err = src.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ARM_OIDC_TOKEN_FILE_PATH") || strings.Contains(err.Error(), f.Assertion) {
		t.Errorf("error of a missing file: %v", err)
	}
}

// TestOIDCMissing: a missing variable is named with its CI system, and no
// token given in other settings appears in the error.
func TestOIDCMissing(t *testing.T) {
	t.Setenv("SYSTEM_OIDCREQUESTURI", "")
	secret := "req-token-" + acctest.Name("secret")
	cases := []struct {
		name  string
		s     entratoken.Settings
		words []string
	}{
		{"nothing", oidcSettings(func(*entratoken.Settings) {}),
			[]string{`auth_method "oidc": no federated token`, "ARM_OIDC_TOKEN_FILE_PATH", "HCP Terraform", "GitHub Actions",
				"permissions: id-token: write", "ACTIONS_ID_TOKEN_REQUEST_URL", "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", "Azure Pipelines"}},
		{"github without url", oidcSettings(func(s *entratoken.Settings) { s.OIDCRequestToken = secret }),
			[]string{"GitHub Actions", "ACTIONS_ID_TOKEN_REQUEST_URL is missing"}},
		{"github without token", oidcSettings(func(s *entratoken.Settings) { s.OIDCRequestURL = "https://127.0.0.1/x" }),
			[]string{"GitHub Actions", "ACTIONS_ID_TOKEN_REQUEST_TOKEN is missing"}},
		{"azure pipelines", oidcSettings(func(s *entratoken.Settings) { s.ADOServiceConnectionID = "sc"; s.OIDCRequestToken = secret }),
			[]string{"Azure Pipelines", "SYSTEM_ACCESSTOKEN", "SYSTEM_OIDCREQUESTURI"}},
		{"no client", oidcSettings(func(s *entratoken.Settings) { s.ClientID = ""; s.OIDCToken = secret }),
			[]string{"client_id / ARM_CLIENT_ID"}},
		{"no tenant", oidcSettings(func(s *entratoken.Settings) { s.TenantID = ""; s.OIDCToken = secret }),
			[]string{"tenant_id / ARM_TENANT_ID"}},
		{"file", oidcSettings(func(s *entratoken.Settings) { s.OIDCTokenFilePath = "/nonexistent/tfc-token" }),
			[]string{"ARM_OIDC_TOKEN_FILE_PATH", "/nonexistent/tfc-token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := entratoken.New(c.s)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not name %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error prints a token: %v", err)
			}
		})
	}
}

// TestOIDCGitHubRefused: GitHub's refusal reaches the user with the
// variable to check, and neither the request token nor a token is printed.
func TestOIDCGitHubRefused(t *testing.T) {
	f := fakeEntra(t)
	src, err := entratoken.New(oidcSettings(func(s *entratoken.Settings) {
		s.OIDCRequestURL, s.OIDCRequestToken = f.GitHubURL, "wrong-"+f.GitHubRequestToken
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Token(context.Background())
	if err == nil {
		t.Fatal("a wrong request token was accepted")
	}
	for _, w := range []string{`auth_method "oidc"`, "401", "Bad credentials", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error lacks %q: %v", w, err)
		}
	}
	if strings.Contains(err.Error(), f.GitHubRequestToken) || strings.Contains(err.Error(), f.Assertion) {
		t.Errorf("the error prints a token: %v", err)
	}
}

// TestOIDCSingleFlightUnderLoad: 64 parallel connections of one provider
// process cause one GitHub request and one exchange; the authority never
// serves two at once.
func TestOIDCSingleFlightUnderLoad(t *testing.T) {
	f := fakeEntra(t)
	f.Delay = 200 * time.Millisecond
	src, err := entratoken.New(oidcSettings(func(s *entratoken.Settings) { s.OIDCRequestURL, s.OIDCRequestToken = f.GitHubURL, f.GitHubRequestToken }))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := src.Token(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	gh, _ := f.CIRequests()
	if n := len(f.Requests()); n != 1 || gh != 1 || f.MaxInFlight() != 1 {
		t.Errorf("64 callers: %d exchanges, %d GitHub requests, %d at once; want 1, 1, 1", n, gh, f.MaxInFlight())
	}
}
