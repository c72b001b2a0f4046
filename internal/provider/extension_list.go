package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var _ list.ListResourceWithConfigure = (*extensionList)(nil)

// NewExtensionList is the azurepg_extension list resource (Terraform 1.14+):
// the extensions installed in one database.
func NewExtensionList() list.ListResource { return &extensionList{} }

type extensionList struct{ data *providerData }

type extensionListModel struct {
	serverModel
	Database types.String `tfsdk:"database"`
}

func (l *extensionList) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_extension"
}

func (l *extensionList) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the extensions installed in one database, ordered by name, for `terraform query` " +
			"(Terraform 1.14+). `plpgsql`, which every database has, is listed too; leave it out of what you import.",
		Attributes: serverListAttributes(map[string]schema.Attribute{
			"database": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The database whose extensions to list.",
			},
		}, "list"),
	}
}

func (l *extensionList) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (l *extensionList) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var m extensionListModel
	diags := req.Config.Get(ctx, &m)
	client, d := l.data.clientOf(m.serverModel)
	diags.Append(d...)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	srv := l.data.serverOf(m.serverModel)
	stream.Results = func(push func(list.ListResult) bool) {
		var n int64
		stopped := false
		err := client.EachExtension(ctx, m.Database.ValueString(), func(x pgaad.Extension) bool {
			r := req.NewListResult(ctx)
			r.DisplayName = x.Name + " " + x.Version
			r.Diagnostics.Append(extensionIdentity.set(ctx, r.Identity, nil, srv, x.Database, x.Name)...)
			if req.IncludeResource {
				r.Diagnostics.Append(r.Resource.Set(ctx, extensionState(x, m.serverModel))...)
			}
			n++
			if !push(r) || (req.Limit > 0 && n >= req.Limit) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil && !stopped {
			var diags diagList
			addError(&diags.d, err)
			push(list.ListResult{Diagnostics: diags.d})
		}
	}
}

// diagList holds diagnostics built by the add*Error helpers.
type diagList struct{ d diag.Diagnostics }
