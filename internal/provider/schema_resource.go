package provider

import (
	"context"
	"errors"
	"strings"

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
	_ resource.ResourceWithConfigure      = (*schemaResource)(nil)
	_ resource.ResourceWithImportState    = (*schemaResource)(nil)
	_ resource.ResourceWithIdentity       = (*schemaResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*schemaResource)(nil)
	_ resource.ResourceWithValidateConfig = (*schemaResource)(nil)
)

// NewSchemaResource is the azurepg_schema resource.
func NewSchemaResource() resource.Resource { return &schemaResource{} }

type schemaResource struct{ data *providerData }

type schemaModel struct {
	serverModel
	ID          types.String `tfsdk:"id"`
	Database    types.String `tfsdk:"database"`
	Name        types.String `tfsdk:"name"`
	Owner       types.String `tfsdk:"owner"`
	DropCascade types.Bool   `tfsdk:"drop_cascade"`
}

// schemaID is the id and import ID: <database>/<schema>.
var schemaID = importIDFormat{"database", "schema"}

func (r *schemaResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_schema"
}

func (r *schemaResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A schema in one database, with its owner (`CREATE SCHEMA ... AUTHORIZATION`), e.g. the `sales` schema " +
			"of an application, owned by the NOLOGIN role its migrations run as. The provider connects to that database itself. " +
			"The resource manages the schema and its owner only: privileges on it are `azurepg_grant` (`object_type = \"schema\"`), " +
			"privileges on what is created in it later `azurepg_default_privileges`.\n\n" +
			"**Owner.** Changing `owner` changes it in place (`ALTER SCHEMA ... OWNER TO`); an owner changed outside Terraform " +
			"shows as an update. On Azure the Entra admin is not a superuser, so PostgreSQL asks of the login what it asks of any " +
			"role: to create a schema for another role, or to give a schema to one, it must be able to act as that role " +
			"(`SET ROLE`: a member of it, with the `SET` option on PostgreSQL 16 and later); to change or drop a schema, it needs " +
			"the privileges of the schema's current owner (an inheriting member; for a drop, `SET ROLE` will do); to create a " +
			"schema or change its owner, the `CREATE` privilege on the database (the database's owner, e.g. the Entra admin " +
			"who created it, has it). On PostgreSQL 16 and later, creating a role with `CREATE ROLE` lets the admin manage it, " +
			"not act as it (unless the server's `createrole_self_grant` says otherwise). When the login cannot, the apply fails, changes nothing, and names the role and the " +
			"`GRANT <owner> TO <login>` that allows it, which the Entra admin may run itself (or declare as an " +
			"`azurepg_role_membership`).\n\n" +
			"**Destroy.** Deleting the resource runs `DROP SCHEMA` **without** `CASCADE` unless `drop_cascade` is `true`: a " +
			"schema that still holds tables, views, sequences, functions, types or other objects is refused, the error names " +
			"them (type and schema-qualified name; the first 20 and how many more), and nothing changes. A schema dropped " +
			"outside Terraform is created again by the next apply.\n\n" +
			"Creating a schema that already exists fails and says how to import it (the general PostgreSQL provider's " +
			"`if_not_exists` adopted it silently).\n\n" +
			"**From the general PostgreSQL provider.** A `moved` block from `postgresql_schema` (Terraform 1.8+) hands a schema " +
			"over without touching it (see the guide \"Migrating from the general PostgreSQL provider\"). The privileges of its " +
			"`policy` blocks stay on the server but are no longer managed: declare them as `azurepg_grant`.",
		Attributes: serverResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "`<database>/<schema>`, which is also the import ID. " + importIDEscapeNote +
					" For example `orders/sales`, or `app%2Fdb/sales` for the database `app/db`.",
			},
			"database": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The database that holds the schema (case-sensitive, at most 63 bytes). It must exist. " +
					"Changing it replaces the schema.",
				Validators:    nameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The schema's name, exactly (case-sensitive, at most 63 bytes; names starting with `pg_` are " +
					"reserved by PostgreSQL). Changing it replaces the schema: the old one is dropped (see `drop_cascade`) and a new " +
					"one created; the provider does not rename.",
				Validators:    append(nameValidators(), notReservedSchemaValidator{}),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"owner": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "The role that owns the schema (exactly as named in PostgreSQL; it must exist). Not set: the " +
					"login creates the schema and owns it, and later changes of the owner made outside Terraform are taken as they " +
					"are. Changing it updates the schema in place (`ALTER SCHEMA ... OWNER TO`). See **Owner** above for what the " +
					"login needs.",
				Validators:    nameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"drop_cascade": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether destroying the resource also drops everything in the schema (`DROP SCHEMA ... CASCADE`), " +
					"tables and data included, and the objects elsewhere that depend on them (views, foreign keys). Default `false`: " +
					"the destroy refuses a schema that is not empty. Changing it changes nothing on the server; being in the state, " +
					"it takes effect at the next destroy, so apply the change before destroying.",
			},
		}, "schema"),
	}
}

