package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var (
	_ resource.ResourceWithConfigure   = (*extensionResource)(nil)
	_ resource.ResourceWithImportState = (*extensionResource)(nil)
	_ resource.ResourceWithIdentity    = (*extensionResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*extensionResource)(nil)
)

// NewExtensionResource is the azurepg_extension resource.
func NewExtensionResource() resource.Resource { return &extensionResource{} }

type extensionResource struct{ data *providerData }

type extensionModel struct {
	serverModel
	ID       types.String `tfsdk:"id"`
	Name     types.String `tfsdk:"name"`
	Database types.String `tfsdk:"database"`
	Schema   types.String `tfsdk:"schema"`
	Version  types.String `tfsdk:"version"`
}

var extensionNoNUL = stringvalidator.RegexMatches(regexp.MustCompile(`^[^\x00]*$`), "must not contain a NUL character")

// PostgreSQL's own rules for extension names and versions (they name files
// on the server): no directory separator, no "--", no leading or trailing
// "-". So an extension name never contains '/', which is why the import ID
// <database>/<name> is split at its last '/'.
var (
	extensionNamePattern    = regexp.MustCompile(`^[^/\\\x00-]([^/\\\x00]*[^/\\\x00-])?$`)
	extensionVersionPattern = extensionNamePattern
)

func extensionFileNameValidators(what string, pattern *regexp.Regexp) []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, 63),
		stringvalidator.RegexMatches(pattern, what+" must not contain '/', '\\' or NUL, nor start or end with '-'"),
		stringvalidator.RegexMatches(regexp.MustCompile(`^(?:[^-]|-[^-])*-?$`), what+" must not contain \"--\""),
	}
}

func (r *extensionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_extension"
}

