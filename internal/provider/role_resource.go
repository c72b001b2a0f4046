package provider

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var (
	_ resource.ResourceWithConfigure      = (*roleResource)(nil)
	_ resource.ResourceWithImportState    = (*roleResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*roleResource)(nil)
	_ resource.ResourceWithIdentity       = (*roleResource)(nil)
	_ resource.ResourceWithValidateConfig = (*roleResource)(nil)
)

// NewRoleResource is the azurepg_role resource.
func NewRoleResource() resource.Resource { return &roleResource{} }

type roleResource struct{ data *providerData }

type roleModel struct {
	serverModel
	ID                types.String `tfsdk:"id"`
	Name              types.String `tfsdk:"name"`
	Login             types.Bool   `tfsdk:"login"`
	Inherit           types.Bool   `tfsdk:"inherit"`
	CreateDatabase    types.Bool   `tfsdk:"create_database"`
	CreateRole        types.Bool   `tfsdk:"create_role"`
	ConnectionLimit   types.Int64  `tfsdk:"connection_limit"`
	ValidUntil        types.String `tfsdk:"valid_until"`
	PasswordWO        types.String `tfsdk:"password_wo"`
	PasswordWOVersion types.Int64  `tfsdk:"password_wo_version"`
	ReassignOwnedTo   types.String `tfsdk:"reassign_owned_to"`
}

// validUntilInfinity is PostgreSQL's "never expires", read as no value.
const validUntilInfinity = "infinity"

func (r *roleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role"
}

func (r *roleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A PostgreSQL role that is not a Microsoft Entra principal: usually a `NOLOGIN` group role " +
			"(`orders_readers`) or owner role (`orders_owner`), or a local password login for a tool that cannot use Microsoft " +
			"Entra ID. Entra users, groups and identities are `azurepg_principal`.\n\n" +
			"The provider's login (an Entra admin, not a superuser) creates the role and can act as it afterwards (`SET ROLE`), " +
			"so that it can create a schema the role owns and grant on the role's objects: on PostgreSQL 16+ the creation adds " +
			"`set` to `createrole_self_grant` for its transaction (the login gets `SET`, not the role's privileges), on 15 the " +
			"login becomes a member of the role. `SUPERUSER`, `REPLICATION` and `BYPASSRLS` are not offered: Azure's admin " +
			"cannot give them.\n\n" +
			"Attributes changed by hand show as drift and are put back by the next apply (`ALTER ROLE`). A password cannot be " +
			"read back: bump `password_wo_version` to send it again.\n\n" +
			"Deleting the resource drops the role and leaves nothing of it behind: " + destroyLeavesNothing + "\n\n" +
			"Import takes the role name; a Microsoft Entra principal is refused (import it as `azurepg_principal`). A " +
			"`postgresql_role` of the general PostgreSQL provider that is not an Entra principal may become an `azurepg_role` " +
			"with a `moved` block (Terraform 1.8+), keeping the role as it is.",
		Attributes: serverResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The role name (same as `name`).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The role name, case-sensitive, at most 63 bytes. Changing it replaces the role " +
					"(which fails while it owns objects, unless `reassign_owned_to` is set).",
				Validators:    principalNameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"login": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether the role may log in (`LOGIN`). Default `false`: a group or owner role.",
			},
			"inherit": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether the role has the privileges of the roles it is a member of (`INHERIT`). Default `true`.",
			},
			"create_database": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether the role may create databases (`CREATEDB`). Default `false`.",
			},
			"create_role": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether the role may create roles (`CREATEROLE`). Default `false`.",
			},
			"connection_limit": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(-1),
				MarkdownDescription: "How many connections the role may open at once; `-1` (the default) for no limit.",
				Validators:          []validator.Int64{int64validator.AtLeast(-1)},
			},
			"valid_until": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "When the role's password stops being valid, as an RFC 3339 time " +
					"(`2027-01-31T00:00:00Z`), or `infinity`. Unset: never. The same instant written another way is not a change.",
				Validators: []validator.String{validUntilValidator{}},
			},
			"password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "The role's password (write-only: never stored in the state or the plan; Terraform 1.11+). " +
					"Only with `login = true`. It is sent as a SCRAM-SHA-256 verifier computed by the provider, so that no " +
					"server log shows it. It is sent when the role is created and whenever `password_wo_version` changes. " +
					"Removing it (with a new version) removes the password.",
				Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("password_wo_version"))},
			},
			"password_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "A number to change whenever `password_wo` changes: a new value sends the password again, " +
					"in place.",
			},
			"reassign_owned_to": reassignOwnedToAttribute("role"),
		}, "role"),
	}
}

