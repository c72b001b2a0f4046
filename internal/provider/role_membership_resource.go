package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var (
	_ resource.ResourceWithConfigure      = (*roleMembershipResource)(nil)
	_ resource.ResourceWithImportState    = (*roleMembershipResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*roleMembershipResource)(nil)
	_ resource.ResourceWithValidateConfig = (*roleMembershipResource)(nil)
)

// NewRoleMembershipResource is the azurepg_role_membership resource.
func NewRoleMembershipResource() resource.Resource { return &roleMembershipResource{} }

type roleMembershipResource struct{ data *providerData }

type roleMembershipModel struct {
	serverModel
	ID              types.String `tfsdk:"id"`
	Role            types.String `tfsdk:"role"`
	Member          types.String `tfsdk:"member"`
	WithAdminOption types.Bool   `tfsdk:"with_admin_option"`
	InheritOption   types.Bool   `tfsdk:"inherit_option"`
	SetOption       types.Bool   `tfsdk:"set_option"`
}

// roleMembershipID is the id and import ID: <role>/<member>.
var roleMembershipID = importIDFormat{"role", "member"}

func (r *roleMembershipResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role_membership"
}

func (r *roleMembershipResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "One role granted to another (`GRANT <role> TO <member>`): the member gets the role's privileges. " +
			"A typical use is an Entra group principal made a member of an application role, so that everybody in the " +
			"group logs in with the group's name and has the application role's rights.\n\n" +
			"Roles are server-wide, so memberships are managed in the `postgres` database. " +
			"Each change runs in one transaction. The resource manages exactly one membership: other members of the role " +
			"are left alone. A membership revoked outside Terraform is granted again by the next apply; an admin option " +
			"changed outside Terraform is set back.\n\n" +
			"**Who may grant.** On PostgreSQL 15 and older a login with `CREATEROLE` (every Entra admin has it) may grant " +
			"any role that is not a superuser. PostgreSQL 16 and later require the `ADMIN OPTION` on `role`, which the role's " +
			"creator receives automatically; Azure extends it to every member of `azure_pg_admin` for every role it does not " +
			"restrict. Azure restricts `azure_pg_admin` (no role can be made a member of it) and never grants " +
			"`pg_write_all_data`: both fail with an error that says so. On PostgreSQL 16 and later a membership may also have " +
			"been granted several times by different grantors: a delete or a changed option takes back or changes only this " +
			"login's own grant, and the resource says so when another grant keeps the membership.\n\n" +
			"**The creator's grant.** On PostgreSQL 16 and later the role that creates a role with `CREATE ROLE` receives " +
			"a grant of it with `ADMIN OPTION` and neither `INHERIT` nor `SET`. That grant lets it manage the role, not use " +
			"it: the resource does not count it as a membership, so the creator can still be made a member (for example " +
			"to act as an owner role, `set_option = true`), and destroying that membership leaves the creator's grant.\n\n" +
			"**PUBLIC.** `public` is not a role but PostgreSQL's name for every role: a membership of or in PUBLIC does " +
			"not exist, so `public` is refused for both `role` and `member` at plan time.",
		Attributes: serverResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "`<role>/<member>`, which is also the import ID. " + importIDEscapeNote +
					" For example `orders_readers/orders-api` or `app%2Fadmins/alice@contoso.com` for the role `app/admins`.",
			},
			"role": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The role granted: its exact name (case-sensitive, at most 63 bytes). It must exist. " +
					"Changing it replaces the membership (revoke, then grant).",
				Validators:    roleMembershipNameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"member": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The role that receives it, e.g. an `azurepg_principal`'s `name`. It must exist. " +
					"Changing it replaces the membership.",
				Validators:    roleMembershipNameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"with_admin_option": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether the member may grant `role` to others (`WITH ADMIN OPTION`). Default `false`. " +
					"Changing it updates the membership in place (`GRANT ... WITH ADMIN OPTION` or `REVOKE ADMIN OPTION FOR`).",
			},
			"inherit_option": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "PostgreSQL 16 and later: whether the member uses the role's privileges without `SET ROLE` " +
					"(`WITH INHERIT TRUE`). Unset, the server decides (the member's `INHERIT` attribute) and the state shows " +
					"what it did. Setting it on PostgreSQL 15 or older is an error at plan time. A change is made in place.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"set_option": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "PostgreSQL 16 and later: whether the member may `SET ROLE` to the role (`WITH SET TRUE`, " +
					"the server's default), which is what acting as an object's owner needs. Setting it on PostgreSQL 15 or " +
					"older is an error at plan time. A change is made in place.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
		}, "membership"),
	}
}

// IdentitySchema: the server's host, the role and the member (see identity.go).
func (r *roleMembershipResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = roleMembershipIdentity.schema()
}

func roleMembershipNameValidators() []validator.String {
	return append(principalNameValidators(), notPublicValidator{})
}

// notPublicValidator refuses "public": PostgreSQL reads that name, quoted or
// not, as the PUBLIC pseudo-role, and memberships of PUBLIC do not exist.
// "PUBLIC" or "Public" are ordinary role names.
type notPublicValidator struct{}

