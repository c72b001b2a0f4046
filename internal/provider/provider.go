// Package provider is the Terraform side of azurepg: schemas, validation,
// plan modifiers and CRUD methods that call package pgaad. No SQL here.
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
)

var (
	_ provider.Provider                       = (*azurepgProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*azurepgProvider)(nil)
	_ provider.ProviderWithListResources      = (*azurepgProvider)(nil)
	_ provider.ProviderWithActions            = (*azurepgProvider)(nil)
)

// New returns a constructor of the provider for the given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &azurepgProvider{version: version} }
}

type azurepgProvider struct {
	version string
}

// providerModel is the provider block.
type providerModel struct {
	Host            types.String `tfsdk:"host"`
	Port            types.Int64  `tfsdk:"port"`
	AllowedHosts    types.Set    `tfsdk:"allowed_hosts"`
	Username        types.String `tfsdk:"username"`
	SSLMode         types.String `tfsdk:"sslmode"`
	SSLRootCert     types.String `tfsdk:"sslrootcert"`
	AuthMethod      types.String `tfsdk:"auth_method"`
	ClientID        types.String `tfsdk:"client_id"`
	TenantID        types.String `tfsdk:"tenant_id"`
	ClientSecret    types.String `tfsdk:"client_secret"`
	Password        types.String `tfsdk:"password"`
	AccessToken     types.String `tfsdk:"access_token"`
	Cloud           types.String `tfsdk:"cloud"`
	ConnectTimeout  types.Int64  `tfsdk:"connect_timeout"`
	MaxConnections  types.Int64  `tfsdk:"max_connections"`
	FailoverTimeout types.Int64  `tfsdk:"failover_timeout"`

	OIDCToken              types.String `tfsdk:"oidc_token"`
	OIDCTokenFilePath      types.String `tfsdk:"oidc_token_file_path"`
	OIDCRequestURL         types.String `tfsdk:"oidc_request_url"`
	OIDCRequestToken       types.String `tfsdk:"oidc_request_token"`
	ADOServiceConnectionID types.String `tfsdk:"ado_pipeline_service_connection_id"`
}

// SSL modes the provider accepts.
var sslModes = []string{"disable", "require", "verify-ca", "verify-full"}

func (p *azurepgProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "azurepg"
	resp.Version = p.version
}

