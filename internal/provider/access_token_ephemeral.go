package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

var _ ephemeral.EphemeralResourceWithConfigure = (*accessTokenEphemeral)(nil)

// NewAccessTokenEphemeralResource is the azurepg_access_token ephemeral resource.
func NewAccessTokenEphemeralResource() ephemeral.EphemeralResource { return &accessTokenEphemeral{} }

type accessTokenEphemeral struct{ data *providerData }

type accessTokenModel struct {
	AuthMethod   types.String `tfsdk:"auth_method"`
	ClientID     types.String `tfsdk:"client_id"`
	TenantID     types.String `tfsdk:"tenant_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
	Cloud        types.String `tfsdk:"cloud"`
	Token        types.String `tfsdk:"token"`
	ExpiresOn    types.String `tfsdk:"expires_on"`
	Scope        types.String `tfsdk:"scope"`
}

// tokenMethods are the auth methods that yield an Entra token: every one but password.
func tokenMethods() []string {
	return slices.DeleteFunc(slices.Clone(entratoken.Methods), func(m string) bool { return m == entratoken.MethodPassword })
}

func (r *accessTokenEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_token"
}

func (r *accessTokenEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	const inherit = " Defaults to the provider's setting (and so to its environment variables)."
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Microsoft Entra ID access token for Azure Database for PostgreSQL (the scope " +
			"`https://ossrdbms-aad.database.windows.net/.default`, or its China or US Government counterpart), " +
			"obtained with the provider's credential or with the settings given here. Use it as the password of any " +
			"other tool that logs in as the same identity, such as the general PostgreSQL provider or `psql` in a " +
			"`local-exec` provisioner, without storing a token anywhere: as an ephemeral resource it is never written " +
			"to the plan or the state. Needs Terraform 1.11 or later.\n\n" +
			"The token is fetched when Terraform opens the resource, during both plan and apply, and the provider's " +
			"cached token is reused while it has enough lifetime left. Entra tokens are valid for about an hour " +
			"and cannot be renewed in place: a longer job must fetch its own.",
		Attributes: map[string]schema.Attribute{
			"auth_method": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "How to obtain the token: `default` (the `DefaultAzureCredential` chain), `managed_identity`, " +
					"`workload_identity`, `azure_cli`, `client_secret` or `access_token` (hand on the provider's `access_token`). " +
					"`password` yields no token and is not accepted." + inherit,
				Validators: []validator.String{stringvalidator.OneOf(tokenMethods()...)},
			},
			"client_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Client id of a user-assigned managed identity or of an app registration. An empty string " +
					"selects the system-assigned identity even when the provider names another." + inherit,
			},
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Microsoft Entra tenant id." + inherit,
			},
			"client_secret": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Client secret of an app registration, for `auth_method = \"client_secret\"`." + inherit,
			},
			"cloud": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "The Azure cloud, which picks the token's scope: `public`, `china` or `usgovernment`." + inherit,
				Validators:          []validator.String{stringvalidator.OneOf(entratoken.CloudNames()...)},
			},
			"token": schema.StringAttribute{
				Computed:            true,
				Sensitive:           true,
				MarkdownDescription: "The access token: the password to log in with, as the identity the token was issued to.",
			},
			"expires_on": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "When the token expires, in RFC 3339 form (`2026-01-02T15:04:05Z`). For `auth_method = \"access_token\"` " +
					"it is read from the token's `exp` claim, and null when the token has none.",
			},
			"scope": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The OAuth 2.0 scope the token was requested for, which follows `cloud`.",
			},
		},
	}
}

