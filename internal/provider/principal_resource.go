package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var (
	_ resource.ResourceWithConfigure      = (*principalResource)(nil)
	_ resource.ResourceWithImportState    = (*principalResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*principalResource)(nil)
	_ resource.ResourceWithIdentity       = (*principalResource)(nil)
	_ resource.ResourceWithValidateConfig = (*principalResource)(nil)
)

// NewPrincipalResource is the azurepg_principal resource.
func NewPrincipalResource() resource.Resource { return &principalResource{} }

type principalResource struct{ data *providerData }

type principalModel struct {
	serverModel
	ID       types.String `tfsdk:"id"`
	Name     types.String `tfsdk:"name"`
	Type     types.String `tfsdk:"type"`
	ObjectID types.String `tfsdk:"object_id"`
	Admin    types.Bool   `tfsdk:"admin"`
	MFA      types.Bool   `tfsdk:"mfa"`
	TenantID types.String `tfsdk:"tenant_id"`
	// ReassignOwnedTo: configuration only, used on destroy.
	ReassignOwnedTo types.String `tfsdk:"reassign_owned_to"`
}

// principalTypes are the object types pgaadauth knows; service principals
// and managed identities are both "service".
var principalTypes = []string{"user", "group", "service"}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// principalNameValidators: PostgreSQL truncates identifiers to 63 bytes (not
// characters: "é" is two), which would silently create another name; NUL
// cannot be sent at all.
func principalNameValidators() []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, 63),
		stringvalidator.RegexMatches(regexp.MustCompile(`^[^\x00]*$`), "must not contain a NUL character"),
	}
}

// adminReadDescription is the admin attribute of the data sources: read as
// the resource reads it.
const adminReadDescription = "Whether the principal is a Microsoft Entra admin of the server, by its real rights: a member of " +
	"`azure_pg_admin` (and, when labelled admin, with `CREATEROLE` and `CREATEDB`). A role whose label and rights disagree " +
	"gets a warning naming both."

const principalReplaceNote = "Changing it replaces the principal: the role is dropped and created again " +
	"(which fails while it owns objects or holds privileges; see below)."

func (r *principalResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_principal"
}

func (r *principalResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Microsoft Entra ID principal (user, group, service principal or managed identity) that may log in to " +
			"Azure Database for PostgreSQL flexible server: a role created with `pgaadauth_create_principal` " +
			"(by name, looked up in the server's tenant) or `pgaadauth_create_principal_with_oid` (by object id: no name lookup, " +
			"but Azure still checks the object in the tenant). " +
			"Principals always live in the server's `postgres` database. " +
			"The provider must log in as a Microsoft Entra admin of the server.\n\n" +
			"**`admin` and `mfa` change in place.** The provider rewrites the role's `pgaadauth` security labels (as Microsoft's " +
			"troubleshooting guidance does, as the Entra admin) and, for `admin`, grants or revokes `azure_pg_admin` and sets " +
			"`CREATEROLE`/`CREATEDB` (or removes them), all in one transaction: the role keeps its oid, what it owns and its grants. " +
			"If the server refuses the relabel, the error says so; `terraform apply -replace=<address>` then replaces the principal " +
			"instead (the role is dropped and created again, which fails with SQLSTATE 2BP01 while it owns objects or holds " +
			"privileges, and loses its grants).\n\n" +
			"`admin` is read from the role's real rights: a role is an admin when it is a member of `azure_pg_admin` (and, when " +
			"labelled admin, also has `CREATEROLE` and `CREATEDB`). A hand `GRANT` or `REVOKE azure_pg_admin` therefore shows in the " +
			"next plan, and apply puts it right. A role whose label and rights disagree gets a warning naming both.\n\n" +
			"Deleting the resource drops the role and leaves nothing of it behind: " + destroyLeavesNothing + " " +
			"Creating a role that already exists fails and changes nothing; import it instead.\n\n" +
			"A `postgresql_role` of the general PostgreSQL provider that carries the `pgaadauth` label may also become an " +
			"`azurepg_principal` with a `moved` block (Terraform 1.8+), keeping the role as it is: see the guide " +
			"\"Migrating from the general PostgreSQL provider\".",
		Attributes: serverResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The role name (same as `name`).",
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The role name, exactly as in Microsoft Entra ID and case-sensitive: a user's UPN " +
					"(`alice@contoso.com`), or the display name of a group, service principal or managed identity. " +
					"At most 63 bytes. With `object_id` it may be any name. Changing it replaces the principal.",
				Validators:    principalNameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			// type, object_id and tenant_id use the state's value when
			// unknown: only admin and mfa change in place, and the role
			// stays the same, so the plan shows them known instead of
			// "(known after apply)". A replacement is planned afresh with
			// no prior state (Terraform plans the create part again), so
			// it still reads them from the new role.
			"type": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "The object type: `user`, `group` or `service` (service principals and managed identities). " +
					"Required with `object_id`. Without `object_id` it is read from the tenant, and when set it must match " +
					"(a mismatch fails and creates nothing). " + principalReplaceNote,
				Validators:    []validator.String{stringvalidator.OneOf(principalTypes...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured(), stringplanmodifier.UseStateForUnknown()},
			},
			"object_id": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "The object id (a UUID) of the Entra object. When set, the principal is created for that " +
					"object without a name lookup (`pgaadauth_create_principal_with_oid`), and `type` is required: use it for " +
					"a name that several objects share, or a role name that differs from the object's name. It avoids the name " +
					"lookup, not the directory: Azure still looks the object id up in Entra ID, fails with `incorrect object type " +
					"provided for principal` when `type` is not the object's, and may not find an identity created seconds " +
					"earlier (directory replication) until a retry. " + principalReplaceNote,
				Validators: []validator.String{
					stringvalidator.RegexMatches(uuidPattern, "must be a UUID such as 6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05"),
					stringvalidator.AlsoRequires(path.MatchRoot("type")),
				},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured(), stringplanmodifier.UseStateForUnknown()},
			},
			"admin": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether the principal is a Microsoft Entra admin of the server (member of `azure_pg_admin`, " +
					"may create roles and databases and manage other principals). Default `false`. Read from the role's real " +
					"rights (a hand `GRANT`/`REVOKE azure_pg_admin` is drift). Changes in place: relabel, `GRANT`/`REVOKE azure_pg_admin` " +
					"and `[NO]CREATEROLE [NO]CREATEDB`, in one transaction.",
			},
			"mfa": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether the principal is marked as requiring multi-factor authentication. Default `false`. " +
					"Changes in place (relabel). Only user tokens carry an mfa claim: `mfa = true` with `type = \"service\"` " +
					"(service principals and managed identities) makes a role nobody can log in as, and is a plan-time warning.",
			},
			"reassign_owned_to": reassignOwnedToAttribute("principal"),
			"tenant_id": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The Microsoft Entra tenant id recorded on the role. Empty for roles created by older servers, " +
					"whose labels did not record it.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		}, "principal"),
	}
}

