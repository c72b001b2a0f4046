package provider

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

// clearAuthEnv empties every variable configure reads, for the test.
func clearAuthEnv(t *testing.T) {
	for _, k := range []string{"AZUREPG_HOST", "PGHOST", "PGPORT", "PGDATABASE", "AZUREPG_USERNAME", "PGUSER", "PGSSLMODE", "PGSSLROOTCERT",
		"AZUREPG_AUTH_METHOD", "ARM_ENVIRONMENT", "ARM_CLIENT_ID", "AZURE_CLIENT_ID", "ARM_TENANT_ID", "AZURE_TENANT_ID",
		"ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "PGPASSWORD", "AZUREPG_ACCESS_TOKEN",
		"ARM_USE_OIDC", "ARM_OIDC_TOKEN", "ARM_OIDC_TOKEN_FILE_PATH", "ARM_OIDC_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_URL",
		"ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", "SYSTEM_ACCESSTOKEN"} {
		t.Setenv(k, "")
	}
}

func nullModel() providerModel {
	s, n := types.StringNull(), types.Int64Null()
	return providerModel{Host: s, Port: n, Username: s, SSLMode: s, SSLRootCert: s, AuthMethod: s, ClientID: s, TenantID: s,
		ClientSecret: s, Password: s, AccessToken: s, Cloud: s, ConnectTimeout: n, MaxConnections: n}
}

// TestConfigureUnknownValues: values unknown at plan time (a server created
// in the same apply) do not fail configure; only a resource that asks for a
// connection gets an error naming them, and nothing connects.
func TestConfigureUnknownValues(t *testing.T) {
	clearAuthEnv(t)
	m := nullModel()
	m.Host = types.StringUnknown()
	m.Port = types.Int64Unknown()
	m.Username = types.StringUnknown()
	m.AccessToken = types.StringUnknown()
	d := configure(m, "test")
	if d == nil {
		t.Fatal("configure returned nil")
	}
	if strings.Join(d.unknown, ",") != "host,port,username,access_token" {
		t.Errorf("unknown = %v", d.unknown)
	}
	_, diags := d.Client()
	if !diags.HasError() {
		t.Fatal("Client() with unknown host gave no error")
	}
	detail := diags.Errors()[0].Detail()
	for _, want := range []string{"host, port, username, access_token", "only be known during apply", "-target"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the error does not say %q: %s", want, detail)
		}
	}
	if _, err := d.shared(); !errors.Is(err, errNotConfigured) {
		t.Errorf("shared() = %v, want errNotConfigured", err)
	}
}

// TestConfigureMissing: no host or no username is an error only when a
// connection is asked for, and says how to set it.
func TestConfigureMissing(t *testing.T) {
	clearAuthEnv(t)
	d := configure(nullModel(), "test")
	if !strings.Contains(d.problem, "no host") || !strings.Contains(d.problem, "AZUREPG_HOST") {
		t.Errorf("problem = %q", d.problem)
	}
	t.Setenv("PGHOST", "srv.postgres.database.azure.com")
	d = configure(nullModel(), "test")
	if !strings.Contains(d.problem, "no username") || !strings.Contains(d.problem, "exact name") {
		t.Errorf("problem = %q", d.problem)
	}
	t.Setenv("PGUSER", "ci-mi")
	t.Setenv("PGPORT", "five")
	if d = configure(nullModel(), "test"); !strings.Contains(d.problem, `PGPORT="five" is not a number`) {
		t.Errorf("problem = %q", d.problem)
	}
}