// validUntilValidator accepts an RFC 3339 time or "infinity".
type validUntilValidator struct{}

func (validUntilValidator) Description(context.Context) string {
	return "an RFC 3339 time or infinity"
}
func (v validUntilValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (validUntilValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.ConfigValue.ValueString() == validUntilInfinity {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid valid_until",
			"valid_until must be an RFC 3339 time such as \"2027-01-31T00:00:00Z\" (with a time zone), or \"infinity\"; got "+
				req.ConfigValue.String()+".")
	}
}

// parseValidUntil is the time a (validated) valid_until means; the zero
// time for none or infinity.
func parseValidUntil(v types.String) time.Time {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == validUntilInfinity {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, v.ValueString())
	return t
}

func (r *roleResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = roleIdentity.schema()
}

func (r *roleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig: a password only for a role that logs in, and not the
// role itself as the receiver of its objects.
func (r *roleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg roleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !cfg.PasswordWO.IsNull() && !cfg.Login.IsUnknown() && !cfg.Login.ValueBool() {
		resp.Diagnostics.AddAttributeError(path.Root("password_wo"), "A password needs login = true",
			"password_wo sets a password, but the role cannot log in (login is false, the default). Set login = true for a "+
				"local login, or remove password_wo for a group or owner role.")
	}
	validateReassignOwnedTo(&resp.Diagnostics, cfg.Name, cfg.ReassignOwnedTo)
}

// ModifyPlan shows the id (the name) in the plan.
func (r *roleResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.data.replaceIfServerMoved(ctx, req, resp)
	if req.Plan.Raw.IsNull() {
		return
	}
	resp.Diagnostics.Append(r.data.checkServerIn(ctx, req.Plan)...)
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	if !name.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), name)...)
	}
}

// change is what the plan asks of the server, with the password from the
// configuration (write-only values are never in the plan).
func (m roleModel) change(password types.String, sendPassword bool) pgaad.RoleChange {
	return pgaad.RoleChange{
		Role: pgaad.Role{
			Name:            m.Name.ValueString(),
			Login:           m.Login.ValueBool(),
			Inherit:         m.Inherit.ValueBool(),
			CreateDatabase:  m.CreateDatabase.ValueBool(),
			CreateRole:      m.CreateRole.ValueBool(),
			ConnectionLimit: int(m.ConnectionLimit.ValueInt64()),
			ValidUntil:      parseValidUntil(m.ValidUntil),
		},
		Password:    password.ValueString(),
		SetPassword: sendPassword,
	}
}

// roleState is the state for a role as read, keeping what only the
// configuration knows (the spelling of valid_until for the same instant,
// the password's version, reassign_owned_to).
func roleState(got pgaad.Role, prior roleModel) roleModel {
	s := roleModel{
		serverModel:       prior.serverModel,
		ID:                types.StringValue(got.Name),
		Name:              types.StringValue(got.Name),
		Login:             types.BoolValue(got.Login),
		Inherit:           types.BoolValue(got.Inherit),
		CreateDatabase:    types.BoolValue(got.CreateDatabase),
		CreateRole:        types.BoolValue(got.CreateRole),
		ConnectionLimit:   types.Int64Value(int64(got.ConnectionLimit)),
		PasswordWO:        types.StringNull(),
		PasswordWOVersion: prior.PasswordWOVersion,
		ReassignOwnedTo:   prior.ReassignOwnedTo,
	}
	switch {
	case got.ValidUntil.Equal(parseValidUntil(prior.ValidUntil)) && !prior.ValidUntil.IsUnknown():
		s.ValidUntil = prior.ValidUntil // the same instant (or never), as the configuration wrote it
	case got.ValidUntil.IsZero():
		s.ValidUntil = types.StringNull()
	default:
		s.ValidUntil = types.StringValue(got.ValidUntil.UTC().Format(time.RFC3339Nano))
	}
	return s
}

