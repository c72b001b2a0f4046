package entratoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// MethodOIDC exchanges a federated (OIDC) token from a CI system for an
// Entra token of the app registration or user-assigned identity in ClientID.
const MethodOIDC = "oidc"

// GitHubAudience is the audience of the federated token asked of GitHub
// Actions, the one Entra's federated credentials expect by default.
const GitHubAudience = "api://AzureADTokenExchange"

// OIDC token sources, in order of precedence (the first one configured wins):
//
//  1. OIDCToken: a token given directly (oidc_token, ARM_OIDC_TOKEN). It is
//     never refreshed, so a long pipeline outlives it.
//  2. OIDCTokenFilePath: a file re-read at each exchange (oidc_token_file_path,
//     ARM_OIDC_TOKEN_FILE_PATH; HCP Terraform's dynamic credentials, or any CI
//     system that rotates the file).
//  3. ADOServiceConnectionID: an Azure Pipelines service connection
//     (ado_pipeline_service_connection_id, ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID),
//     with SYSTEM_ACCESSTOKEN and SYSTEM_OIDCREQUESTURI; azidentity's
//     AzurePipelinesCredential asks Azure DevOps at each exchange.
//  4. OIDCRequestURL + OIDCRequestToken: GitHub Actions' ID token endpoint
//     (oidc_request_url / oidc_request_token, ARM_OIDC_REQUEST_URL /
//     ARM_OIDC_REQUEST_TOKEN, then ACTIONS_ID_TOKEN_REQUEST_URL /
//     ACTIONS_ID_TOKEN_REQUEST_TOKEN), asked at each exchange with the
//     audience api://AzureADTokenExchange.
//
// This is azurerm's order (a token or token file given explicitly before
// anything discovered from the CI system), so that a pipeline that sets
// ARM_* for azurerm gets the same identity here.

// oidcCredential builds the credential of auth_method "oidc". The callback
// of ClientAssertionCredential runs whenever azidentity needs a new Entra
// token, so a rotating federated token is fetched again at each refresh.
func oidcCredential(s Settings, opts policy.ClientOptions, disableDiscovery bool) (azcore.TokenCredential, error) {
	var missing []string
	if s.TenantID == "" {
		missing = append(missing, "tenant_id / ARM_TENANT_ID")
	}
	if s.ClientID == "" {
		missing = append(missing, "client_id / ARM_CLIENT_ID (the app registration or user-assigned identity with the federated credential)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("needs %s", strings.Join(missing, " and "))
	}
	caOpts := &azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery}
	var assertion func(context.Context) (string, error)
	switch {
	case s.OIDCToken != "":
		tok := s.OIDCToken
		assertion = func(context.Context) (string, error) { return tok, nil }
	case s.OIDCTokenFilePath != "":
		path := s.OIDCTokenFilePath
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("oidc_token_file_path / ARM_OIDC_TOKEN_FILE_PATH: %w", err)
		}
		assertion = func(context.Context) (string, error) { return readTokenFile(path) }
	case s.ADOServiceConnectionID != "":
		var m []string
		if s.SystemAccessToken == "" {
			m = append(m, "SYSTEM_ACCESSTOKEN (map it in the pipeline step: env: SYSTEM_ACCESSTOKEN: $(System.AccessToken))")
		}
		if os.Getenv("SYSTEM_OIDCREQUESTURI") == "" {
			m = append(m, "SYSTEM_OIDCREQUESTURI (set by Azure Pipelines in a job that uses the service connection)")
		}
		if len(m) > 0 {
			return nil, fmt.Errorf("ado_pipeline_service_connection_id is set but Azure Pipelines' %s is missing", strings.Join(m, " and "))
		}
		return azidentity.NewAzurePipelinesCredential(s.TenantID, s.ClientID, s.ADOServiceConnectionID, s.SystemAccessToken,
			&azidentity.AzurePipelinesCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disableDiscovery})
	case s.OIDCRequestURL != "" && s.OIDCRequestToken != "":
		assertion = githubAssertion(s.OIDCRequestURL, s.OIDCRequestToken, opts.Transport)
	default:
		return nil, errors.New(noFederatedToken(s))
	}
	return azidentity.NewClientAssertionCredential(s.TenantID, s.ClientID, assertion, caOpts)
}

// noFederatedToken says which variable each CI system would have set.
func noFederatedToken(s Settings) string {
	gh := "run in GitHub Actions with `permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are missing)"
	switch {
	case s.OIDCRequestURL != "":
		gh = "GitHub Actions: oidc_request_url is set but oidc_request_token / ARM_OIDC_REQUEST_TOKEN / ACTIONS_ID_TOKEN_REQUEST_TOKEN is missing"
	case s.OIDCRequestToken != "":
		gh = "GitHub Actions: oidc_request_token is set but oidc_request_url / ARM_OIDC_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_URL is missing (does the job have `permissions: id-token: write`?)"
	}
	return "no federated token: set oidc_token_file_path / ARM_OIDC_TOKEN_FILE_PATH (HCP Terraform dynamic credentials), " +
		"or " + gh + ", " +
		"or set ado_pipeline_service_connection_id / ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID (Azure Pipelines, with SYSTEM_ACCESSTOKEN), " +
		"or oidc_token / ARM_OIDC_TOKEN"
}

func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the federated token file (oidc_token_file_path / ARM_OIDC_TOKEN_FILE_PATH): %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("the federated token file %s (oidc_token_file_path / ARM_OIDC_TOKEN_FILE_PATH) is empty", path)
	}
	return tok, nil
}

// githubAssertion asks GitHub Actions' ID token endpoint for a federated
// token (GET <url>&audience=..., Authorization: Bearer <request token>,
// answer {"value": "<jwt>"}). Errors carry the status and GitHub's message,
// never a token.
func githubAssertion(requestURL, requestToken string, transport policy.Transporter) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		u, err := url.Parse(requestURL)
		if err != nil {
			return "", fmt.Errorf("oidc_request_url / ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: %w", err)
		}
		q := u.Query()
		q.Set("audience", GitHubAudience)
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+requestToken)
		req.Header.Set("Accept", "application/json")
		var resp *http.Response
		if transport != nil {
			resp, err = transport.Do(req)
		} else {
			c := &http.Client{Timeout: time.Minute}
			resp, err = c.Do(req)
		}
		if err != nil {
			return "", fmt.Errorf("asking GitHub Actions for a federated token at %s: %w", u.Host, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return "", fmt.Errorf("reading GitHub Actions' federated token: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GitHub Actions' ID token endpoint (%s) answered %s: %.300s; check the job's `permissions: id-token: write` and oidc_request_token / ACTIONS_ID_TOKEN_REQUEST_TOKEN",
				u.Host, resp.Status, strings.TrimSpace(string(body)))
		}
		var r struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.Value == "" {
			return "", fmt.Errorf("GitHub Actions' ID token endpoint (%s) answered without a token (expected JSON {\"value\": ...})", u.Host)
		}
		return r.Value, nil
	}
}
