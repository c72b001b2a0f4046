package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*principalsDataSource)(nil)

// NewPrincipalsDataSource is the azurepg_principals data source.
func NewPrincipalsDataSource() datasource.DataSource { return &principalsDataSource{} }

type principalsDataSource struct{ data *providerData }

type principalsDataModel struct {
	serverModel
	AdminsOnly types.Bool `tfsdk:"admins_only"`
	Principals types.List `tfsdk:"principals"`
}

// principalObjectType is one element of principals.
var principalObjectType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"name": types.StringType, "type": types.StringType, "object_id": types.StringType,
	"tenant_id": types.StringType, "admin": types.BoolType, "mfa": types.BoolType,
}}

func (d *principalsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_principals"
}

func (d *principalsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the Microsoft Entra principals of the server: every role in the `postgres` database that carries " +
			"pgaadauth security labels (both the current and the older label form), ordered by name. Plain PostgreSQL roles are not listed.",
		Attributes: serverDataSourceAttributes(map[string]schema.Attribute{
			"admins_only": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "List only Microsoft Entra admins of the server. Default `false`.",
			},
			"principals": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The principals, ordered by name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":      schema.StringAttribute{Computed: true, MarkdownDescription: "The role name: a user's UPN or a display name."},
					"type":      schema.StringAttribute{Computed: true, MarkdownDescription: "`user`, `group` or `service`."},
					"object_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The Entra object id."},
					"tenant_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The Entra tenant id recorded on the role (empty for older labels)."},
					"admin":     schema.BoolAttribute{Computed: true, MarkdownDescription: adminReadDescription},
					"mfa":       schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the principal is marked as requiring multi-factor authentication."},
				}},
			},
		}, "data source"),
	}
}

func (d *principalsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *principalsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg principalsDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	client, diags := d.data.clientOf(cfg.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ps, err := client.ListPrincipals(ctx, cfg.AdminsOnly.ValueBool())
	if err != nil {
		addError(&resp.Diagnostics, err) // summary "Listing principals failed", or the kind's (e.g. Cannot connect)
		return
	}
	elems := make([]attr.Value, 0, len(ps))
	for _, p := range ps {
		addDisagreement(&resp.Diagnostics, p)
		obj, diags := types.ObjectValue(principalObjectType.AttrTypes, map[string]attr.Value{
			"name": types.StringValue(p.Name), "type": types.StringValue(p.Type), "object_id": types.StringValue(p.ObjectID),
			"tenant_id": types.StringValue(p.TenantID), "admin": types.BoolValue(p.Admin), "mfa": types.BoolValue(p.MFA),
		})
		resp.Diagnostics.Append(diags...)
		elems = append(elems, obj)
	}
	list, diags := types.ListValue(principalObjectType, elems)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg.Principals = list
	resp.Diagnostics.Append(resp.State.Set(ctx, cfg)...)
}
