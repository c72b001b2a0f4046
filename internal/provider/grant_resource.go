package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var (
	_ resource.ResourceWithConfigure      = (*grantResource)(nil)
	_ resource.ResourceWithImportState    = (*grantResource)(nil)
	_ resource.ResourceWithValidateConfig = (*grantResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*grantResource)(nil)
	_ resource.ResourceWithIdentity       = (*grantResource)(nil)
)

// NewGrantResource is the azurepg_grant resource.
func NewGrantResource() resource.Resource {
	return &grantResource{privilegeResource[grantModel, pgaad.GrantTarget, pgaad.Grant]{kind: grantKind}}
}

type grantResource struct {
	privilegeResource[grantModel, pgaad.GrantTarget, pgaad.Grant]
}

// grantKind is what azurepg_grant does its own way (privilege_resource.go does the rest).
var grantKind = privilegeKind[grantModel, pgaad.GrantTarget, pgaad.Grant]{
	identity: grantIdentity,
	target: func(ctx context.Context, m grantModel, diags *diag.Diagnostics) pgaad.GrantTarget {
		return m.target(ctx, diags)
	},
	id:      grantID,
	parseID: parseGrantID,
	noun:    "a grant's",
	idForms: "<role>/<database>/database, <role>/<database>/schema/<schema>, <role>/<database>/<object_type>/<schema> " +
		"(all tables, sequences or functions) or <role>/<database>/<object_type>/<schema>/<object>/... (the listed ones)",
	idParts: func(m grantModel) []attr.Value {
		return []attr.Value{m.Role, m.Database, m.ObjectType, m.Schema, m.Objects}
	},
	privileges: func(m grantModel) types.Set { return m.Privileges },
	grantOpt:   func(m grantModel) types.Bool { return m.WithGrantOption },
	apply:      (*pgaad.Client).ApplyGrant,
	read:       (*pgaad.Client).ReadGrant,
	revoke:     (*pgaad.Client).RevokeGrant,
	state:      grantState,
	server:     func(m grantModel) serverModel { return m.serverModel },
	withServer: func(m grantModel, srv serverModel) grantModel { m.serverModel = srv; return m },
	checkImport: func(t pgaad.GrantTarget, g pgaad.Grant, diags *diag.Diagnostics) {
		if len(g.Missing) > 0 {
			diags.AddError("Cannot import the grant", fmt.Sprintf("No %s named %q in schema %q of database %q.",
				t.ObjectType, g.Missing, t.Schema, t.Database))
		}
	},
}

type grantModel struct {
	serverModel
	ID              types.String `tfsdk:"id"`
	Role            types.String `tfsdk:"role"`
	Database        types.String `tfsdk:"database"`
	ObjectType      types.String `tfsdk:"object_type"`
	Schema          types.String `tfsdk:"schema"`
	Objects         types.Set    `tfsdk:"objects"`
	Privileges      types.Set    `tfsdk:"privileges"`
	WithGrantOption types.Bool   `tfsdk:"with_grant_option"`
}

var grantObjectTypes = []string{pgaad.ObjectTypeDatabase, pgaad.ObjectTypeSchema, pgaad.ObjectTypeTable, pgaad.ObjectTypeSequence, pgaad.ObjectTypeFunction}

func (r *grantResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_grant"
}

