package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// settings are the provider's resolved settings: configuration first, then
// environment variables, then defaults.
type settings struct {
	Host, Username, SSLMode string
	SSLRootCert             string
	Port                    int
	ConnectTimeout          time.Duration
	FailoverTimeout         time.Duration
	MaxConnections          int32
	// AllowedHosts are the servers besides Host that resources may name,
	// in lower case.
	AllowedHosts []string
	Auth         entratoken.Settings
}

// providerData is what resources receive. Connecting is deferred until a
// resource needs it, so that unknown values (a server created in the same
// apply) and a missing host fail only then, and `terraform validate` needs
// no network.
type providerData struct {
	version  string
	settings settings
	// problem is why the provider cannot connect (unknown values, a bad setting).
	problem string
	// unknown names the provider attributes whose values are not known yet.
	unknown []string
	// fromEnv says which settings fell back to which environment variable
	// (names only, for the debug log).
	fromEnv []string
}

func configure(m providerModel, version string) *providerData {
	d := &providerData{version: version}
	var unknown []string
	str := func(name string, v types.String, env ...string) string {
		if v.IsUnknown() {
			unknown = append(unknown, name)
			return ""
		}
		if !v.IsNull() {
			return v.ValueString()
		}
		for _, e := range env {
			if s := os.Getenv(e); s != "" {
				d.fromEnv = append(d.fromEnv, name+" from "+e)
				return s
			}
		}
		return ""
	}
	num := func(name string, v types.Int64, def int64, env string) int64 {
		if v.IsUnknown() {
			unknown = append(unknown, name)
			return def
		}
		if !v.IsNull() {
			return v.ValueInt64()
		}
		if s := os.Getenv(env); env != "" && s != "" {
			d.fromEnv = append(d.fromEnv, name+" from "+env)
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
			d.problem = fmt.Sprintf("%s=%q is not a number", env, s)
		}
		return def
	}
	s := settings{
		Host:            str("host", m.Host, "AZUREPG_HOST", "PGHOST"),
		Port:            int(num("port", m.Port, pgaad.DefaultPort, "PGPORT")),
		Username:        str("username", m.Username, "AZUREPG_USERNAME", "PGUSER"),
		SSLMode:         or(str("sslmode", m.SSLMode, "PGSSLMODE"), "verify-full"),
		SSLRootCert:     str("sslrootcert", m.SSLRootCert, "PGSSLROOTCERT"),
		ConnectTimeout:  time.Duration(num("connect_timeout", m.ConnectTimeout, 30, "")) * time.Second,
		MaxConnections:  int32(num("max_connections", m.MaxConnections, pgaad.DefaultMaxConns, "")),
		FailoverTimeout: time.Duration(num("failover_timeout", m.FailoverTimeout, 0, "")) * time.Second,
		Auth: entratoken.Settings{
			Method:       or(str("auth_method", m.AuthMethod, "AZUREPG_AUTH_METHOD"), defaultMethod()),
			Cloud:        or(str("cloud", m.Cloud, "ARM_ENVIRONMENT"), "public"),
			ClientID:     str("client_id", m.ClientID, "ARM_CLIENT_ID", "AZURE_CLIENT_ID"),
			TenantID:     str("tenant_id", m.TenantID, "ARM_TENANT_ID", "AZURE_TENANT_ID"),
			ClientSecret: str("client_secret", m.ClientSecret, "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET"),
			Password:     str("password", m.Password, "PGPASSWORD"),
			AccessToken:  str("access_token", m.AccessToken, "AZUREPG_ACCESS_TOKEN"),

			OIDCToken:              str("oidc_token", m.OIDCToken, "ARM_OIDC_TOKEN"),
			OIDCTokenFilePath:      str("oidc_token_file_path", m.OIDCTokenFilePath, "ARM_OIDC_TOKEN_FILE_PATH"),
			OIDCRequestURL:         str("oidc_request_url", m.OIDCRequestURL, "ARM_OIDC_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_URL"),
			OIDCRequestToken:       str("oidc_request_token", m.OIDCRequestToken, "ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
			ADOServiceConnectionID: str("ado_pipeline_service_connection_id", m.ADOServiceConnectionID, "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID"),
			SystemAccessToken:      os.Getenv("SYSTEM_ACCESSTOKEN"),
		},
	}
	s.Auth.Timeout = s.ConnectTimeout
	if s.FailoverTimeout == 0 { // unset: the default, and never shorter than one attempt to connect
		s.FailoverTimeout = max(pgaad.DefaultOutageTimeout, s.ConnectTimeout)
	}
	if m.AllowedHosts.IsUnknown() {
		unknown = append(unknown, "allowed_hosts")
	}
	for _, e := range m.AllowedHosts.Elements() {
		if v, ok := e.(types.String); ok && !v.IsUnknown() && !v.IsNull() {
			s.AllowedHosts = append(s.AllowedHosts, strings.ToLower(v.ValueString()))
		}
	}
	d.settings = s
	d.unknown = unknown
	switch {
	case len(unknown) > 0:
		d.problem = fmt.Sprintf("the provider's %s will only be known during apply (for example a server created in the same apply), "+
			"so this resource cannot be read yet. Apply the server first (terraform apply -target=...), or pass the values in directly.",
			strings.Join(unknown, ", "))
	case s.FailoverTimeout < s.ConnectTimeout:
		d.problem = fmt.Sprintf("failover_timeout (%s) is shorter than connect_timeout (%s): a single attempt to connect may take "+
			"connect_timeout, so failover_timeout must be at least as long. Raise failover_timeout or lower connect_timeout",
			s.FailoverTimeout, s.ConnectTimeout)
	case s.Host == "" && len(s.AllowedHosts) == 0:
		d.problem = "no host: set the provider's host (or AZUREPG_HOST / PGHOST) to the server's name, e.g. myserver.postgres.database.azure.com " +
			"(or, for a fleet whose resources each name their host, list the servers in allowed_hosts)"
	case s.Username == "":
		d.problem = "no username: set the provider's username (or AZUREPG_USERNAME / PGUSER) to the Entra principal's exact name, e.g. the managed identity's display name"
	}
	return d
}

// unverifiedWarning says, once per plan or apply (the provider's Configure),
// that the token or password goes to a server that has not proved who it is;
// "" for verify-full. verify-ca warns too: it checks the chain but not the
// host name, so any certificate from the same CA passes (with Azure's public
// roots, any site's certificate from those CAs).
func (s settings) unverifiedWarning() string {
	if s.SSLMode == "verify-full" || s.SSLRootCert == "system" { // pgx makes sslrootcert=system verify-full
		return ""
	}
	what := map[string]string{
		"disable":   "sends the password or Entra token in clear text, to a server that has not proved who it is",
		"require":   "encrypts the connection but does not check the server's certificate (unless sslrootcert is set, and then not its host name)",
		"verify-ca": "checks that the server's certificate chains to a trusted root, but not that it names host",
	}[s.SSLMode]
	if what == "" {
		return ""
	}
	return fmt.Sprintf("sslmode = %q %s: anyone who can answer on %s (a spoofed DNS name, a taken-over address) receives the token or password, "+
		"a bearer credential that works against the real server until it expires. "+
		"Remove sslmode (default \"verify-full\"), and set sslrootcert (or PGSSLROOTCERT) to the CA bundle if the server's certificate is from a private CA.",
		s.SSLMode, what, s.Host)
}

// defaultMethod is the auth method when neither auth_method nor
// AZUREPG_AUTH_METHOD is set: oidc with ARM_USE_OIDC=true, as for azurerm.
func defaultMethod() string {
	if b, err := strconv.ParseBool(os.Getenv("ARM_USE_OIDC")); err == nil && b {
		return entratoken.MethodOIDC
	}
	return entratoken.MethodDefault
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// clients are shared by every provider instance in this process that has the
// same settings: one pool per database and one token cache per process.
var (
	clientsMu sync.Mutex
	clients   = map[string]*sharedClient{}
)

type sharedClient struct {
	client *pgaad.Client
	tokens *entratoken.Source
}

func (s settings) key() string {
	h := sha256.New()
	fmt.Fprintf(h, "%#v", s)
	return hex.EncodeToString(h.Sum(nil))
}

// forgetSnapshots drops every client's refresh snapshot: Configure calls it
// at the start of each Terraform walk, so that a provider process that
// serves several commands (terraform -debug, TF_REATTACH_PROVIDERS, the
// in-process provider of the tests) answers no read from an earlier
// command's snapshot, and drift made in between is seen.
func forgetSnapshots() {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	for _, c := range clients {
		c.client.ForgetSnapshots()
	}
}

// errNotConfigured wraps why the provider cannot connect.
var errNotConfigured = errors.New("the azurepg provider cannot connect")

func (d *providerData) shared() (*sharedClient, error) { return d.sharedFor("", 0) }

// sharedFor is the client of a server that a resource names (host "" and
// port 0: the provider's). Clients of other servers share the provider's
// token source: an Entra token for PostgreSQL serves every server of a cloud.
// A server the provider block does not allow is refused before anything
// is fetched or sent.
func (d *providerData) sharedFor(host string, port int) (*sharedClient, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: the provider was not configured", errNotConfigured)
	}
	if d.problem != "" {
		return nil, fmt.Errorf("%w: %s", errNotConfigured, d.problem)
	}
	s := d.settings
	if host == "" && s.Host == "" {
		return nil, fmt.Errorf("%w: no host: this resource names no host, and the provider has none: set the resource's host "+
			"to one of the provider's allowed_hosts (%s), or set the provider's host (or AZUREPG_HOST / PGHOST)",
			errNotConfigured, strings.Join(s.AllowedHosts, ", "))
	}
	if host != "" {
		if err := d.checkAllowed(host); err != nil {
			return nil, err
		}
		s.Host = host
	}
	// One client per server: host names are case-insensitive.
	s.Host = strings.ToLower(s.Host)
	if port != 0 {
		s.Port = port
	}
	clientsMu.Lock()
	defer clientsMu.Unlock()
	key := s.key()
	if c, ok := clients[key]; ok {
		return c, nil
	}
	src, err := tokenSourceFor(s.Auth)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotConfigured, err)
	}
	c := &sharedClient{tokens: src, client: pgaad.NewClient(pgaad.Config{
		Host: s.Host, Port: s.Port, Username: s.Username, SSLMode: s.SSLMode,
		SSLRootCert: s.SSLRootCert, ConnectTimeout: s.ConnectTimeout, OutageTimeout: s.FailoverTimeout, MaxConns: s.MaxConnections,
		ApplicationName: "terraform-provider-azurepg/" + d.version,
		Password:        src.Password,
		Entra:           src.IsEntra(),
		Cloud:           s.Auth.Cloud,
		Log:             logDecision,
	})}
	clients[key] = c
	return c, nil
}

