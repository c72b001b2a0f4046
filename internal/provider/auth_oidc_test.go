package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// TestAccAuthOIDCRealTerraform: auth_method oidc from each CI system's
// variables, with the real Terraform CLI and a provider process of its own
// (so that SSL_CERT_FILE trusts the fake authority and its fake GitHub and
// Azure Pipelines endpoints): GitHub Actions selected by ARM_USE_OIDC alone,
// Azure Pipelines, HCP Terraform's token file. A principal is created and
// destroyed; the trace log, the state JSON and the plan JSON hold none of
// the federated token, the request tokens or the access token. Without a
// source, the error names the variables of each CI system.
func TestAccAuthOIDCRealTerraform(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	entra := acctest.NewFakeEntra(t, tok)
	entra.Assertion = "eyJhbGciOiJSUzI1NiJ9.oidc-" + acctest.Name("fed") + ".sig"
	entra.GitHubRequestToken = "ghs_" + acctest.Name("req")
	entra.ADOSystemToken = "ado-" + acctest.Name("sys")
	entra.ADOServiceConnection = "3c8e2a11-0000-4000-8000-000000000016"
	tokenFile := filepath.Join(t.TempDir(), "tfc-workload-identity-token")
	if err := os.WriteFile(tokenFile, []byte(entra.Assertion), 0o600); err != nil {
		t.Fatal(err)
	}
	p := acctest.NewObject(t, "user", "acc-oidc")
	dir := t.TempDir()
	main := fmt.Sprintf(`
terraform {
  required_providers {
    azurepg = { source = "azurepg/azurepg" }
  }
}

provider "azurepg" {}

resource "azurepg_principal" "p" {
  name = %q
}
`, p.Name)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "trace.log")
	env := func(extra ...string) map[string]string {
		m := map[string]string{
			"AZUREPG_USERNAME":     admin.Name,
			"ARM_TENANT_ID":        e.TenantID(),
			"ARM_CLIENT_ID":        admin.ClientID,
			"AZURE_AUTHORITY_HOST": entra.URL,
			"SSL_CERT_FILE":        entra.CAFile,
			"TF_LOG":               "trace",
			"TF_LOG_PATH":          logFile,
			// The emulator's managed identity must not be what logs in.
			"IDENTITY_ENDPOINT": "", "IDENTITY_HEADER": "", "AZUREPG_AUTH_METHOD": "",
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	run := func(env map[string]string, args ...string) acctest.CLIResult {
		t.Helper()
		r := acctest.Terraform(t, dir, env, append(args, "-no-color")...)
		if r.Err != nil {
			t.Fatalf("terraform %s: %v\n%s", args[0], r.Err, r.Stderr)
		}
		return r
	}
	secrets := map[string]string{"federated token": entra.Assertion, "GitHub request token": entra.GitHubRequestToken,
		"Azure Pipelines system token": entra.ADOSystemToken, "access token": tok.Value}

	github := env("ARM_USE_OIDC", "true", "ACTIONS_ID_TOKEN_REQUEST_URL", entra.GitHubURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN", entra.GitHubRequestToken)
	run(github, "apply", "-auto-approve", "-input=false")
	if !acctest.RoleExists(t, p.Name) {
		t.Fatalf("apply with GitHub Actions' token did not create %q", p.Name)
	}
	if gh, _ := entra.CIRequests(); gh == 0 {
		t.Error("GitHub's ID token endpoint was never asked")
	}
	run(github, "plan", "-input=false", "-out=tfplan", "-detailed-exitcode")
	state := run(github, "show", "-json")
	plan := run(github, "show", "-json", "tfplan")
	for where, data := range map[string]string{"state JSON": state.Stdout, "plan JSON": plan.Stdout} {
		if !strings.Contains(data, p.Name) {
			t.Errorf("%s does not name the principal: is it the right output?", where)
		}
		for _, f := range acctest.FindSecrets(where, []byte(data), secrets) {
			t.Error(f)
		}
	}

	ado := env("AZUREPG_AUTH_METHOD", "oidc", "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", entra.ADOServiceConnection,
		"SYSTEM_ACCESSTOKEN", entra.ADOSystemToken, "SYSTEM_OIDCREQUESTURI", entra.ADOURL)
	run(ado, "plan", "-input=false", "-refresh=true")
	if _, n := entra.CIRequests(); n == 0 {
		t.Error("Azure Pipelines' OIDC endpoint was never asked")
	}

	before := len(entra.Requests())
	hcp := env("ARM_USE_OIDC", "true", "ARM_OIDC_TOKEN_FILE_PATH", tokenFile)
	run(hcp, "plan", "-input=false")
	rs := entra.Requests()
	if len(rs) <= before || rs[len(rs)-1].Assertion != entra.Assertion || rs[len(rs)-1].ClientID != admin.ClientID {
		t.Errorf("the token file was not exchanged: %+v", rs[before:])
	}

	r := acctest.Terraform(t, dir, env("ARM_USE_OIDC", "true"), "plan", "-input=false", "-no-color")
	if r.Err == nil {
		t.Fatal("plan without a federated token succeeded")
	}
	if !words(`auth_method "oidc": no federated token`, "ARM_OIDC_TOKEN_FILE_PATH (HCP Terraform", "GitHub Actions",
		"ACTIONS_ID_TOKEN_REQUEST_URL", "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID (Azure Pipelines").MatchString(r.Stderr) {
		t.Errorf("the error of a missing source:\n%s", r.Stderr)
	}

	run(github, "destroy", "-auto-approve", "-input=false")
	if acctest.RoleExists(t, p.Name) {
		t.Errorf("destroy left %q", p.Name)
	}
	acctest.CheckNoSecretsInFile(t, logFile, 100000, secrets)
}