func (r *extensionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A PostgreSQL extension installed in one database (`CREATE EXTENSION`), such as `azure_ai`, " +
			"`pg_trgm` or `hstore`. The provider connects to that database itself.\n\n" +
			"On Azure Database for PostgreSQL flexible server an extension can be created only when the server parameter " +
			"`azure.extensions` lists it. That parameter is an ARM setting, outside this provider: set it with azurerm's " +
			"`azurerm_postgresql_flexible_server_configuration` (`name = \"azure.extensions\"`) and make this resource depend on it. " +
			"Otherwise creation fails with an error saying so. The login needs the `CREATE` privilege on the database " +
			"(its owner, e.g. the Entra admin who created it, has it); only the extension's owner, the role that created it, " +
			"may update or drop it.\n\n" +
			"Changing `version` updates the extension in place (`ALTER EXTENSION ... UPDATE TO`); it fails, changing nothing, " +
			"when the server has no update path to that version (PostgreSQL cannot downgrade an extension). " +
			"Changing `name`, `database` or `schema` replaces it.\n\n" +
			"Deleting the resource runs `DROP EXTENSION` **without** `CASCADE`: when tables, columns or other objects depend on " +
			"the extension, the drop fails and says which objects, rather than dropping them and their data. " +
			"An extension dropped outside Terraform is created again by the next apply.",
		Attributes: serverResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<database>/<name>`, which is also the import ID.",
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The extension's name as the server knows it (case-sensitive), e.g. `azure_ai`, `uuid-ossp`. " +
					"`SELECT name FROM pg_available_extensions` lists them. Changing it replaces the extension.",
				Validators:    extensionFileNameValidators("name", extensionNamePattern),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"database": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The database to install the extension in (case-sensitive, at most 63 bytes; any characters, `/` included). " +
					"It must exist. Changing it replaces the extension.",
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 63), extensionNoNUL},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"schema": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "The schema to put the extension's objects in; it must exist. When not set, the server chooses: " +
					"the schema an extension requires (e.g. `azure_ai` for `azure_ai`), else the first schema of the search path " +
					"(usually `public`), and this attribute shows it. Changing it replaces the extension (drop and create): " +
					"the provider does not use `ALTER EXTENSION ... SET SCHEMA`, because on Azure the extension's objects belong " +
					"to the server's own superuser and an Entra admin may not move them.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 63), extensionNoNUL},
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
			},
			"version": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "The extension version, e.g. `1.3.1`. When not set, the server's default version is installed " +
					"and this attribute shows what is installed (later changes made outside Terraform are taken as they are). " +
					"Changing it updates the extension in place with `ALTER EXTENSION ... UPDATE TO`, which needs an update " +
					"path from the installed version (`SELECT * FROM pg_extension_update_paths('<name>')`). " +
					"Removing it from the configuration keeps the installed version.",
				Validators:    extensionFileNameValidators("version", extensionVersionPattern),
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		}, "extension"),
	}
}

// IdentitySchema: the server's host, the database and the extension name (see identity.go).
func (r *extensionResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = extensionIdentity.schema()
}

func (r *extensionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

// extensionID is the resource's id and import ID.
func extensionID(database, name string) string { return database + "/" + name }

// parseExtensionID splits an import ID at its last '/': database names may
// contain '/', extension names never do.
func parseExtensionID(id string) (database, name string, err error) {
	i := strings.LastIndexByte(id, '/')
	if i <= 0 || i == len(id)-1 {
		return "", "", fmt.Errorf("the import ID must be <database>/<extension name>, e.g. orders/azure_ai, got %q", id)
	}
	return id[:i], id[i+1:], nil
}

func extensionState(x pgaad.Extension, srv serverModel) extensionModel {
	return extensionModel{
		serverModel: srv,
		ID:          types.StringValue(extensionID(x.Database, x.Name)),
		Name:        types.StringValue(x.Name),
		Database:    types.StringValue(x.Database),
		Schema:      types.StringValue(x.Schema),
		Version:     types.StringValue(x.Version),
	}
}

func (r *extensionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan extensionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	client, diags := r.data.clientOf(plan.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	x, err := client.CreateExtension(ctx, pgaad.NewExtension{
		Database: plan.Database.ValueString(),
		Name:     plan.Name.ValueString(),
		Schema:   plan.Schema.ValueString(),  // "" when unknown: the server chooses
		Version:  plan.Version.ValueString(), // "" when unknown: the default version
	})
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, extensionState(x, plan.serverModel))...)
	resp.Diagnostics.Append(extensionIdentity.set(ctx, resp.Identity, nil, r.data.serverOf(plan.serverModel), x.Database, x.Name)...)
}

func (r *extensionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state extensionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	// First: the framework wants the identity even from a Read that removes the resource.
	resp.Diagnostics.Append(extensionIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(state.serverModel), state.Database.ValueString(), state.Name.ValueString())...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	x, err := client.Extension(ctx, state.Database.ValueString(), state.Name.ValueString())
	if errors.Is(err, pgaad.ErrNotFound) || errors.Is(err, pgaad.ErrDatabaseMissing) {
		// Dropped out of band (or with its database): forget it, so that
		// the plan creates it again.
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, extensionState(x, state.serverModel))...)
}

// ModifyPlan shows the id in the plan: it depends only on database and name.
func (r *extensionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
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
	id := types.StringValue(extensionID(database.ValueString(), name.ValueString()))
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), id)...)
}

// Update can only be a version change: every other argument forces
// replacement.
func (r *extensionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state extensionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := r.data.clientOf(plan.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	db, name := state.Database.ValueString(), state.Name.ValueString()
	var x pgaad.Extension
	var err error
	if v := plan.Version.ValueString(); v != "" && v != state.Version.ValueString() {
		x, err = client.UpdateExtension(ctx, db, name, v)
	} else {
		x, err = client.Extension(ctx, db, name)
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, extensionState(x, plan.serverModel))...)
	resp.Diagnostics.Append(extensionIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(plan.serverModel), x.Database, x.Name)...)
}

func (r *extensionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state extensionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := r.data.clientOf(state.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := client.DropExtension(ctx, state.Database.ValueString(), state.Name.ValueString()); err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState takes <database>/<name>, or an identity with database and
// name; an extension that is not installed is an error here, not an empty
// import.
func (r *extensionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	fields, srv, ok := extensionIdentity.importFields(ctx, req, r.data, func(id string) ([]string, error) {
		database, name, err := parseExtensionID(id)
		if err != nil {
			return nil, fmt.Errorf("%w\n\nThe part after the last '/' is the extension name; everything before it is the database name, '/' included", err)
		}
		return []string{database, name}, nil
	}, &resp.Diagnostics)
	if !ok {
		return
	}
	database, name := fields[0], fields[1]
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	x, err := client.Extension(ctx, database, name)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, extensionState(x, srv))...)
	resp.Diagnostics.Append(extensionIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), x.Database, x.Name)...)
}