func (r *grantResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The privileges of one role on a database, on a schema, or on tables, sequences or functions of a " +
			"schema (`GRANT` / `REVOKE`). The resource is authoritative for that role on those objects: at each apply the role " +
			"gets exactly `privileges` on each of them (anything else it held there is revoked), all in one transaction, so " +
			"a failure leaves nothing half-granted. Destroying it revokes all the role's privileges on those objects.\n\n" +
			"**Azure.** The Entra admin the provider logs in as is not a superuser. To grant on an object it does not own, it " +
			"needs the owner's privileges: it grants directly when it is an inheriting member of the owning role, and otherwise " +
			"acts as the owner (`SET LOCAL ROLE <owner>` inside the transaction, which needs the membership's SET option on " +
			"PostgreSQL 16+). Either way PostgreSQL records the owner as the grantor. When it is not a member, the apply fails, " +
			"changes nothing, and the error names the owner of each object and the `GRANT <owner> TO <admin>` that would allow " +
			"it (Azure lets its admins run it for any role it does not restrict: not a superuser, `azure_pg_admin` or a " +
			"predefined role).\n\n" +
			"**PUBLIC.** `role = \"public\"` means PostgreSQL's `PUBLIC` (every role), as in SQL, where the name `public` " +
			"cannot be a real role. A grant to any other role never touches what `PUBLIC` holds: revoking a role's privileges " +
			"revokes them from that role only, and `PUBLIC`'s defaults (e.g. `CONNECT` on databases, `EXECUTE` on functions) " +
			"stay unless a resource with `role = \"public\"` manages them.\n\n" +
			"**All tables over time.** Without `objects`, the resource covers every table (sequence, function) of the schema " +
			"*that exists when it is applied or read*: apply grants on each of them; tables created later get nothing from it " +
			"(use `azurepg_default_privileges` for those). State records the privileges that the role holds on **every** " +
			"existing object of the type. So when a table appears without them (created by someone without default " +
			"privileges), or one is revoked by hand from any table, the next plan shows an update, and applying it grants " +
			"again on all of them; a privilege added by hand on every table also shows. A schema with no such object at all " +
			"keeps the state as it was.\n\n" +
			"**Other grantors.** PostgreSQL keeps one grant per grantor, and the owner's `REVOKE` takes back only the owner's. " +
			"When a role holding the grant option also granted this role something here, an apply that would take it away " +
			"fails, changes nothing and names that grantor. When this role, holding the grant option, passed privileges on " +
			"to others, taking its grant option fails the same way, naming who got them: the provider never revokes with `CASCADE`.",
		Attributes: serverResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The import ID: `<role>/<database>/database`, `<role>/<database>/schema/<schema>`, " +
					"`<role>/<database>/<object_type>/<schema>` (all objects), or `<role>/<database>/<object_type>/<schema>/<object>/...` " +
					"(the listed objects, sorted). " + importIDEscaping,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"role": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The role that gets the privileges (exactly as named in PostgreSQL: an Entra principal's " +
					"UPN or display name, `@`, spaces and quotes included). `public` means `PUBLIC`. Changing it replaces the grant.",
				Validators:    nameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"database": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The database: the one granted on, or the one holding the schema. Changing it replaces the grant.",
				Validators:          nameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"object_type": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "`database`, `schema`, `table` (also views, materialized views, foreign and partitioned " +
					"tables), `sequence` or `function` (also aggregates; not procedures). Changing it replaces the grant.",
				Validators:    []validator.String{stringvalidator.OneOf(grantObjectTypes...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"schema": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "The schema granted on (`object_type = \"schema\"`) or holding the tables, sequences or " +
					"functions. Required except for `database`, where it must not be set. Changing it replaces the grant.",
				Validators:    nameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"objects": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Names of tables, sequences or functions in `schema` (a function name covers all its overloads). " +
					"Not set: all of them (see above). Changing it replaces the grant.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(nameValidators()...),
				},
				PlanModifiers: []planmodifier.Set{setplanmodifier.RequiresReplace()},
			},
			"privileges": schema.SetAttribute{
				ElementType: types.StringType,
				Required:    true,
				MarkdownDescription: "Privileges, in upper case: on a database `CONNECT`, `CREATE`, `TEMPORARY`; on a schema " +
					"`USAGE`, `CREATE`; on tables `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `REFERENCES`, `TRIGGER` " +
					"(and `MAINTAIN` on PostgreSQL 17+); on sequences `USAGE`, `SELECT`, `UPDATE`; on functions `EXECUTE`. " +
					"`[\"ALL\"]` alone grants every privilege of the type on this server's version and stays `ALL` in state while " +
					"the role holds them all. Other combinations are refused at plan time. Changing them updates in place.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1)},
			},
			"with_grant_option": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether the role may grant the privileges to others (`WITH GRANT OPTION`; not for `public`). " +
					"Default `false`. Changing it updates in place.",
			},
		}, "grant"),
	}
}

// ValidateConfig checks, at plan time, what depends on object_type.
func (r *grantResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m grantModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.ObjectType.IsUnknown() || m.ObjectType.IsNull() {
		return
	}
	typ := m.ObjectType.ValueString()
	switch {
	case typ == pgaad.ObjectTypeDatabase && !m.Schema.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("schema"), "schema not allowed here",
			"A grant on a database (object_type = \"database\") names no schema; remove schema.")
	case typ != pgaad.ObjectTypeDatabase && m.Schema.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("schema"), "schema required",
			fmt.Sprintf("A grant on %s needs schema: the schema granted on or holding the objects.", plural(typ)))
	}
	if !m.Objects.IsNull() && (typ == pgaad.ObjectTypeDatabase || typ == pgaad.ObjectTypeSchema) {
		resp.Diagnostics.AddAttributeError(path.Root("objects"), "objects not allowed here",
			fmt.Sprintf("objects lists tables, sequences or functions; a grant on a %s names it with %s.", typ,
				map[string]string{"database": "database", "schema": "schema"}[typ]))
	}
	validatePrivileges(ctx, &resp.Diagnostics, m.Privileges, typ)
	validateGrantOption(&resp.Diagnostics, m.Role, m.WithGrantOption)
}

