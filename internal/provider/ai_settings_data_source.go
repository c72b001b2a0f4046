package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*aiSettingsDataSource)(nil)

// NewAISettingsDataSource is the azurepg_ai_settings data source.
func NewAISettingsDataSource() datasource.DataSource { return &aiSettingsDataSource{} }

type aiSettingsDataSource struct{ data *providerData }

const setSuffix = "_set"

func (d *aiSettingsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_ai_settings"
}

// Each service is an object of its non-secret settings plus, for each key,
// a boolean saying whether it is set. Key values never leave the server.
func (d *aiSettingsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The database name (same as `database`)."},
		"database": schema.StringAttribute{
			Required:            true,
			Validators:          principalNameValidators(),
			MarkdownDescription: "The database to read (the `azure_ai` extension must be installed there).",
		},
	}
	for _, s := range aiServices {
		nested := map[string]schema.Attribute{}
		for _, f := range s.fields {
			key := "`" + f.Key + "`"
			if f.Secret {
				nested[f.Attribute+setSuffix] = schema.BoolAttribute{Computed: true,
					MarkdownDescription: "Whether " + key + " is set (its value is not read)."}
				continue
			}
			nested[f.Attribute] = schema.StringAttribute{Computed: true,
				MarkdownDescription: "Setting " + key + "; null when unset."}
		}
		attrs[s.block] = schema.SingleNestedAttribute{
			Computed:            true,
			Attributes:          nested,
			MarkdownDescription: "The " + s.title + " settings.",
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads the `azure_ai` settings of one database: every non-secret setting (endpoints, authentication " +
			"types, region, translator resource id) and, for each key, whether it is set. Key values are never read: the check " +
			"happens on the server. The provider must log in as a member of `azure_ai_settings_manager` (e.g. an Entra admin).",
		Attributes: serverDataSourceAttributes(attrs, "data source"),
	}
}

func (d *aiSettingsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *aiSettingsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var database types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("database"), &database)...)
	srv := serverIn(ctx, req.Config, &resp.Diagnostics)
	client, diags := d.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	values, set, err := client.AISettingsOverview(ctx, database.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), database)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("database"), database)...)
	for _, s := range aiServices {
		attrTypes := map[string]attr.Type{}
		vals := map[string]attr.Value{}
		for _, f := range s.fields {
			key := f.Key
			if f.Secret {
				attrTypes[f.Attribute+setSuffix] = types.BoolType
				vals[f.Attribute+setSuffix] = types.BoolValue(set[key])
				continue
			}
			attrTypes[f.Attribute] = types.StringType
			if v, ok := values[key]; ok {
				vals[f.Attribute] = types.StringValue(v)
			} else {
				vals[f.Attribute] = types.StringNull()
			}
		}
		obj, diags := types.ObjectValue(attrTypes, vals)
		resp.Diagnostics.Append(diags...)
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(s.block), obj)...)
	}
}