// connTokens are the token sources of the process's connections, by auth
// settings: every server of a provider shares one. Used with clientsMu held.
var connTokens = map[entratoken.Settings]*entratoken.Source{}

func tokenSourceFor(a entratoken.Settings) (*entratoken.Source, error) {
	if src, ok := connTokens[a]; ok {
		return src, nil
	}
	src, err := entratoken.New(a)
	if err != nil {
		return nil, err
	}
	src.SetLogger(logDecision)
	connTokens[a] = src
	return src, nil
}

// errHostNotAllowed: a resource names a server the provider may not log in to.
var errHostNotAllowed = errors.New("server not in the provider's allowed_hosts")

// checkAllowed refuses a server that is neither the provider's host nor in
// its allowed_hosts (host names compare without regard to case).
func (d *providerData) checkAllowed(host string) error {
	h := strings.ToLower(host)
	if h == strings.ToLower(d.settings.Host) || slices.Contains(d.settings.AllowedHosts, h) {
		return nil
	}
	return fmt.Errorf("%w: %q is not the provider's host (%q) and not in its allowed_hosts, so the provider sends it no token "+
		"or password: an Entra token for PostgreSQL is valid on every Azure server, and a module could otherwise send the "+
		"admin's token anywhere. Add %q to allowed_hosts in the provider block if this server is yours, or correct this "+
		"resource's host", errHostNotAllowed, host, d.settings.Host, host)
}

