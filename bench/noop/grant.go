package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// grant is noop_grant: azurepg_grant's attributes, defaults and replace
// plan modifiers, doing nothing (the id is the role, as a placeholder).
type grant struct{}

func (grant) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_grant"
}

func (grant) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{Attributes: withServer(map[string]schema.Attribute{
		"id":          schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"role":        schema.StringAttribute{Required: true, PlanModifiers: replace},
		"database":    schema.StringAttribute{Required: true, PlanModifiers: replace},
		"object_type": schema.StringAttribute{Required: true, PlanModifiers: replace},
		"schema":      schema.StringAttribute{Optional: true, PlanModifiers: replace},
		"objects": schema.SetAttribute{Optional: true, ElementType: types.StringType,
			PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()}},
		"privileges":        schema.SetAttribute{Required: true, ElementType: types.StringType},
		"with_grant_option": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
	})}
}

func (grant) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
	var role types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("role"), &role)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), role)...)
}

type grantModel struct {
	ID              types.String `tfsdk:"id"`
	Role            types.String `tfsdk:"role"`
	Database        types.String `tfsdk:"database"`
	ObjectType      types.String `tfsdk:"object_type"`
	Schema          types.String `tfsdk:"schema"`
	Objects         types.Set    `tfsdk:"objects"`
	Privileges      types.Set    `tfsdk:"privileges"`
	WithGrantOption types.Bool   `tfsdk:"with_grant_option"`
	server
}

// Read decodes and encodes the state, as noop_principal does.
func (grant) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m grantModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (grant) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (grant) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
