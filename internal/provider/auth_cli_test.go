package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestAccAuthRealTerraform runs the real terraform CLI with the provider
// built as a binary (dev_overrides), so that each terraform command starts
// provider processes of its own, as for users. All settings come from the
// provider's environment variables (AZUREPG_*, PG*, ARM_*). It checks that:
//   - terraform validate needs no network and no token, and rejects a bad auth_method;
//   - a plan that reads 20 data sources fetches exactly one token;
//   - the apply of 20 principals works;
//   - no token or password is in the trace log, the state file or the plan JSON.
func TestAccAuthRealTerraform(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	names := make([]string, 20)
	for i := range names {
		names[i] = acctest.NewObject(t, "user", "acc-cli").Name
	}
	t.Cleanup(func() {
		for _, n := range names {
			acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{n}.Sanitize())
		}
	})
	dir := t.TempDir()
	write := func(d, text string) {
		t.Helper()
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "main.tf"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(dir, fmt.Sprintf(`
terraform {
  required_providers {
    azurepg = { source = "azurepg/azurepg" }
  }
}

provider "azurepg" {}

data "azurepg_principal" "admin" {
  count = 20
  name  = %q
}

resource "azurepg_principal" "p" {
  count = 20
  name  = %s[count.index]
}
`, admin.Name, hclList(names)))
	logFile := filepath.Join(t.TempDir(), "trace.log")
	mi := map[string]string{
		"AZUREPG_USERNAME":    admin.Name,
		"AZUREPG_AUTH_METHOD": "managed_identity",
		"ARM_CLIENT_ID":       admin.ClientID,
		"TF_LOG":              "trace",
		"TF_LOG_PATH":         logFile,
	}
	run := func(env map[string]string, args ...string) acctest.CLIResult {
		t.Helper()
		r := acctest.Terraform(t, dir, env, args...)
		if r.Err != nil {
			t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
		}
		return r
	}

	// validate: no network, no token, even with an unreachable host and a
	// token endpoint that is down.
	offline := map[string]string{
		"AZUREPG_HOST":      "192.0.2.1",
		"IDENTITY_ENDPOINT": fmt.Sprintf("http://127.0.0.1:%d/msi/token", acctest.ClosedPort(t)),
	}
	for k, v := range mi {
		offline[k] = v
	}
	r := run(offline, "validate", "-no-color")
	t.Logf("terraform validate: %s", r.Duration.Round(time.Millisecond))
	if n := e.TokenRequestsFor(admin.ClientID); n != 0 {
		t.Fatalf("validate fetched %d tokens", n)
	}
	bad := filepath.Join(dir, "bad")
	write(bad, "terraform {\n  required_providers {\n    azurepg = { source = \"azurepg/azurepg\" }\n  }\n}\n"+"provider \"azurepg\" {\n  auth_method = \"managed-identity\"\n  cloud = \"azure\"\n}\n"+
		"data \"azurepg_principals\" \"all\" {}\n")
	r = acctest.Terraform(t, bad, offline, "validate", "-no-color")
	if r.Err == nil {
		t.Fatal("terraform validate accepted auth_method = \"managed-identity\"")
	}
	for _, want := range []string{"auth_method", "managed_identity", "cloud", "usgovernment"} {
		if !strings.Contains(r.Stderr+r.Stdout, want) {
			t.Errorf("the validate error does not mention %q:\n%s", want, r.Stderr)
		}
	}

	// plan: 20 data sources read in one provider process, one token.
	r = run(mi, "plan", "-input=false", "-no-color", "-out=plan.bin")
	planTokens := e.TokenRequestsFor(admin.ClientID)
	t.Logf("terraform plan (20 data sources, 20 principals to create): %s, %d token request(s)", r.Duration.Round(time.Millisecond), planTokens)
	if planTokens != 1 {
		t.Errorf("the plan fetched %d tokens, want 1", planTokens)
	}
	planJSON := run(nil, "show", "-json", "plan.bin").Stdout

	r = run(mi, "apply", "-input=false", "-no-color", "plan.bin")
	applyTokens := e.TokenRequestsFor(admin.ClientID) - planTokens
	t.Logf("terraform apply (20 principals): %s, %d token request(s)", r.Duration.Round(time.Millisecond), applyTokens)
	if applyTokens != 1 {
		t.Errorf("the apply fetched %d tokens, want 1", applyTokens)
	}
	for _, n := range names {
		if !acctest.RoleExists(t, n) {
			t.Errorf("role %q was not created", n)
		}
	}

	// The same state, planned as the server admin with a password from PGPASSWORD: no changes.
	pw := map[string]string{
		"AZUREPG_USERNAME":    emulator.ServerAdmin,
		"AZUREPG_AUTH_METHOD": "password",
		"PGPASSWORD":          e.ServerAdminPassword(),
		"TF_LOG":              "trace",
		"TF_LOG_PATH":         logFile,
	}
	r = run(pw, "plan", "-input=false", "-no-color", "-detailed-exitcode", "-out=plan2.bin")
	planJSON += run(nil, "show", "-json", "plan2.bin").Stdout

	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"managed identity token": tok.Value, "server admin password": e.ServerAdminPassword()}
	for _, f := range acctest.FindSecrets("plan JSON", []byte(planJSON), secrets) {
		t.Error(f)
	}
	acctest.CheckNoSecretsInFile(t, filepath.Join(dir, "terraform.tfstate"), 1000, secrets)
	acctest.CheckNoSecretsInFile(t, logFile, 100000, secrets)
	log, _ := os.ReadFile(logFile)
	t.Logf("trace log: %d bytes", len(log))
	// The log holds the provider's own trace lines, so the grep looked at them.
	for _, want := range []string{"Calling provider defined Provider Configure", "Calling provider defined DataSource Read", "ApplyResourceChange"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the trace log does not contain %q", want)
		}
	}

	run(mi, "destroy", "-auto-approve", "-input=false", "-no-color")
	for _, n := range names {
		if acctest.RoleExists(t, n) {
			t.Errorf("role %q survived destroy", n)
		}
	}
}