// Client returns the database client, or a diagnostic saying why there is none.
func (d *providerData) Client() (*pgaad.Client, diag.Diagnostics) { return d.ClientFor("", 0) }

// ClientFor returns the client of the server a resource names (host ""
// and port 0: the provider's), or a diagnostic saying why there is none.
func (d *providerData) ClientFor(host string, port int) (*pgaad.Client, diag.Diagnostics) {
	var diags diag.Diagnostics
	c, err := d.sharedFor(host, port)
	switch {
	case errors.Is(err, errHostNotAllowed):
		diags.AddAttributeError(path.Root("host"), "Server not allowed", err.Error()+".")
		return nil, diags
	case err != nil:
		diags.AddError("Provider not ready to connect", err.Error())
		return nil, diags
	}
	return c.client, diags
}

// Tokens returns the provider's token source (for the ephemeral access token).
func (d *providerData) Tokens() (*entratoken.Source, diag.Diagnostics) {
	var diags diag.Diagnostics
	c, err := d.shared()
	if err != nil {
		diags.AddError("Provider not ready", err.Error())
		return nil, diags
	}
	return c.tokens, diags
}

// dataFrom is what every resource's Configure calls.
func dataFrom(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil // not configured yet (validate)
	}
	d, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T", v))
		return nil
	}
	return d
}

// secretFields are the log field names whose values tflog masks, should a
// secret ever be given one of them (pgaad and entratoken never log one).
var secretFields = []string{"token", "access_token", "password", "client_secret", "value", "subscription_key", "endpoint_key"}

// logDecision is how pgaad and entratoken log their decisions (a retry and
// why, a pool opened, a token fetched or served from the cache): tflog at
// DEBUG, secret fields masked. Without TF_LOG, tflog drops it.
func logDecision(ctx context.Context, msg string, fields map[string]any) {
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, secretFields...)
	tflog.Debug(ctx, msg, fields)
}