// IdentitySchema: the server's host and the role name (see identity.go).
func (r *principalResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = principalIdentity.schema()
}

func (r *principalResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *principalResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan principalModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client, diags := r.data.clientOf(plan.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := client.CreatePrincipal(ctx, pgaad.NewPrincipal{
		Name:     plan.Name.ValueString(),
		Type:     plan.Type.ValueString(), // "" when unknown: taken from the tenant
		ObjectID: plan.ObjectID.ValueString(),
		Admin:    plan.Admin.ValueBool(),
		MFA:      plan.MFA.ValueBool(),
	})
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	state := principalState(p, plan.ObjectID)
	state.ReassignOwnedTo, state.serverModel = plan.ReassignOwnedTo, plan.serverModel
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	resp.Diagnostics.Append(principalIdentity.set(ctx, resp.Identity, nil, r.data.serverOf(plan.serverModel), p.Name)...)
}

func (r *principalResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state principalModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	// First: the framework wants the identity even from a Read that removes the resource.
	resp.Diagnostics.Append(principalIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(state.serverModel), state.Name.ValueString())...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := client.Principal(ctx, state.Name.ValueString())
	if errors.Is(err, pgaad.ErrNotFound) {
		// Dropped out of band: forget it, so that the plan creates it again.
		resp.State.RemoveResource(ctx)
		return
	}
	if errors.Is(err, pgaad.ErrNotEntraPrincipal) && notYetRead(state) {
		movedPlainRoleError(&resp.Diagnostics, state.Name.ValueString()) // see principal_move.go
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	addDisagreement(&resp.Diagnostics, p)
	read := principalState(p, state.ObjectID)
	read.ReassignOwnedTo, read.serverModel = state.ReassignOwnedTo, state.serverModel
	resp.Diagnostics.Append(resp.State.Set(ctx, read)...)
}

// addDisagreement warns about a role whose pgaadauth label and admin rights
// disagree: its admin is taken from its rights, not silently from the label.
func addDisagreement(diags *diag.Diagnostics, p pgaad.Principal) {
	if p.LabelConflict != "" {
		diags.AddWarning("Principal's two labels disagree",
			fmt.Sprintf("Role %q: %s. The provider reads the pgaadauth label's value (object_id %s, type %s); which one Azure "+
				"checks at login is not documented. If the role's logins fail, relabel it with the Entra object's facts "+
				"(SECURITY LABEL FOR \"pgaadauth-int\" ON ROLE ...) or drop and recreate it.", p.Name, p.LabelConflict, p.ObjectID, p.Type))
	}
	if d := p.Disagreement(); d != "" {
		diags.AddWarning("Principal's label and admin rights disagree",
			fmt.Sprintf("Role %q: %s. Its admin is read as %t, from its rights. An azurepg_principal that manages it sets the label "+
				"and the rights together to its admin argument on the next apply; otherwise, put them right by hand "+
				"(GRANT or REVOKE azure_pg_admin, ALTER ROLE ... [NO]CREATEROLE [NO]CREATEDB) or relabel the role.", p.Name, d, p.Admin))
	}
}

// ModifyPlan shows the id in the plan: it is the name, known before apply
// even when the principal is replaced.
func (r *principalResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.data.replaceIfServerMoved(ctx, req, resp)
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if !req.State.Raw.IsNull() {
		var prior principalModel
		resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
		if notYetRead(prior) {
			notYetReadError(&resp.Diagnostics, prior.Name.ValueString()) // see principal_move.go
			return
		}
	}
	resp.Diagnostics.Append(r.data.checkServerIn(ctx, req.Plan)...)
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	if !name.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), name)...)
	}
}

