package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*principalDataSource)(nil)

// NewPrincipalDataSource is the azurepg_principal data source.
func NewPrincipalDataSource() datasource.DataSource { return &principalDataSource{} }

type principalDataSource struct{ data *providerData }

type principalDataModel struct {
	serverModel
	ID       types.String `tfsdk:"id"`
	Name     types.String `tfsdk:"name"`
	Type     types.String `tfsdk:"type"`
	ObjectID types.String `tfsdk:"object_id"`
	TenantID types.String `tfsdk:"tenant_id"`
	Admin    types.Bool   `tfsdk:"admin"`
	MFA      types.Bool   `tfsdk:"mfa"`
}

func (d *principalDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_principal"
}

func (d *principalDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one Microsoft Entra principal of the server (from the role's pgaadauth security labels in the " +
			"`postgres` database). Fails when no role has that name or when the role is not an Entra principal.",
		Attributes: serverDataSourceAttributes(map[string]schema.Attribute{
			"id":        schema.StringAttribute{Computed: true, MarkdownDescription: "The role name (same as `name`)."},
			"name":      schema.StringAttribute{Required: true, Validators: principalNameValidators(), MarkdownDescription: "The role name, exactly (case-sensitive): a user's UPN or the display name of a group, service principal or managed identity."},
			"type":      schema.StringAttribute{Computed: true, MarkdownDescription: "`user`, `group` or `service` (service principals and managed identities)."},
			"object_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The Entra object id."},
			"tenant_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The Entra tenant id recorded on the role (empty for roles labelled by older servers)."},
			"admin":     schema.BoolAttribute{Computed: true, MarkdownDescription: adminReadDescription},
			"mfa":       schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the principal is marked as requiring multi-factor authentication."},
		}, "data source"),
	}
}

func (d *principalDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *principalDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg principalDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	client, diags := d.data.clientOf(cfg.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := client.Principal(ctx, cfg.Name.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	addDisagreement(&resp.Diagnostics, p)
	resp.Diagnostics.Append(resp.State.Set(ctx, principalDataModel{
		serverModel: cfg.serverModel,
		ID:          types.StringValue(p.Name), Name: types.StringValue(p.Name), Type: types.StringValue(p.Type),
		ObjectID: types.StringValue(p.ObjectID), TenantID: types.StringValue(p.TenantID),
		Admin: types.BoolValue(p.Admin), MFA: types.BoolValue(p.MFA),
	})...)
}