func plural(objectType string) string { return objectType + "s" }

// target is the grant a model describes.
func (m grantModel) target(ctx context.Context, diags *diag.Diagnostics) pgaad.GrantTarget {
	t := pgaad.GrantTarget{
		Role:       m.Role.ValueString(),
		Database:   m.Database.ValueString(),
		ObjectType: m.ObjectType.ValueString(),
		Schema:     m.Schema.ValueString(),
	}
	if !m.Objects.IsNull() && !m.Objects.IsUnknown() {
		t.Objects = []string{}
		diags.Append(m.Objects.ElementsAs(ctx, &t.Objects, false)...)
		slices.Sort(t.Objects)
	}
	return t
}

// grantID is the resource's id and import ID.
func grantID(t pgaad.GrantTarget) string {
	fields := []string{t.Role, t.Database, t.ObjectType}
	if t.ObjectType != pgaad.ObjectTypeDatabase {
		fields = append(fields, t.Schema)
	}
	objs := slices.Clone(t.Objects)
	slices.Sort(objs)
	return joinImportID(append(fields, objs...)...)
}

// parseGrantID reads an import ID back into a target.
func parseGrantID(id string) (pgaad.GrantTarget, error) {
	f, err := splitImportID(id)
	if err == nil && len(f) < 3 {
		err = fmt.Errorf("it has %d field(s)", len(f))
	}
	if err != nil {
		return pgaad.GrantTarget{}, err
	}
	t := pgaad.GrantTarget{Role: f[0], Database: f[1], ObjectType: f[2]}
	switch {
	case !slices.Contains(grantObjectTypes, t.ObjectType):
		return t, fmt.Errorf("the third field is %q, not one of %s", t.ObjectType, strings.Join(grantObjectTypes, ", "))
	case t.ObjectType == pgaad.ObjectTypeDatabase && len(f) != 3:
		return t, errors.New("a grant on a database has 3 fields: <role>/<database>/database")
	case t.ObjectType == pgaad.ObjectTypeSchema && len(f) != 4:
		return t, errors.New("a grant on a schema has 4 fields: <role>/<database>/schema/<schema>")
	case t.ObjectType != pgaad.ObjectTypeDatabase && len(f) < 4:
		return t, fmt.Errorf("a grant on %s needs the schema: <role>/<database>/%s/<schema>[/<object>...]", plural(t.ObjectType), t.ObjectType)
	}
	if len(f) > 3 {
		t.Schema = f[3]
	}
	if len(f) > 4 {
		t.Objects = f[4:]
		slices.Sort(t.Objects)
	}
	return t, nil
}

// grantState is the state for what the server has. prior is the state
// before (nil on import): it keeps ["ALL"] while the role holds every
// privilege, the privileges when there is no object to hold them, and says
// which way a mixed grant option is a difference.
func grantState(t pgaad.GrantTarget, g pgaad.Grant, prior *grantModel) grantModel {
	m := grantModel{
		ID:         types.StringValue(grantID(t)),
		Role:       types.StringValue(t.Role),
		Database:   types.StringValue(t.Database),
		ObjectType: types.StringValue(t.ObjectType),
		Schema:     types.StringNull(),
		Objects:    types.SetNull(types.StringType),
	}
	if t.ObjectType != pgaad.ObjectTypeDatabase {
		m.Schema = types.StringValue(t.Schema)
	}
	if t.Objects != nil {
		m.Objects = stringSet(t.Objects)
	}
	if g.Count == 0 && len(g.Missing) == 0 && prior != nil {
		// No object at all (an empty schema): nothing disagrees with the state.
		m.Privileges, m.WithGrantOption = prior.Privileges, prior.WithGrantOption
		return m
	}
	m.Privileges = privilegesState(g.Privileges, g.Full, prior.privilegesOrNull())
	m.WithGrantOption = types.BoolValue(grantOption(len(g.Privileges) > 0 && g.GrantOptionAll, g.GrantOptionAny, prior.withGrantOptionOrNull()))
	return m
}

func (m *grantModel) privilegesOrNull() types.Set {
	if m == nil {
		return types.SetNull(types.StringType)
	}
	return m.Privileges
}

func (m *grantModel) withGrantOptionOrNull() types.Bool {
	if m == nil {
		return types.BoolNull()
	}
	return m.WithGrantOption
}

// grantOption: true when every privilege is held with grant option, false
// when none is; when some are, the opposite of what the state said, so that
// the plan shows the difference.
func grantOption(all, any bool, prior types.Bool) bool {
	switch {
	case all:
		return true
	case !any:
		return false
	case prior.IsNull() || prior.IsUnknown():
		return false
	default:
		return !prior.ValueBool()
	}
}