// Update changes admin and mfa in place (every other argument forces
// replacement): relabel and admin rights in one transaction.
func (r *principalResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior principalModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Admin.Equal(prior.Admin) && plan.MFA.Equal(prior.MFA) {
		// Only reassign_owned_to, or the way the server is written (the
		// same server), changed: nothing to do on the server.
		prior.ReassignOwnedTo = plan.ReassignOwnedTo
		prior.serverModel = plan.serverModel
		resp.Diagnostics.Append(resp.State.Set(ctx, prior)...)
		resp.Diagnostics.Append(principalIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(prior.serverModel), prior.Name.ValueString())...)
		return
	}
	client, diags := r.data.clientOf(plan.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := client.UpdatePrincipal(ctx, pgaad.PrincipalChange{
		Name:  plan.Name.ValueString(),
		Admin: plan.Admin.ValueBool(),
		MFA:   plan.MFA.ValueBool(),
	})
	if err != nil {
		if errors.Is(err, pgaad.ErrRelabelRefused) {
			resp.Diagnostics.AddError("Server refused to relabel the principal",
				errorText(err)+"\n\nTo change admin or mfa anyway, replace the principal: terraform apply -replace=<address>, "+
					"with this resource's address (shown below, after \"with\"), e.g. terraform apply -replace='azurepg_principal.example'.")
			return
		}
		addError(&resp.Diagnostics, err)
		return
	}
	state := principalState(p, prior.ObjectID)
	state.ReassignOwnedTo, state.serverModel = plan.ReassignOwnedTo, plan.serverModel
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	resp.Diagnostics.Append(principalIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(plan.serverModel), p.Name)...)
}

// ValidateConfig warns about mfa on a service principal or managed
// identity: their tokens never carry an mfa claim, so nobody could log in.
func (r *principalResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg principalModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.MFA.ValueBool() && cfg.Type.ValueString() == "service" {
		resp.Diagnostics.AddAttributeWarning(path.Root("mfa"), "mfa on a service principal or managed identity",
			"mfa = true marks the role as requiring multi-factor authentication, but only user tokens carry an mfa claim: "+
				"service principals and managed identities (type = \"service\") never do, so nobody could log in as this role. "+
				"Set mfa = false, unless the role is meant to refuse every login.")
	}
	validateReassignOwnedTo(&resp.Diagnostics, cfg.Name, cfg.ReassignOwnedTo)
}

func (r *principalResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state principalModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := client.DropPrincipal(ctx, state.Name.ValueString(), state.ReassignOwnedTo.ValueString()); err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState takes the role name exactly as it is, as the import ID or as
// the identity's name; a role that is missing or is not an Entra principal
// is an error here, not an empty import.
func (r *principalResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name, srv, ok := principalIdentity.importID(ctx, req, r.data, &resp.Diagnostics)
	if !ok {
		return
	}
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := client.Principal(ctx, name)
	if errors.Is(err, pgaad.ErrNotFound) {
		// A name that differs only in case is the usual mistake (UPNs are
		// case-insensitive in Entra ID, role names are not).
		if alike, ferr := client.PrincipalsFolded(ctx, name); ferr == nil && len(alike) > 0 {
			var b strings.Builder
			for _, n := range alike {
				fmt.Fprintf(&b, "\n  %q: terraform import 'azurepg_principal.<name>' %s", n, shellSingleQuoted(n))
			}
			resp.Diagnostics.AddError("Role not found",
				errorText(err)+"\n\nThe server has no role with exactly this name (names are case-sensitive), but it has a Microsoft Entra "+
					"principal whose name differs only in case; did you mean:"+b.String())
			return
		}
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	addDisagreement(&resp.Diagnostics, p)
	state := principalState(p, types.StringNull())
	state.serverModel = srv
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	resp.Diagnostics.Append(principalIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), p.Name)...)
}

// principalState is the state for a principal read from the server. The
// object id keeps the spelling the configuration used (upper or lower case)
// when it names the same UUID, so that the plan stays empty.
func principalState(p pgaad.Principal, priorObjectID types.String) principalModel {
	objectID := p.ObjectID
	if prior := priorObjectID.ValueString(); strings.EqualFold(prior, objectID) {
		objectID = prior
	}
	return principalModel{
		serverModel: serverModel{Host: types.StringNull(), Port: types.Int64Null()},
		ID:          types.StringValue(p.Name),
		Name:        types.StringValue(p.Name),
		Type:        types.StringValue(p.Type),
		ObjectID:    types.StringValue(objectID),
		Admin:       types.BoolValue(p.Admin),
		MFA:         types.BoolValue(p.MFA),
		TenantID:    types.StringValue(p.TenantID),
	}
}
