package entratoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Auth methods, as the provider's auth_method attribute names them.
const (
	MethodDefault          = "default"
	MethodManagedIdentity  = "managed_identity"
	MethodWorkloadIdentity = "workload_identity"
	MethodAzureCLI         = "azure_cli"
	MethodClientSecret     = "client_secret"
	MethodPassword         = "password"
	MethodAccessToken      = "access_token"
)

// Methods lists every auth method.
var Methods = []string{MethodDefault, MethodManagedIdentity, MethodWorkloadIdentity,
	MethodAzureCLI, MethodClientSecret, MethodOIDC, MethodPassword, MethodAccessToken}

// Settings choose how to obtain the password of a new connection.
type Settings struct {
	Method       string
	Cloud        string
	ClientID     string
	TenantID     string
	ClientSecret string
	Password     string
	AccessToken  string

	// auth_method "oidc" (see oidcCredential for the precedence).
	OIDCToken              string
	OIDCTokenFilePath      string
	OIDCRequestURL         string
	OIDCRequestToken       string
	ADOServiceConnectionID string
	SystemAccessToken      string // Azure Pipelines' SYSTEM_ACCESSTOKEN

	// Timeout bounds each token fetch, retries included (the connect
	// timeout). Zero leaves it to the caller's context.
	Timeout time.Duration
}

// Token is a password with its expiry (zero for a plain password).
type Token struct {
	Value     string
	ExpiresOn time.Time
}

// Source hands out the password for each new connection. It is safe for
// concurrent use: parallel connections share one token fetch.
type Source struct {
	method string
	cloud  Cloud
	static string
	cred   azcore.TokenCredential

	mu     sync.Mutex
	cached Token
	issued time.Time
	now    func() time.Time
	// timeout bounds one token fetch with its retries.
	timeout time.Duration
	// failed is the last failure of the credential, handed to every caller
	// until failedAt+failureHold, so that parallel connections do not each
	// wait for the Azure SDK's retries (20 reads took over 3 minutes to fail).
	failed   error
	failedAt time.Time
	// log, when set (SetLogger), is told of each decision; never the token.
	log Logger
}

// Logger receives a decision of the source (a token fetched, one served from
// the cache, a failure held) with fields that never hold a token or secret.
type Logger func(ctx context.Context, msg string, fields map[string]any)

// SetLogger sets where the source tells its decisions; call it before use.
func (s *Source) SetLogger(l Logger) { s.log = l }

func (s *Source) logf(ctx context.Context, msg string, fields map[string]any) {
	if s.log != nil {
		s.log(ctx, msg, fields)
	}
}

// testTransport replaces the HTTP transport of every credential in tests
// (to trust a fake authority's certificate in-process); nil otherwise.
var testTransport policy.Transporter

// managedIdentityRetry is the retry policy of the managed-identity endpoint.
// Azure documents 20 requests/s and 5 concurrent per VM, 429 beyond, and
// 410 for up to 70 s while the endpoint is updated
// (https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#error-handling).
// azidentity sets a policy like this one only for IMDS; App Service, Arc,
// Cloud Shell and Service Fabric endpoints get azcore's default, which
// does not retry 410 or 404. azcore's retry policy honours Retry-After
// (up to MaxRetryDelay) and stops when the context ends: the Source bounds
// each fetch with the connect timeout, so a 70 s update needs
// connect_timeout above 70. Delays without Retry-After: 0.5, 1.5, 3.5, 7.5,
// 15.5, then 30 s (with azcore's jitter), about 90 s over 8 retries.
var managedIdentityRetry = policy.RetryOptions{
	MaxRetries:    8,
	RetryDelay:    500 * time.Millisecond,
	MaxRetryDelay: 30 * time.Second,
	StatusCodes: []int{
		http.StatusNotFound, http.StatusRequestTimeout, http.StatusGone, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
	},
}

// failureHold is how long a credential failure is handed out before the
// credential is asked again.
const failureHold = 30 * time.Second

// New builds a source from the settings. It fetches nothing.
func New(s Settings) (*Source, error) {
	if s.Method == "" {
		s.Method = MethodDefault
	}
	c, err := LookupCloud(s.Cloud)
	if err != nil {
		return nil, err
	}
	src := &Source{method: s.Method, cloud: c, now: time.Now, timeout: s.Timeout}
	switch s.Method {
	case MethodPassword:
		if s.Password == "" {
			return nil, errors.New(`auth_method "password" needs a password (the password attribute or PGPASSWORD)`)
		}
		src.static = s.Password
		return src, nil
	case MethodAccessToken:
		if s.AccessToken == "" {
			return nil, errors.New(`auth_method "access_token" needs a token (the access_token attribute or AZUREPG_ACCESS_TOKEN)`)
		}
		src.static = s.AccessToken
		return src, nil
	}
	if src.cred, err = credential(s, c); err != nil {
		return nil, fmt.Errorf("auth_method %q: %w", s.Method, err)
	}
	return src, nil
}

