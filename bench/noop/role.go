package main

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// role is noop_role: azurepg_role's attributes, defaults and plan
// modifiers (the write-only password aside: the benchmark sets none), and
// its ModifyPlan (the id is the name), doing nothing.
type role struct{}

type roleModel struct {
	ID                types.String `tfsdk:"id"`
	Name              types.String `tfsdk:"name"`
	Login             types.Bool   `tfsdk:"login"`
	Inherit           types.Bool   `tfsdk:"inherit"`
	CreateDatabase    types.Bool   `tfsdk:"create_database"`
	CreateRole        types.Bool   `tfsdk:"create_role"`
	ConnectionLimit   types.Int64  `tfsdk:"connection_limit"`
	ValidUntil        types.String `tfsdk:"valid_until"`
	PasswordWOVersion types.Int64  `tfsdk:"password_wo_version"`
	ReassignOwnedTo   types.String `tfsdk:"reassign_owned_to"`
	server
}

func (role) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role"
}

func (role) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	flag := func(def bool) schema.BoolAttribute {
		return schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(def)}
	}
	resp.Schema = schema.Schema{Attributes: withServer(map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"name": schema.StringAttribute{Required: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
		"login":               flag(false),
		"inherit":             flag(true),
		"create_database":     flag(false),
		"create_role":         flag(false),
		"connection_limit":    schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(-1)},
		"valid_until":         schema.StringAttribute{Optional: true},
		"password_wo_version": schema.Int64Attribute{Optional: true},
		"reassign_owned_to":   schema.StringAttribute{Optional: true},
	})}
}

// ModifyPlan sets the id from the name, as azurepg_role does.
func (role) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	if !name.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), name)...)
	}
}

func (role) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	m.ID = m.Name
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// Read decodes and encodes the state, as noop_principal does.
func (role) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (role) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (role) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// membership is noop_role_membership: azurepg_role_membership's
// attributes, defaults and plan modifiers, doing nothing; the server's
// defaults (INHERIT and SET true) fill the options left unset.
type membership struct{}

type membershipModel struct {
	ID              types.String `tfsdk:"id"`
	Role            types.String `tfsdk:"role"`
	Member          types.String `tfsdk:"member"`
	WithAdminOption types.Bool   `tfsdk:"with_admin_option"`
	InheritOption   types.Bool   `tfsdk:"inherit_option"`
	SetOption       types.Bool   `tfsdk:"set_option"`
	server
}

func (membership) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role_membership"
}

func (membership) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	option := schema.BoolAttribute{Optional: true, Computed: true, PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()}}
	resp.Schema = schema.Schema{Attributes: withServer(map[string]schema.Attribute{
		"id":                schema.StringAttribute{Computed: true},
		"role":              schema.StringAttribute{Required: true, PlanModifiers: replace},
		"member":            schema.StringAttribute{Required: true, PlanModifiers: replace},
		"with_admin_option": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
		"inherit_option":    option,
		"set_option":        option,
	})}
}

func (membership) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m membershipModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	escape := strings.NewReplacer("%", "%25", "/", "%2F").Replace // as azurepg's import ID
	m.ID = types.StringValue(escape(m.Role.ValueString()) + "/" + escape(m.Member.ValueString()))
	if m.InheritOption.IsUnknown() {
		m.InheritOption = types.BoolValue(true)
	}
	if m.SetOption.IsUnknown() {
		m.SetOption = types.BoolValue(true)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (membership) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m membershipModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (membership) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m membershipModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (membership) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