// TestConfigureEnvironment: the environment variables the provider falls
// back on (docs/index.md), their order, defaults, and configuration winning
// over the environment.
func TestConfigureEnvironment(t *testing.T) {
	clearAuthEnv(t)
	t.Setenv("AZUREPG_HOST", "a.postgres.database.azure.com")
	t.Setenv("PGHOST", "b.postgres.database.azure.com")
	t.Setenv("PGUSER", "pg-user")
	t.Setenv("AZUREPG_USERNAME", "azurepg-user")
	t.Setenv("AZURE_CLIENT_ID", "azure-client")
	t.Setenv("ARM_CLIENT_ID", "arm-client")
	t.Setenv("AZURE_TENANT_ID", "azure-tenant")
	t.Setenv("ARM_ENVIRONMENT", "AzureChinaCloud")
	t.Setenv("AZUREPG_AUTH_METHOD", "managed_identity")
	d := configure(nullModel(), "1.2.3")
	s := d.settings
	want := settings{
		Host: "a.postgres.database.azure.com", Port: 5432, Username: "azurepg-user", SSLMode: "verify-full",
		ConnectTimeout: 30 * time.Second, FailoverTimeout: 2 * time.Minute, MaxConnections: 4, // the documented defaults
		Auth: entratoken.Settings{Method: "managed_identity", Cloud: "AzureChinaCloud", ClientID: "arm-client", TenantID: "azure-tenant",
			Timeout: 30 * time.Second},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("settings from the environment:\n got %+v\nwant %+v", s, want)
	}
	if d.problem != "" {
		t.Errorf("problem = %q", d.problem)
	}
	src, err := entratoken.New(s.Auth)
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Cloud().Scope(); got != "https://ossrdbms-aad.database.chinacloudapi.cn/.default" {
		t.Errorf("ARM_ENVIRONMENT=AzureChinaCloud gives scope %q", got)
	}

	m := nullModel()
	m.Host = types.StringValue("c.postgres.database.azure.com")
	m.Username = types.StringValue("config-user")
	m.ClientID = types.StringValue("config-client")
	m.Cloud = types.StringValue("usgovernment")
	m.Port = types.Int64Value(6432)
	m.MaxConnections = types.Int64Value(9)
	s = configure(m, "1.2.3").settings
	if s.Host != "c.postgres.database.azure.com" || s.Username != "config-user" || s.Auth.ClientID != "config-client" ||
		s.Auth.Cloud != "usgovernment" || s.Port != 6432 || s.MaxConnections != 9 {
		t.Errorf("the configuration does not win over the environment: %+v", s)
	}
}

// TestConfigureStaticSecretsNeeded: password and access_token methods say
// which setting is missing, when a connection is asked for.
func TestConfigureStaticSecretsNeeded(t *testing.T) {
	clearAuthEnv(t)
	for method, want := range map[string]string{
		"password":      "PGPASSWORD",
		"access_token":  "AZUREPG_ACCESS_TOKEN",
		"client_secret": "tenant_id, client_id and client_secret",
	} {
		m := nullModel()
		m.Host = types.StringValue("h")
		m.Username = types.StringValue(method + "-user")
		m.AuthMethod = types.StringValue(method)
		_, diags := configure(m, "test").Client()
		if !diags.HasError() || !strings.Contains(diags.Errors()[0].Detail(), want) {
			t.Errorf("%s without its secret: %v", method, diags)
		}
	}
}

// TestConfigureTLS: verify-full is the default, sslrootcert falls back to
// PGSSLROOTCERT and reaches the database client, and every mode that does
// not verify the server gets the warning that names sslmode.
func TestConfigureTLS(t *testing.T) {
	clearAuthEnv(t)
	t.Setenv("PGSSLROOTCERT", "/etc/env-ca.pem")
	m := nullModel()
	m.Host = types.StringValue("srv.postgres.database.azure.com")
	m.Username = types.StringValue("u")
	d := configure(m, "test")
	if d.settings.SSLMode != "verify-full" || d.settings.SSLRootCert != "/etc/env-ca.pem" {
		t.Errorf("defaults: sslmode %q, sslrootcert %q", d.settings.SSLMode, d.settings.SSLRootCert)
	}
	if w := d.settings.unverifiedWarning(); w != "" {
		t.Errorf("verify-full warns: %s", w)
	}
	c, diags := d.Client()
	if diags.HasError() {
		t.Fatal(diags)
	}
	if c.Config().SSLRootCert != "/etc/env-ca.pem" || c.Config().SSLMode != "verify-full" {
		t.Errorf("the client's config: %+v", c.Config())
	}
	m.SSLRootCert = types.StringValue("system")
	m.SSLMode = types.StringValue("require")
	if s := configure(m, "test").settings; s.SSLRootCert != "system" || s.unverifiedWarning() != "" {
		t.Errorf("sslrootcert = system (pgx then uses verify-full): %q, warning %q", s.SSLRootCert, s.unverifiedWarning())
	}
	m.SSLRootCert = types.StringNull()
	for mode, want := range map[string]string{
		"disable":   "in clear text",
		"require":   "does not check the server's certificate",
		"verify-ca": "but not that it names host",
	} {
		m.SSLMode = types.StringValue(mode)
		w := configure(m, "test").settings.unverifiedWarning()
		for _, s := range []string{`sslmode = "` + mode + `"`, want, "srv.postgres.database.azure.com", "receives the token or password", "sslrootcert"} {
			if !strings.Contains(w, s) {
				t.Errorf("sslmode %s: the warning does not say %q: %s", mode, s, w)
			}
		}
	}
}