func credential(s Settings, c Cloud) (azcore.TokenCredential, error) {
	opts := policy.ClientOptions{Cloud: c.Configuration, Transport: testTransport,
		PerRetryPolicies: []policy.Policy{recordAttempts{}}}
	// AZURE_AUTHORITY_HOST (a private or test authority) wins over the cloud's default.
	if host := os.Getenv("AZURE_AUTHORITY_HOST"); host != "" {
		opts.Cloud.ActiveDirectoryAuthorityHost = host
	}
	mi := func() (azcore.TokenCredential, error) {
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		o.Retry = managedIdentityRetry
		if s.ClientID != "" {
			o.ID = azidentity.ClientID(s.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	}
	wi := func() (azcore.TokenCredential, error) {
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, ClientID: s.ClientID, TenantID: s.TenantID,
			DisableInstanceDiscovery: os.Getenv("AZURE_AUTHORITY_HOST") != "",
		})
	}
	cli := func() (azcore.TokenCredential, error) {
		return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: s.TenantID})
	}
	switch s.Method {
	case MethodManagedIdentity:
		return mi()
	case MethodWorkloadIdentity:
		return wi()
	case MethodAzureCLI:
		return cli()
	case MethodOIDC:
		return oidcCredential(s, opts, os.Getenv("AZURE_AUTHORITY_HOST") != "")
	case MethodClientSecret:
		if s.TenantID == "" || s.ClientID == "" || s.ClientSecret == "" {
			return nil, errors.New("client_secret needs tenant_id, client_id and client_secret (or ARM_/AZURE_ environment variables)")
		}
		return azidentity.NewClientSecretCredential(s.TenantID, s.ClientID, s.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts,
				DisableInstanceDiscovery: os.Getenv("AZURE_AUTHORITY_HOST") != ""})
	case MethodDefault:
		if s.ClientID == "" {
			return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
				ClientOptions: opts, TenantID: s.TenantID})
		}
		// DefaultAzureCredential takes a user-assigned identity only from
		// AZURE_CLIENT_ID; with client_id set, chain the same credentials
		// ourselves so the configured identity is used.
		var chain []azcore.TokenCredential
		for _, f := range []func() (azcore.TokenCredential, error){wi, mi, cli} {
			if c, err := f(); err == nil {
				chain = append(chain, c)
			}
		}
		return azidentity.NewChainedTokenCredential(chain, nil)
	default:
		return nil, fmt.Errorf("unknown auth_method; use one of %v", Methods)
	}
}

// Method is the auth method of the source.
func (s *Source) Method() string { return s.method }

// Cloud is the cloud whose scope tokens are asked for.
func (s *Source) Cloud() Cloud { return s.cloud }

// IsEntra reports whether the source yields Entra tokens (not a plain password).
func (s *Source) IsEntra() bool { return s.method != MethodPassword }

// Password returns the password for a new connection: the cached token while
// it is fresh, otherwise a new one from the credential.
func (s *Source) Password(ctx context.Context) (string, error) {
	t, err := s.Token(ctx)
	return t.Value, err
}

// Token is Password with the expiry.
func (s *Source) Token(ctx context.Context) (Token, error) {
	if s.cred == nil {
		return Token{Value: s.static}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached.Value != "" && s.fresh() {
		s.logf(ctx, "entratoken: token served from cache", map[string]any{"auth_method": s.method, "expires_on": s.cached.ExpiresOn})
		return s.cached, nil
	}
	if s.failed != nil && s.now().Before(s.failedAt.Add(failureHold)) {
		s.logf(ctx, "entratoken: last credential failure handed out again", map[string]any{"auth_method": s.method,
			"retry_after": s.failedAt.Add(failureHold)})
		return Token{}, s.failed
	}
	fetchCtx := ctx
	if s.timeout > 0 {
		var cancel context.CancelFunc
		fetchCtx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	fetchCtx, tries := withAttempts(fetchCtx)
	at, err := s.cred.GetToken(fetchCtx, policy.TokenRequestOptions{Scopes: []string{s.cloud.Scope()}})
	if err != nil {
		err = &CredentialError{Method: s.method, Err: tries.explainTimeout(fetchCtx, err)}
		s.logf(ctx, "entratoken: token request failed", map[string]any{"auth_method": s.method, "error": err.Error()})
		if ctx.Err() == nil { // not the caller's own time-out or cancellation
			s.failed, s.failedAt = err, s.now()
		}
		return Token{}, err
	}
	s.failed = nil
	s.cached = Token{Value: at.Token, ExpiresOn: at.ExpiresOn}
	s.issued = s.now()
	s.logf(ctx, "entratoken: token fetched", map[string]any{"auth_method": s.method, "scope": s.cloud.Scope(), "expires_on": at.ExpiresOn})
	return s.cached, nil
}

// fresh reports whether the cached token may still be handed out: it must
// outlive the next refresh margin, a quarter of its lifetime capped at five
// minutes, so that a connection never starts with a token about to expire.
func (s *Source) fresh() bool {
	margin := s.cached.ExpiresOn.Sub(s.issued) / 4
	if margin > 5*time.Minute {
		margin = 5 * time.Minute
	}
	return s.now().Add(margin).Before(s.cached.ExpiresOn)
}

// CredentialError is a failure to obtain a token; its message carries azidentity's.
type CredentialError struct {
	Method string
	Err    error
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("could not get an Entra access token with auth_method %q: %v", e.Method, e.Err)
}

func (e *CredentialError) Unwrap() error { return e.Err }
