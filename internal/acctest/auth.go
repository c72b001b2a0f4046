package acctest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// Resources of the PostgreSQL Entra login in each cloud.
const (
	ResourcePublic       = "https://ossrdbms-aad.database.windows.net"
	ResourceChina        = "https://ossrdbms-aad.database.chinacloudapi.cn"
	ResourceUSGovernment = "https://ossrdbms-aad.database.usgovcloudapi.net"
)

// AuthBlock is a provider block that logs in as username with the given
// auth_method, with extra attributes appended (host and port come from the
// emulator's environment unless extra sets them).
func AuthBlock(username, method, extra string) string {
	return fmt.Sprintf(`
provider "azurepg" {
  username    = %q
  auth_method = %q
  %s
}
`, username, method, extra)
}

// FakeAZ puts a fake `az` first on PATH (for the rest of the test) that
// prints the JSON of `az account get-access-token -o json` with the given
// token, as azidentity's AzureCLICredential reads it, and appends its
// arguments, one line per call, to the returned file.
func FakeAZ(t testing.TB, tok emulator.Token) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "az-calls.txt")
	out, err := json.Marshal(map[string]any{
		"accessToken":  tok.Value,
		"expiresOn":    tok.ExpiresOn.Local().Format("2006-01-02 15:04:05.000000"),
		"expires_on":   tok.ExpiresOn.Unix(),
		"subscription": "00000000-0000-0000-0000-000000000000",
		"tenant":       "00000000-0000-0000-0000-000000000000",
		"tokenType":    "Bearer",
	})
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token.json")
	if err := os.WriteFile(tokenFile, out, 0o600); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\ncat '%s'\n", argsFile, tokenFile)
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

// ReadLines returns the lines of a file ("" when it does not exist).
func ReadLines(t testing.TB, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// ClosedPort returns a TCP port on 127.0.0.1 that nothing listens on.
func ClosedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// FindSecrets returns a description of each secret found in the data
// (empty secrets are ignored), labelled with where the data came from.
func FindSecrets(where string, data []byte, secrets map[string]string) []string {
	var found []string
	for name, s := range secrets {
		if s == "" {
			continue
		}
		if n := bytes.Count(data, []byte(s)); n > 0 {
			found = append(found, fmt.Sprintf("%s contains the %s %d times", where, name, n))
		}
	}
	return found
}

// CheckNoSecretsInFile fails the test if the file contains any of the secrets.
// The file must exist and be at least minSize bytes, so an empty log or a
// log that was never written cannot pass by accident.
func CheckNoSecretsInFile(t testing.TB, file string, minSize int, secrets map[string]string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	if len(b) < minSize {
		t.Fatalf("%s has %d bytes, expected at least %d: nothing was logged?", file, len(b), minSize)
	}
	for _, f := range FindSecrets(filepath.Base(file), b, secrets) {
		t.Error(f)
	}
}

// Provider binary built once per test binary, for tests that run the real
// Terraform CLI against a provider process of its own.
var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// ProviderBinaryDir builds the provider (the module's main package) into a
// directory and returns it, for dev_overrides.
func ProviderBinaryDir(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "azurepg-provider-bin-")
		if err != nil {
			buildErr = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-azurepg"), ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		builtDir = dir
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtDir
}

// CLIResult is the outcome of one terraform command.
type CLIResult struct {
	Stdout, Stderr string
	Err            error
	Duration       time.Duration
}

// Terraform runs the terraform CLI (TerraformPath, or env's
// TF_ACC_TERRAFORM_PATH) in dir with the built
// provider installed through dev_overrides (no registry, no network) and the
// extra environment.
func Terraform(t testing.TB, dir string, env map[string]string, args ...string) CLIResult {
	t.Helper()
	return TerraformWithin(t, 5*time.Minute, dir, env, args...)
}

// TerraformWithin is Terraform with the time the command may take before it
// is killed (for the soak test's commands on thousands of resources).
func TerraformWithin(t testing.TB, limit time.Duration, dir string, env map[string]string, args ...string) CLIResult {
	t.Helper()
	rc := filepath.Join(dir, ".terraformrc")
	if _, err := os.Stat(rc); err != nil {
		conf := DevOverridesConfig(ProviderBinaryDir(t))
		if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	bin := TerraformPath()
	if p := env["TF_ACC_TERRAFORM_PATH"]; p != "" {
		bin = p // this command's own Terraform, e.g. 1.11 to write an old state
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	return CLIResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err, Duration: time.Since(began)}
}

// OtherCA writes the certificate of a throwaway CA that signed nothing the
// emulator uses, for verify-ca / verify-full tests that must fail.
func OtherCA(t testing.TB) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "not the emulator's CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "other-ca.crt")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// SilentPort returns a port on 127.0.0.1 that accepts TCP connections and
// never answers (a server or middlebox that hangs), until the test ends.
func SilentPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// EntraRequest is one token request the fake Entra authority received.
type EntraRequest struct {
	Tenant, ClientID, Scope, GrantType string
	// Secret is the client_secret, Assertion the client_assertion (a federated token).
	Secret, Assertion string
}

// FakeEntra is an HTTPS Microsoft Entra authority on 127.0.0.1 for the
// client-secret and workload-identity flows: OpenID discovery and a token
// endpoint that answers the client credentials grant with Token when the
// secret or the federated assertion matches.
type FakeEntra struct {
	URL    string // the authority host, for AZURE_AUTHORITY_HOST
	CAFile string // the server's certificate, for SSL_CERT_FILE
	Token  emulator.Token
	// Secret and Assertion are what the endpoint accepts.
	Secret, Assertion string
	// Accept, when set, decides which assertions are accepted instead of Assertion.
	Accept func(assertion string) bool
	// Lifetime, when set, is the expires_in of the tokens issued (else until Token.ExpiresOn).
	Lifetime time.Duration
	// Delay is how long each token request takes.
	Delay time.Duration

	// GitHub Actions' ID token endpoint (GitHubURL) hands out Assertion to
	// requests with GitHubRequestToken; Azure Pipelines' OIDC endpoint
	// (ADOURL, for SYSTEM_OIDCREQUESTURI) to requests with ADOSystemToken
	// for the service connection ADOServiceConnection.
	GitHubURL, GitHubRequestToken                string
	ADOURL, ADOSystemToken, ADOServiceConnection string

	mu                    sync.Mutex
	requests              []EntraRequest
	inFlight, maxInFlight int
	github, ado           int
}

// CIRequests returns how many federated tokens GitHub's and Azure Pipelines' endpoints handed out.
func (f *FakeEntra) CIRequests() (github, ado int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.github, f.ado
}

// MaxInFlight is the most token requests the authority served at once.
func (f *FakeEntra) MaxInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInFlight
}

// Requests returns the token requests so far.
func (f *FakeEntra) Requests() []EntraRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]EntraRequest(nil), f.requests...)
}