func (notPublicValidator) Description(context.Context) string {
	return `must not be "public" (PostgreSQL's name for every role)`
}
func (v notPublicValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (notPublicValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.ConfigValue.ValueString() != "public" {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "PUBLIC cannot be in a role membership",
		"\"public\" is not a role: PostgreSQL reads this name as PUBLIC, which stands for every role, present and future. "+
			"Nobody can be a member of PUBLIC and PUBLIC cannot be made a member of a role, so there is no membership to manage. "+
			"To give every role some privileges, grant those privileges to PUBLIC with azurepg_grant instead.")
}

// ValidateConfig refuses a role granted to itself, at plan time.
func (r *roleMembershipResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m roleMembershipModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Role.IsNull() || m.Role.IsUnknown() || m.Member.IsNull() || m.Member.IsUnknown() {
		return
	}
	if m.Role.ValueString() == m.Member.ValueString() {
		resp.Diagnostics.AddAttributeError(path.Root("member"), "A role cannot be a member of itself",
			fmt.Sprintf("role and member are both %q. PostgreSQL refuses such a grant; name another member.", m.Role.ValueString()))
	}
}

func (r *roleMembershipResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func roleMembershipState(m pgaad.Membership, srv serverModel) roleMembershipModel {
	return roleMembershipModel{
		serverModel:     srv,
		ID:              types.StringValue(roleMembershipID.Encode(m.Role, m.Member)),
		Role:            types.StringValue(m.Role),
		Member:          types.StringValue(m.Member),
		WithAdminOption: types.BoolValue(m.AdminOption),
		InheritOption:   types.BoolPointerValue(m.Inherit),
		SetOption:       types.BoolPointerValue(m.Set),
	}
}

// membershipFromPlan is the membership the plan asks for: options left to
// the server (unknown in the plan) are nil.
func membershipFromPlan(plan roleMembershipModel) pgaad.Membership {
	return pgaad.Membership{
		Role:        plan.Role.ValueString(),
		Member:      plan.Member.ValueString(),
		AdminOption: plan.WithAdminOption.ValueBool(),
		Inherit:     knownBool(plan.InheritOption),
		Set:         knownBool(plan.SetOption),
	}
}

func knownBool(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return v.ValueBoolPointer()
}

func (r *roleMembershipResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.write(ctx, req.Plan, &resp.State, resp.Identity, nil, &resp.Diagnostics, (*pgaad.Client).GrantMembership)
}

// Update changes only options: role and member force replacement.
func (r *roleMembershipResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.write(ctx, req.Plan, &resp.State, resp.Identity, req.Identity, &resp.Diagnostics, (*pgaad.Client).SetMembershipOptions)
}

// write is Create and Update: the plan's membership through change (a
// grant, or a change of options), then the state and identity it reads back.
func (r *roleMembershipResource) write(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, identity, priorIdentity *tfsdk.ResourceIdentity,
	diags *diag.Diagnostics, change func(*pgaad.Client, context.Context, pgaad.Membership) (pgaad.Membership, error)) {
	var m roleMembershipModel
	diags.Append(plan.Get(ctx, &m)...)
	client, d := r.data.clientOf(m.serverModel)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	got, err := change(client, ctx, membershipFromPlan(m))
	if err != nil {
		addError(diags, err)
		return
	}
	diags.Append(state.Set(ctx, roleMembershipState(got, m.serverModel))...)
	diags.Append(roleMembershipIdentity.set(ctx, identity, priorIdentity, r.data.serverOf(m.serverModel), got.Role, got.Member)...)
}

func (r *roleMembershipResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state roleMembershipModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	// First: the framework wants the identity even from a Read that removes the resource.
	resp.Diagnostics.Append(roleMembershipIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(state.serverModel),
		state.Role.ValueString(), state.Member.ValueString())...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	m, err := client.Membership(ctx, state.Role.ValueString(), state.Member.ValueString())
	if errors.Is(err, pgaad.ErrNotFound) {
		// Revoked by hand, or a role dropped: forget it, so that the plan
		// grants it again (and says so when a role is missing).
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, roleMembershipState(m, state.serverModel))...)
}

// ModifyPlan shows the id in the plan: it depends only on role and member.
func (r *roleMembershipResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.data.replaceIfServerMoved(ctx, req, resp)
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	resp.Diagnostics.Append(r.data.checkServerIn(ctx, req.Plan)...)
	var role, member types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("role"), &role)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("member"), &member)...)
	if resp.Diagnostics.HasError() || role.IsUnknown() || member.IsUnknown() || role.IsNull() || member.IsNull() {
		return
	}
	id := types.StringValue(roleMembershipID.Encode(role.ValueString(), member.ValueString()))
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), id)...)
	r.checkOptionsVersion(ctx, req, resp)
}

// checkOptionsVersion refuses inherit_option and set_option at plan time on
// a server older than PostgreSQL 16, where memberships have neither.
func (r *roleMembershipResource) checkOptionsVersion(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var config roleMembershipModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() || (config.InheritOption.IsNull() && config.SetOption.IsNull()) {
		return
	}
	major := serverOlderThan(ctx, r.data, config.serverModel, 16)
	if major == 0 {
		return
	}
	for _, a := range []struct {
		name string
		v    types.Bool
	}{{"inherit_option", config.InheritOption}, {"set_option", config.SetOption}} {
		if !a.v.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root(a.name), "Membership options need PostgreSQL 16",
				fmt.Sprintf("The server runs PostgreSQL %d, whose memberships have no INHERIT or SET option: every membership "+
					"allows SET ROLE, and inherits when the member has the INHERIT attribute. Remove %s, or use a server on "+
					"PostgreSQL 16 or later.", major, a.name))
		}
	}
}

func (r *roleMembershipResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state roleMembershipModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := client.RevokeMembership(ctx, state.Role.ValueString(), state.Member.ValueString()); err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState takes <role>/<member>, or an identity with role and member;
// a membership that does not exist is an error here, not an empty import.
func (r *roleMembershipResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	fields, srv, ok := roleMembershipIdentity.importFields(ctx, req, r.data, roleMembershipID.Decode, &resp.Diagnostics)
	if !ok {
		return
	}
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	m, err := client.Membership(ctx, fields[0], fields[1])
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, roleMembershipState(m, srv))...)
	resp.Diagnostics.Append(roleMembershipIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), m.Role, m.Member)...)
}