func (r *accessTokenEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	r.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *accessTokenEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m accessTokenModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.data == nil {
		resp.Diagnostics.AddError("Provider not configured", "The azurepg provider was not configured before the access token was requested.")
		return
	}
	auth, unknown := r.data.tokenSettings(m)
	if len(unknown) > 0 {
		// Known only during apply (an identity created in the same run):
		// Terraform accepts unknown computed values from Open while planning.
		m.Token, m.ExpiresOn, m.Scope = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
		return
	}
	if auth.Method == entratoken.MethodPassword {
		resp.Diagnostics.AddAttributeError(path.Root("auth_method"), "No Entra token with a password",
			"The provider logs in with auth_method = \"password\", which yields no Entra token. Set auth_method in this block "+
				"(for example \"managed_identity\" or \"azure_cli\") to the credential that should obtain the token.")
		return
	}
	src, err := r.data.tokenSource(auth)
	if err != nil {
		resp.Diagnostics.AddError("Invalid credential settings for the access token", err.Error())
		return
	}
	tok, err := src.Token(ctx)
	if err != nil {
		// The summary already says what failed; keep azidentity's own words.
		var ce *entratoken.CredentialError
		if errors.As(err, &ce) {
			err = ce.Err
		}
		resp.Diagnostics.AddError("Could not get an Entra access token",
			"The credential ("+describeCredential(auth, src.Cloud())+") gave no token: "+err.Error())
		return
	}
	m.Token = types.StringValue(tok.Value)
	m.Scope = types.StringValue(src.Cloud().Scope())
	expires := tok.ExpiresOn
	if expires.IsZero() {
		expires = jwtExpiry(tok.Value)
	}
	if expires.IsZero() {
		m.ExpiresOn = types.StringNull()
	} else {
		m.ExpiresOn = types.StringValue(expires.UTC().Format(time.RFC3339))
	}
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}

// tokenSettings are the provider's auth settings with this block's
// overrides, and the names of settings not known yet.
func (d *providerData) tokenSettings(m accessTokenModel) (entratoken.Settings, []string) {
	s := d.settings.Auth
	var unknown []string
	pick := func(name string, v types.String, dst *string) {
		switch {
		case v.IsUnknown():
			unknown = append(unknown, name)
		case !v.IsNull():
			*dst = v.ValueString()
		case slices.Contains(d.unknown, name):
			unknown = append(unknown, name)
		}
	}
	pick("auth_method", m.AuthMethod, &s.Method)
	pick("client_id", m.ClientID, &s.ClientID)
	pick("tenant_id", m.TenantID, &s.TenantID)
	pick("client_secret", m.ClientSecret, &s.ClientSecret)
	pick("cloud", m.Cloud, &s.Cloud)
	if s.Method == entratoken.MethodAccessToken && slices.Contains(d.unknown, "access_token") {
		unknown = append(unknown, "access_token")
	}
	// The password plays no part in a token.
	s.Password = ""
	return s, unknown
}

// Token sources made for access tokens, by settings, so that repeated opens
// in one Terraform run reuse a token that is still fresh.
var (
	tokenSourcesMu sync.Mutex
	tokenSources   = map[entratoken.Settings]*entratoken.Source{}
)

// tokenSource is the provider's own source when the settings are the
// provider's (so its connections and this token share one cache), otherwise
// a source of their own.
func (d *providerData) tokenSource(s entratoken.Settings) (*entratoken.Source, error) {
	own := d.settings.Auth
	own.Password = ""
	if s == own && d.problem == "" {
		if c, err := d.shared(); err == nil {
			return c.tokens, nil
		}
	}
	tokenSourcesMu.Lock()
	defer tokenSourcesMu.Unlock()
	if src, ok := tokenSources[s]; ok {
		return src, nil
	}
	src, err := entratoken.New(s)
	if err != nil {
		return nil, err
	}
	src.SetLogger(logDecision)
	tokenSources[s] = src
	return src, nil
}

// describeCredential names the credential in an error, without secrets.
func describeCredential(s entratoken.Settings, c entratoken.Cloud) string {
	parts := []string{fmt.Sprintf("auth_method %q", s.Method)}
	if s.ClientID != "" {
		parts = append(parts, fmt.Sprintf("client_id %q", s.ClientID))
	}
	if s.TenantID != "" {
		parts = append(parts, fmt.Sprintf("tenant_id %q", s.TenantID))
	}
	parts = append(parts, fmt.Sprintf("scope %q", c.Scope()))
	return strings.Join(parts, ", ")
}

// jwtExpiry reads the exp claim of a JWT without verifying it (the token was
// given to the provider; it only says when it stops working). Zero when the
// token is not a JWT or has no exp.
func jwtExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Exp == "" {
		return time.Time{}
	}
	sec, err := claims.Exp.Float64()
	if err != nil || sec <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(sec), 0)
}
