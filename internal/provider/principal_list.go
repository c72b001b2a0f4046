package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var _ list.ListResourceWithConfigure = (*principalList)(nil)

// NewPrincipalList is the azurepg_principal list resource (Terraform 1.14+,
// `terraform query`): the server's Entra principals, with their identity
// and, for -generate-config-out, their state.
func NewPrincipalList() list.ListResource { return &principalList{} }

type principalList struct{ data *providerData }

type principalListModel struct {
	serverModel
	Type       types.String `tfsdk:"type"`
	AdminsOnly types.Bool   `tfsdk:"admins_only"`
	NameLike   types.String `tfsdk:"name_like"`
}

func (l *principalList) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_principal"
}

func (l *principalList) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the server's Microsoft Entra principals (roles with `pgaadauth` labels; plain PostgreSQL " +
			"roles are left out), ordered by name, for `terraform query` (Terraform 1.14+). " +
			"`terraform query -generate-config-out=generated.tf` writes an import block and a resource block for each one.",
		Attributes: serverListAttributes(map[string]schema.Attribute{
			"type": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only principals of this type: `user`, `group` or `service`.",
				Validators:          []validator.String{stringvalidator.OneOf(principalTypes...)},
			},
			"admins_only": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Only Microsoft Entra admins of the server. Default `false`.",
			},
			"name_like": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Only roles whose name matches this SQL `LIKE` pattern, case-sensitively: `%` matches any run " +
					"of characters, `_` one character, and `\\` escapes them (in HCL, `\"\\\\_\"`). " +
					"For example `\"%@contoso.com\"` for the users of one domain. The server does the matching.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
		}, "list"),
	}
}

func (l *principalList) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (l *principalList) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var m principalListModel
	diags := req.Config.Get(ctx, &m)
	client, d := l.data.clientOf(m.serverModel)
	diags.Append(d...)
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	filter := pgaad.PrincipalFilter{Type: m.Type.ValueString(), AdminsOnly: m.AdminsOnly.ValueBool(), NameLike: m.NameLike.ValueString()}
	srv := l.data.serverOf(m.serverModel)
	stream.Results = func(push func(list.ListResult) bool) {
		var n int64
		stopped := false
		err := client.EachPrincipal(ctx, filter, func(p pgaad.Principal) bool {
			r := req.NewListResult(ctx)
			r.DisplayName = fmt.Sprintf("%s (%s)", p.Name, p.Type)
			r.Diagnostics.Append(principalIdentity.set(ctx, r.Identity, nil, srv, p.Name)...)
			if req.IncludeResource {
				state := principalState(p, types.StringNull())
				state.serverModel = m.serverModel
				r.Diagnostics.Append(r.Resource.Set(ctx, state)...)
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