// IdentitySchema: the server's host, the database and the schema name (see identity.go).
func (r *schemaResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = schemaIdentity.schema()
}

func (r *schemaResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

// notReservedSchemaValidator refuses names that PostgreSQL reserves for its
// own schemas ("unacceptable schema name"), at plan time.
type notReservedSchemaValidator struct{}

func (notReservedSchemaValidator) Description(context.Context) string {
	return "must not start with pg_ (reserved by PostgreSQL)"
}
func (v notReservedSchemaValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (notReservedSchemaValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || !strings.HasPrefix(req.ConfigValue.ValueString(), "pg_") {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Reserved schema name",
		"PostgreSQL reserves names that start with pg_ for its own schemas (pg_catalog, pg_toast, ...) and refuses to create "+
			"one. Choose another name.")
}

// ValidateConfig refuses owner = "public" at plan time: PostgreSQL reads it
// as PUBLIC, which is not a role and cannot own anything.
func (r *schemaResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var owner types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("owner"), &owner)...)
	if resp.Diagnostics.HasError() || owner.IsNull() || owner.IsUnknown() || owner.ValueString() != pgaad.PublicRole {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("owner"), "PUBLIC cannot own a schema",
		"\"public\" is not a role: PostgreSQL reads this name as PUBLIC, which stands for every role, and only a role can own "+
			"a schema. Name a role, or leave owner out to make the login the owner. To let every role use the schema, grant "+
			"USAGE on it to PUBLIC with azurepg_grant.")
}

func schemaState(s pgaad.Schema, dropCascade types.Bool, srv serverModel) schemaModel {
	if dropCascade.IsNull() || dropCascade.IsUnknown() {
		dropCascade = types.BoolValue(false)
	}
	return schemaModel{
		serverModel: srv,
		ID:          types.StringValue(schemaID.Encode(s.Database, s.Name)),
		Database:    types.StringValue(s.Database),
		Name:        types.StringValue(s.Name),
		Owner:       types.StringValue(s.Owner),
		DropCascade: dropCascade,
	}
}

func (r *schemaResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan schemaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client, diags := r.data.clientOf(plan.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Unknown (not configured): the login owns the schema.
	s, err := client.CreateSchema(ctx, plan.Database.ValueString(), plan.Name.ValueString(), plan.Owner.ValueString())
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, schemaState(s, plan.DropCascade, plan.serverModel))...)
	resp.Diagnostics.Append(schemaIdentity.set(ctx, resp.Identity, nil, r.data.serverOf(plan.serverModel), s.Database, s.Name)...)
}

func (r *schemaResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state schemaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	// First: the framework wants the identity even from a Read that removes the resource.
	resp.Diagnostics.Append(schemaIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(state.serverModel),
		state.Database.ValueString(), state.Name.ValueString())...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := client.Schema(ctx, state.Database.ValueString(), state.Name.ValueString())
	if errors.Is(err, pgaad.ErrNotFound) || errors.Is(err, pgaad.ErrDatabaseMissing) {
		// Dropped outside Terraform (or with its database): forget it, so
		// that the plan creates it again.
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, schemaState(s, state.DropCascade, state.serverModel))...)
}

// ModifyPlan shows the id in the plan: it depends only on database and name.
func (r *schemaResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.data.replaceIfServerMoved(ctx, req, resp)
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	resp.Diagnostics.Append(r.data.checkServerIn(ctx, req.Plan)...)
	var database, name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("database"), &database)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() || database.IsUnknown() || name.IsUnknown() || database.IsNull() || name.IsNull() {
		return
	}
	id := types.StringValue(schemaID.Encode(database.ValueString(), name.ValueString()))
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), id)...)
}

// Update changes the owner (database and name force replacement); a change
// of drop_cascade alone touches nothing on the server.
func (r *schemaResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state schemaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := r.data.clientOf(plan.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	db, name := state.Database.ValueString(), state.Name.ValueString()
	var s pgaad.Schema
	var err error
	if owner := plan.Owner.ValueString(); owner != "" && owner != state.Owner.ValueString() {
		s, err = client.SetSchemaOwner(ctx, db, name, owner)
	} else {
		s, err = client.Schema(ctx, db, name)
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, schemaState(s, plan.DropCascade, plan.serverModel))...)
	resp.Diagnostics.Append(schemaIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(plan.serverModel), s.Database, s.Name)...)
}

func (r *schemaResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state schemaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := client.DropSchema(ctx, state.Database.ValueString(), state.Name.ValueString(), state.DropCascade.ValueBool()); err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState takes <database>/<schema>, or an identity with database and
// name; a schema that does not exist is an error here, not an empty import.
func (r *schemaResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	fields, srv, ok := schemaIdentity.importFields(ctx, req, r.data, schemaID.Decode, &resp.Diagnostics)
	if !ok {
		return
	}
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := client.Schema(ctx, fields[0], fields[1])
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, schemaState(s, types.BoolNull(), srv))...)
	resp.Diagnostics.Append(schemaIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), s.Database, s.Name)...)
}