// NewFakeEntra starts a fake authority until the end of the test.
func NewFakeEntra(t testing.TB, tok emulator.Token) *FakeEntra {
	t.Helper()
	f := &FakeEntra{Token: tok}
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := f.URL + "/" + r.PathValue("tenant")
		writeJSONResponse(w, http.StatusOK, map[string]any{
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"issuer":                 base + "/v2.0",
		})
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeJSONResponse(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
			return
		}
		req := EntraRequest{Tenant: r.PathValue("tenant"), ClientID: r.PostForm.Get("client_id"), Scope: r.PostForm.Get("scope"),
			GrantType: r.PostForm.Get("grant_type"), Secret: r.PostForm.Get("client_secret"), Assertion: r.PostForm.Get("client_assertion")}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.inFlight++
		f.maxInFlight = max(f.maxInFlight, f.inFlight)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.inFlight--
			f.mu.Unlock()
		}()
		time.Sleep(f.Delay)
		okAssertion := req.Assertion != "" && req.Assertion == f.Assertion
		if f.Accept != nil {
			okAssertion = req.Assertion != "" && f.Accept(req.Assertion)
		}
		if (req.Secret == "" || req.Secret != f.Secret) && !okAssertion {
			writeJSONResponse(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
				"error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": []int{7000215}})
			return
		}
		life := int(time.Until(f.Token.ExpiresOn).Seconds())
		if f.Lifetime > 0 {
			life = int(f.Lifetime.Seconds())
		}
		writeJSONResponse(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "access_token": f.Token.Value, "expires_in": life, "ext_expires_in": life,
		})
	})
	// GitHub Actions: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=..., bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN.
	mux.HandleFunc("GET /_apis/github/idtoken", func(w http.ResponseWriter, r *http.Request) {
		if f.GitHubRequestToken == "" || r.Header.Get("Authorization") != "Bearer "+f.GitHubRequestToken {
			writeJSONResponse(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		if a := r.URL.Query().Get("audience"); a != "api://AzureADTokenExchange" || r.URL.Query().Get("api-version") != "2.0" {
			writeJSONResponse(w, http.StatusBadRequest, map[string]string{"message": "unexpected audience " + a})
			return
		}
		f.mu.Lock()
		f.github++
		f.mu.Unlock()
		writeJSONResponse(w, http.StatusOK, map[string]string{"count": "1", "value": f.Assertion})
	})
	// Azure Pipelines: POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=..., bearer SYSTEM_ACCESSTOKEN.
	mux.HandleFunc("POST /_apis/ado/oidctoken", func(w http.ResponseWriter, r *http.Request) {
		if f.ADOSystemToken == "" || r.Header.Get("Authorization") != "Bearer "+f.ADOSystemToken {
			writeJSONResponse(w, http.StatusUnauthorized, map[string]string{"message": "TF400813: not authorized"})
			return
		}
		if r.URL.Query().Get("api-version") != "7.1" || r.URL.Query().Get("serviceConnectionId") != f.ADOServiceConnection {
			writeJSONResponse(w, http.StatusNotFound, map[string]string{"message": "service connection not found"})
			return
		}
		f.mu.Lock()
		f.ado++
		f.mu.Unlock()
		writeJSONResponse(w, http.StatusOK, map[string]string{"oidcToken": f.Assertion})
	})
	srv.StartTLS()
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	f.GitHubURL = srv.URL + "/_apis/github/idtoken?api-version=2.0"
	f.ADOURL = srv.URL + "/_apis/ado/oidctoken"
	f.CAFile = filepath.Join(t.TempDir(), "entra-ca.pem")
	if err := os.WriteFile(f.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func writeJSONResponse(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
