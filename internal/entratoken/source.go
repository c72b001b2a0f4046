package entratoken

import (
	"context"
	"errors"
	"fmt"
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
	MethodAzureCLI, MethodClientSecret, MethodPassword, MethodAccessToken}

// Settings choose how to obtain the password of a new connection.
type Settings struct {
	Method       string
	Cloud        string
	ClientID     string
	TenantID     string
	ClientSecret string
	Password     string
	AccessToken  string
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
	// failed is the last failure of the credential, handed to every caller
	// until failedAt+failureHold, so that parallel connections do not each
	// wait for the Azure SDK's retries (20 reads took over 3 minutes to fail).
	failed   error
	failedAt time.Time
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
	src := &Source{method: s.Method, cloud: c, now: time.Now}
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
	opts := policy.ClientOptions{Cloud: c.Configuration}
	// AZURE_AUTHORITY_HOST (a private or test authority) wins over the cloud's default.
	if host := os.Getenv("AZURE_AUTHORITY_HOST"); host != "" {
		opts.Cloud.ActiveDirectoryAuthorityHost = host
	}
	mi := func() (azcore.TokenCredential, error) {
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
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
		return s.cached, nil
	}
	if s.failed != nil && s.now().Before(s.failedAt.Add(failureHold)) {
		return Token{}, s.failed
	}
	at, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{s.cloud.Scope()}})
	if err != nil {
		err = &CredentialError{Method: s.method, Err: err}
		if ctx.Err() == nil { // not the caller's own time-out or cancellation
			s.failed, s.failedAt = err, s.now()
		}
		return Token{}, err
	}
	s.failed = nil
	s.cached = Token{Value: at.Token, ExpiresOn: at.ExpiresOn}
	s.issued = s.now()
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