func (r *roleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	client, diags := r.data.clientOf(plan.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := client.CreateRole(ctx, plan.change(config.PasswordWO, !config.PasswordWO.IsNull()))
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, roleState(got, plan))...)
	resp.Diagnostics.Append(roleIdentity.set(ctx, resp.Identity, nil, r.data.serverOf(plan.serverModel), got.Name)...)
}

func (r *roleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(roleIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(state.serverModel), state.Name.ValueString())...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := client.Role(ctx, state.Name.ValueString())
	if errors.Is(err, pgaad.ErrNotFound) {
		resp.State.RemoveResource(ctx) // dropped out of band: the plan creates it again
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, roleState(got, state))...)
}

func (r *roleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior, config roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	client, diags := r.data.clientOf(plan.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sendPassword := !plan.PasswordWOVersion.Equal(prior.PasswordWOVersion)
	got, err := client.UpdateRole(ctx, plan.change(config.PasswordWO, sendPassword), prior.change(types.StringNull(), false).Role)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, roleState(got, plan))...)
	resp.Diagnostics.Append(roleIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(plan.serverModel), got.Name)...)
}

func (r *roleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := client.DropRole(ctx, pgaad.DropRole{Name: state.Name.ValueString(), ReassignTo: state.ReassignOwnedTo.ValueString()}); err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState takes the role name exactly as it is (import ID or
// identity); an Entra principal is refused with the way to import it.
func (r *roleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name, srv, ok := roleIdentity.importID(ctx, req, r.data, &resp.Diagnostics)
	if !ok {
		return
	}
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := client.Role(ctx, name)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, roleState(got, roleModel{
		serverModel: srv,
		ValidUntil:  types.StringNull(), PasswordWOVersion: types.Int64Null(), ReassignOwnedTo: types.StringNull(),
	}))...)
	resp.Diagnostics.Append(roleIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), got.Name)...)
}

var _ resource.ResourceWithMoveState = (*roleResource)(nil)

// MoveState accepts `moved { from = postgresql_role.x  to = azurepg_role.x }`
// (Terraform 1.8+) for a role that is not an Entra principal (those move to
// azurepg_principal). It copies the attributes both resources have; the
// password stays behind (write-only here), and the refresh in the same plan
// reads the role from the server.
func (r *roleResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{mover(postgresqlRoleType, roleNameMissing,
		"Import the role instead: remove the postgresql_role from the state without dropping it (a removed block with "+
			"lifecycle { destroy = false }), then import it: terraform import 'azurepg_role.<name>' '<role name>'.",
		movePostgresqlRoleToRole)}
}

func movePostgresqlRoleToRole(src postgresqlRoleState, _ *diag.Diagnostics) (roleModel, bool) {
	validUntil := types.StringPointerValue(src.ValidUntil)
	if v := validUntil.ValueString(); v == "" || v == validUntilInfinity {
		validUntil = types.StringNull() // "infinity", postgresql_role's default, is "never": unset here
	}
	name := types.StringValue(*src.Name)
	return roleModel{
		ID:                name,
		Name:              name,
		Login:             types.BoolPointerValue(src.Login),
		Inherit:           types.BoolPointerValue(src.Inherit),
		CreateDatabase:    types.BoolPointerValue(src.CreateDatabase),
		CreateRole:        types.BoolPointerValue(src.CreateRole),
		ConnectionLimit:   types.Int64PointerValue(src.ConnectionLimit),
		ValidUntil:        validUntil,
		PasswordWO:        types.StringNull(),
		PasswordWOVersion: types.Int64Null(),
		ReassignOwnedTo:   types.StringNull(),
	}, true
}