func (p *azurepgProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages Microsoft Entra ID principals, access (grants, default privileges, role memberships) and the " +
			"`azure_ai` extension and its settings in Azure Database for PostgreSQL flexible server, logging in with a short-lived " +
			"Entra access token fetched for each new connection.",
		Attributes: map[string]schema.Attribute{
			"host": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The server's host name, e.g. `myserver.postgres.database.azure.com`. Falls back to `AZUREPG_HOST`, then `PGHOST`. " +
					"May be left out when every resource names its own `host` (a fleet), each listed in `allowed_hosts`.",
			},
			"port": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "The server's port. Default `5432`, or `PGPORT`.",
				Validators:          []validator.Int64{int64validator.Between(1, 65535)},
			},
			"allowed_hosts": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "The servers this provider may log in to, besides `host`: a resource, data source, list resource " +
					"or action whose own `host` names a server not listed fails at plan time, before any token or password is " +
					"fetched or sent. An Entra token for PostgreSQL is valid on every Azure server of its cloud, so without this " +
					"list any module could send the admin's token to a server of its choosing. Host names are compared without " +
					"regard to case. Default: `host` only.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
			},
			"username": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The role to log in as: the Entra principal's exact name (a user's UPN, or the display name of a group, " +
					"service principal or managed identity), or a local role with `auth_method = \"password\"`. Falls back to `AZUREPG_USERNAME`, then `PGUSER`.",
			},
			"sslmode": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "TLS mode: `verify-full` (default: the server's certificate must chain to a trusted root and name `host`), `verify-ca` " +
					"(the chain only, not the host name), `require` (encrypted, server not verified) or `disable`. Falls back to `PGSSLMODE`. " +
					"Anything but `verify-full` sends the token or password to a server that has not proved who it is; plan and apply warn.",
				Validators: []validator.String{stringvalidator.OneOf(sslModes...)},
			},
			"sslrootcert": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Path of a PEM bundle of the root certificates to trust, for a private CA or the emulator. It replaces the system trust store " +
					"(as in libpq); `system` names the system trust store. Default: the system trust store, which has Azure's roots. Falls back to `PGSSLROOTCERT`.",
			},
			"auth_method": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "How to obtain the password of each new connection: `default` (the `DefaultAzureCredential` chain), `managed_identity`, " +
					"`workload_identity`, `azure_cli`, `client_secret`, `oidc` (a federated token from GitHub Actions, Azure Pipelines or HCP Terraform), " +
					"`access_token` (a token obtained elsewhere) or `password` (local servers, break-glass admin). " +
					"Falls back to `AZUREPG_AUTH_METHOD`, then `oidc` when `ARM_USE_OIDC=true`, then `default`.",
				Validators: []validator.String{stringvalidator.OneOf(entratoken.Methods...)},
			},
			"client_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Client id of a user-assigned managed identity or of an app registration. Falls back to `ARM_CLIENT_ID`, then `AZURE_CLIENT_ID`.",
			},
			"tenant_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Entra tenant id. Falls back to `ARM_TENANT_ID`, then `AZURE_TENANT_ID`.",
			},
			"client_secret": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Client secret of an app registration, for `auth_method = \"client_secret\"`. Falls back to `ARM_CLIENT_SECRET`, then `AZURE_CLIENT_SECRET`.",
			},
			"password": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Password, for `auth_method = \"password\"`. Falls back to `PGPASSWORD`.",
			},
			"access_token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "An Entra access token for the server's scope, for `auth_method = \"access_token\"`. Falls back to `AZUREPG_ACCESS_TOKEN`. It is not refreshed.",
			},
			"oidc_token": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "A federated (OIDC) token, for `auth_method = \"oidc\"`. Falls back to `ARM_OIDC_TOKEN`. " +
					"It is not refreshed: prefer `oidc_token_file_path` or the CI system's own endpoint in long pipelines. " +
					"First of the federated token sources: `oidc_token`, `oidc_token_file_path`, `ado_pipeline_service_connection_id`, then `oidc_request_url`/`oidc_request_token`.",
			},
			"oidc_token_file_path": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "A file holding a federated (OIDC) token, re-read at each token exchange, for `auth_method = \"oidc\"`. " +
					"Falls back to `ARM_OIDC_TOKEN_FILE_PATH`. HCP Terraform's dynamic credentials arrive this way (`var.tfc_azure_dynamic_credentials.default.oidc_token_file_path`; see the guide \"HCP Terraform with dynamic credentials\").",
			},
			"oidc_request_url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "GitHub Actions' ID token endpoint, for `auth_method = \"oidc\"`; asked for a token with the audience `api://AzureADTokenExchange` at each exchange. " +
					"Falls back to `ARM_OIDC_REQUEST_URL`, then `ACTIONS_ID_TOKEN_REQUEST_URL` (set by GitHub Actions in jobs with `permissions: id-token: write`).",
			},
			"oidc_request_token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "The bearer token for `oidc_request_url`. Falls back to `ARM_OIDC_REQUEST_TOKEN`, then `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.",
			},
			"ado_pipeline_service_connection_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The id of an Azure Pipelines service connection (workload identity federation), for `auth_method = \"oidc\"`. " +
					"Falls back to `ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID`. Needs `SYSTEM_ACCESSTOKEN` mapped into the step's environment; `SYSTEM_OIDCREQUESTURI` is set by Azure Pipelines.",
			},
			"cloud": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "The Azure cloud, which picks the token scope: `public` (default), `china` or `usgovernment`. Falls back to `ARM_ENVIRONMENT`.",
				Validators:          []validator.String{stringvalidator.OneOf(entratoken.CloudNames()...)},
			},
			"connect_timeout": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Seconds to wait for a new connection. Default `30`. It is also how long a new connection is tried again, with back-off, while the server has no free connection slot (SQLSTATE `53300`).",
				Validators:          []validator.Int64{int64validator.Between(1, 3600)},
			},
			"failover_timeout": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Seconds to wait for a server that went away, e.g. during a high-availability failover (60 to 120 s on " +
					"Azure, the host name staying the same) or the restart of planned maintenance. Default `120`, or `connect_timeout` " +
					"when that is longer; when set, at least `connect_timeout`. While the server refuses connections, resets them, does not answer, or says that it is starting " +
					"up (SQLSTATE `57P03`) or shutting down, new connections are tried again with back-off, with a log line per attempt; " +
					"reads and writes then go on (a write whose `COMMIT` went unanswered is checked before it runs again). Only a server " +
					"that answered before in this run, or says it is starting or stopping, is waited for: a host that never answered " +
					"is reported at once.",
				Validators: []validator.Int64{int64validator.Between(1, 3600)},
			},
			"max_connections": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Connections to the server at most, across all its databases. Default `4`. " +
					"Terraform runs up to 10 operations at once (`-parallelism`); the others wait for a connection. Set it to 10 to give each its own " +
					"when the server has connections to spare (each write is one round trip, so the wait is short). " +
					"When all are in use, an idle connection to another database is closed for the one that waits. " +
					"A Burstable B1ms server accepts 35 user connections: one command uses at most `max_connections` of them (its provider processes run one after the other).",
				Validators: []validator.Int64{int64validator.Between(1, 100)},
			},
		},
	}
}

func (p *azurepgProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	forgetSnapshots()
	data := configure(m, p.version)
	if w := data.settings.unverifiedWarning(); w != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("sslmode"), "The server's identity is not verified", w)
	}
	if len(data.fromEnv) > 0 {
		tflog.Debug(ctx, "azurepg: provider settings taken from the environment", map[string]any{"settings": data.fromEnv})
	}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.EphemeralResourceData = data
	resp.ListResourceData = data
	resp.ActionData = data
}

// Resources, DataSources, EphemeralResources, ListResources and Actions
// list everything the provider offers: a new one is added here.
func (p *azurepgProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewPrincipalResource,
		NewRoleResource,
		NewExtensionResource,
		NewAISettingsResource,
		NewRoleMembershipResource,
		NewGrantResource,
		NewDefaultPrivilegesResource,
		NewSchemaResource,
	}
}

func (p *azurepgProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewPrincipalDataSource,
		NewPrincipalsDataSource,
		NewAISettingsDataSource,
	}
}

func (p *azurepgProvider) EphemeralResources(_ context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		NewAccessTokenEphemeralResource,
	}
}

// ListResources (Terraform 1.14+, `terraform query`).
func (p *azurepgProvider) ListResources(_ context.Context) []func() list.ListResource {
	return []func() list.ListResource{
		NewPrincipalList,
		NewExtensionList,
	}
}

// Actions (Terraform 1.14+, `terraform apply -invoke`).
func (p *azurepgProvider) Actions(_ context.Context) []func() action.Action {
	return []func() action.Action{
		NewReassignOwnedAction,
		NewTerminateSessionsAction,
	}
}