// TestConfigureOIDCEnvironment: ARM_USE_OIDC selects oidc when auth_method
// is unset (not when it is set); the ARM_* variables win over GitHub
// Actions' own; the configuration wins over both.
func TestConfigureOIDCEnvironment(t *testing.T) {
	clearAuthEnv(t)
	t.Setenv("ARM_USE_OIDC", "true")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh.example/actions")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token")
	t.Setenv("ARM_OIDC_REQUEST_TOKEN", "arm-request-token")
	t.Setenv("ARM_OIDC_TOKEN_FILE_PATH", "/var/run/tfc-token")
	t.Setenv("ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID", "sc-1")
	t.Setenv("SYSTEM_ACCESSTOKEN", "ado-system-token")
	t.Setenv("ARM_OIDC_TOKEN", "arm-oidc-token")
	a := configure(nullModel(), "1").settings.Auth
	want := entratoken.Settings{Method: "oidc", Cloud: "public", Timeout: 30 * time.Second,
		OIDCToken: "arm-oidc-token", OIDCTokenFilePath: "/var/run/tfc-token", OIDCRequestURL: "https://gh.example/actions",
		OIDCRequestToken: "arm-request-token", ADOServiceConnectionID: "sc-1", SystemAccessToken: "ado-system-token"}
	if a != want {
		t.Errorf("oidc settings from the environment:\n got %+v\nwant %+v", a, want)
	}
	m := nullModel()
	m.OIDCRequestURL = types.StringValue("https://config.example/")
	m.OIDCTokenFilePath = types.StringValue("/config/token")
	if a := configure(m, "1").settings.Auth; a.OIDCRequestURL != "https://config.example/" || a.OIDCTokenFilePath != "/config/token" {
		t.Errorf("the configuration does not win: %+v", a)
	}
	t.Setenv("AZUREPG_AUTH_METHOD", "managed_identity")
	if a := configure(nullModel(), "1").settings.Auth; a.Method != "managed_identity" {
		t.Errorf("ARM_USE_OIDC overrides AZUREPG_AUTH_METHOD: %q", a.Method)
	}
	t.Setenv("AZUREPG_AUTH_METHOD", "")
	t.Setenv("ARM_USE_OIDC", "false")
	if a := configure(nullModel(), "1").settings.Auth; a.Method != "default" {
		t.Errorf("ARM_USE_OIDC=false gives %q", a.Method)
	}
}

// TestClientForOtherServers: a server the provider block does not name is
// refused before any client or token source exists; the servers it names
// get clients of their own that share one token source.
func TestClientForOtherServers(t *testing.T) {
	clearAuthEnv(t)
	m := nullModel()
	m.Host = types.StringValue("pg-a.postgres.database.azure.com")
	m.Username = types.StringValue("deployer")
	m.AuthMethod = types.StringValue("access_token")
	m.AccessToken = types.StringValue("not-a-real-token")
	m.AllowedHosts = types.SetValueMust(types.StringType, []attr.Value{types.StringValue("PG-B.postgres.database.azure.com")})
	d := configure(m, "test")
	before := len(connTokens)
	_, diags := d.ClientFor("pg-evil.example.com", 0)
	if !diags.HasError() || len(connTokens) != before {
		t.Fatalf("a server outside allowed_hosts: diags %v, token sources %d -> %d", diags, before, len(connTokens))
	}
	detail := diags[0].Detail()
	for _, s := range []string{`"pg-evil.example.com" is not the provider's host`, "allowed_hosts", "no token"} {
		if !strings.Contains(detail, s) {
			t.Errorf("the error does not say %q:\n%s", s, detail)
		}
	}
	own, diags := d.ClientFor("", 0)
	b, diags2 := d.ClientFor("pg-b.postgres.database.azure.com", 6432)
	if diags.HasError() || diags2.HasError() {
		t.Fatalf("allowed servers refused: %v %v", diags, diags2)
	}
	if own == b {
		t.Fatal("two servers share one client (and so one pool and one snapshot)")
	}
	ownShared, _ := d.sharedFor("", 0)
	bShared, _ := d.sharedFor("pg-b.postgres.database.azure.com", 6432)
	if ownShared.tokens != bShared.tokens {
		t.Fatal("two servers of one provider have two token sources")
	}
}