// TestAccAuthRealTerraformEntraFlows: client_secret and workload_identity
// against a fake HTTPS Entra authority (AZURE_AUTHORITY_HOST, trusted through
// SSL_CERT_FILE in the provider's own process), with settings from the
// environment; a wrong secret names the credential and carries Entra's
// error; neither the secret, the federated token nor the access token is
// in the trace log.
func TestAccAuthRealTerraformEntraFlows(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	entra := acctest.NewFakeEntra(t, tok)
	entra.Secret = "cs~" + acctest.Name("Secret")
	entra.Assertion = "eyJhbGciOiJSUzI1NiJ9.federated-" + acctest.Name("sa") + ".sig"
	tokenFile := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(tokenFile, []byte(entra.Assertion), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	main := fmt.Sprintf(`
terraform {
  required_providers {
    azurepg = { source = "azurepg/azurepg" }
  }
}

provider "azurepg" {}
%s`, adminDataSource(admin))
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "trace.log")
	env := func(method string, extra ...string) map[string]string {
		m := map[string]string{
			"AZUREPG_USERNAME":     admin.Name,
			"AZUREPG_AUTH_METHOD":  method,
			"AZURE_AUTHORITY_HOST": entra.URL,
			"SSL_CERT_FILE":        entra.CAFile,
			"TF_LOG":               "trace",
			"TF_LOG_PATH":          logFile,
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	plan := func(env map[string]string) acctest.CLIResult {
		return acctest.Terraform(t, dir, env, "plan", "-input=false", "-no-color")
	}
	lastRequest := func(n int) acctest.EntraRequest {
		t.Helper()
		rs := entra.Requests()
		if len(rs) != n {
			t.Fatalf("the authority got %d token requests, want %d: %+v", len(rs), n, rs)
		}
		return rs[n-1]
	}

	// client_secret, all from ARM_* variables.
	r := plan(env("client_secret", "ARM_TENANT_ID", e.TenantID(), "ARM_CLIENT_ID", admin.ClientID, "ARM_CLIENT_SECRET", entra.Secret))
	if r.Err != nil {
		t.Fatalf("client_secret: %v\n%s", r.Err, r.Stderr)
	}
	req := lastRequest(1)
	if req.Tenant != e.TenantID() || req.ClientID != admin.ClientID || req.GrantType != "client_credentials" ||
		!strings.Contains(req.Scope, acctest.ResourcePublic+"/.default") || req.Secret != entra.Secret {
		t.Errorf("client_secret request: %+v", req)
	}

	// A wrong secret.
	r = plan(env("client_secret", "ARM_TENANT_ID", e.TenantID(), "ARM_CLIENT_ID", admin.ClientID, "ARM_CLIENT_SECRET", "wrong-secret"))
	if r.Err == nil {
		t.Fatal("a wrong client secret was accepted")
	}
	if !words(`could not get an Entra access token with auth_method "client_secret"`, "ClientSecretCredential", "AADSTS7000215").MatchString(r.Stderr) {
		t.Errorf("the error of a wrong secret:\n%s", r.Stderr)
	}
	lastRequest(2)

	// workload_identity, with the variables the AKS webhook sets.
	r = plan(env("workload_identity", "AZURE_TENANT_ID", e.TenantID(), "AZURE_CLIENT_ID", admin.ClientID, "AZURE_FEDERATED_TOKEN_FILE", tokenFile))
	if r.Err != nil {
		t.Fatalf("workload_identity: %v\n%s", r.Err, r.Stderr)
	}
	req = lastRequest(3)
	if req.ClientID != admin.ClientID || req.Assertion != entra.Assertion || req.Secret != "" ||
		!strings.Contains(req.Scope, acctest.ResourcePublic+"/.default") {
		t.Errorf("workload_identity request: %+v", req)
	}
	if n := e.TokenRequestsFor(admin.ClientID); n != 0 {
		t.Errorf("the managed-identity endpoint was asked %d times", n)
	}

	acctest.CheckNoSecretsInFile(t, logFile, 100000, map[string]string{
		"client secret": entra.Secret, "federated token": entra.Assertion, "access token": tok.Value,
	})
}
