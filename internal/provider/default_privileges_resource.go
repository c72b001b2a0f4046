package provider

import (
	"context"
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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var (
	_ resource.ResourceWithConfigure      = (*defaultPrivilegesResource)(nil)
	_ resource.ResourceWithImportState    = (*defaultPrivilegesResource)(nil)
	_ resource.ResourceWithValidateConfig = (*defaultPrivilegesResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*defaultPrivilegesResource)(nil)
	_ resource.ResourceWithIdentity       = (*defaultPrivilegesResource)(nil)
)

// NewDefaultPrivilegesResource is the azurepg_default_privileges resource.
func NewDefaultPrivilegesResource() resource.Resource {
	return &defaultPrivilegesResource{privilegeResource[defaultPrivilegesModel, pgaad.DefaultPrivilegesTarget, pgaad.DefaultPrivileges]{
		kind: defaultPrivilegesKind,
	}}
}

type defaultPrivilegesResource struct {
	privilegeResource[defaultPrivilegesModel, pgaad.DefaultPrivilegesTarget, pgaad.DefaultPrivileges]
}

// defaultPrivilegesKind is what azurepg_default_privileges does its own way
// (privilege_resource.go does the rest).
var defaultPrivilegesKind = privilegeKind[defaultPrivilegesModel, pgaad.DefaultPrivilegesTarget, pgaad.DefaultPrivileges]{
	identity: defaultPrivilegesIdentity,
	target: func(_ context.Context, m defaultPrivilegesModel, _ *diag.Diagnostics) pgaad.DefaultPrivilegesTarget {
		return m.target()
	},
	id:      defaultPrivilegesID,
	parseID: parseDefaultPrivilegesID,
	noun:    "default privileges'",
	idForms: "<role>/<database>/<owner>/<object_type> (the whole database) or <role>/<database>/<owner>/<object_type>/<schema>",
	idParts: func(m defaultPrivilegesModel) []attr.Value {
		return []attr.Value{m.Role, m.Database, m.Owner, m.Schema, m.ObjectType}
	},
	privileges: func(m defaultPrivilegesModel) types.Set { return m.Privileges },
	grantOpt:   func(m defaultPrivilegesModel) types.Bool { return m.WithGrantOption },
	apply:      (*pgaad.Client).ApplyDefaultPrivileges,
	read:       (*pgaad.Client).ReadDefaultPrivileges,
	revoke:     (*pgaad.Client).RevokeDefaultPrivileges,
	state:      defaultPrivilegesState,
	server:     func(m defaultPrivilegesModel) serverModel { return m.serverModel },
	withServer: func(m defaultPrivilegesModel, srv serverModel) defaultPrivilegesModel { m.serverModel = srv; return m },
}

type defaultPrivilegesModel struct {
	serverModel
	ID              types.String `tfsdk:"id"`
	Role            types.String `tfsdk:"role"`
	Database        types.String `tfsdk:"database"`
	Owner           types.String `tfsdk:"owner"`
	Schema          types.String `tfsdk:"schema"`
	ObjectType      types.String `tfsdk:"object_type"`
	Privileges      types.Set    `tfsdk:"privileges"`
	WithGrantOption types.Bool   `tfsdk:"with_grant_option"`
}

var defaultPrivilegesObjectTypes = []string{pgaad.ObjectTypeTable, pgaad.ObjectTypeSequence, pgaad.ObjectTypeFunction, pgaad.ObjectTypeType, pgaad.ObjectTypeSchema}

func (r *defaultPrivilegesResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_default_privileges"
}

func (r *defaultPrivilegesResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The privileges that objects **created later** by `owner` give to `role` " +
			"(`ALTER DEFAULT PRIVILEGES FOR ROLE <owner> [IN SCHEMA <schema>] GRANT ... TO <role>`). Objects that exist already " +
			"are not touched: grant on them with `azurepg_grant`. The resource is authoritative for these default privileges: " +
			"each apply revokes what `role` had by default from `owner` here and grants `privileges`, in one transaction.\n\n" +
			"**Azure.** The Entra admin the provider logs in as is not a superuser: it may change the default privileges of " +
			"`owner` only with `owner`'s privileges, that is as a member of `owner`: directly when the membership inherits, " +
			"otherwise acting as `owner` (`SET LOCAL ROLE`, which needs the membership's SET option on PostgreSQL 16+). When it " +
			"is not a member, the apply fails, changes nothing, and the error names the `GRANT <owner> TO <admin>` that would " +
			"allow it (Azure lets its admins run it for any role it does not restrict). " +
			"The defaults apply to objects that `owner` itself creates (or anyone acting as it with `SET ROLE`), not to objects " +
			"created by its members under their own names.\n\n" +
			"**PUBLIC.** `role = \"public\"` means `PUBLIC`. Without `schema`, PostgreSQL's built-in defaults give `PUBLIC` " +
			"`EXECUTE` on functions and `USAGE` on types; a resource for another role never changes them.",
		Attributes: serverResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The import ID: `<role>/<database>/<owner>/<object_type>` (the whole database) or " +
					"`<role>/<database>/<owner>/<object_type>/<schema>`. " + importIDEscaping,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"role": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The role that gets the privileges; `public` means `PUBLIC`. Changing it replaces the resource.",
				Validators:          nameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"database": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The database (default privileges are per database). Changing it replaces the resource.",
				Validators:          nameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"owner": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The role whose new objects get the privileges: the role that will create them " +
					"(e.g. the application's owner role, or the admin's own name). Changing it replaces the resource.",
				Validators:    nameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"schema": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Only objects created in this schema. Not set: in every schema of the database. " +
					"Not allowed with `object_type = \"schema\"`. Changing it replaces the resource.",
				Validators:    nameValidators(),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"object_type": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "`table`, `sequence`, `function`, `type` or `schema`. Changing it replaces the resource.",
				Validators:          []validator.String{stringvalidator.OneOf(defaultPrivilegesObjectTypes...)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"privileges": schema.SetAttribute{
				ElementType: types.StringType,
				Required:    true,
				MarkdownDescription: "Privileges, in upper case, valid for the object type (as for `azurepg_grant`; types: `USAGE`; " +
					"schemas: `USAGE`, `CREATE`), or `[\"ALL\"]` alone. Changing them updates in place.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1)},
			},
			"with_grant_option": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				MarkdownDescription: "Whether the role may grant the privileges on to others. Default `false`. Changing it updates in place.",
			},
		}, "default privileges"),
	}
}

// ValidateConfig checks, at plan time, what depends on object_type.
func (r *defaultPrivilegesResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m defaultPrivilegesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.ObjectType.IsUnknown() || m.ObjectType.IsNull() {
		return
	}
	typ := m.ObjectType.ValueString()
	if typ == pgaad.ObjectTypeSchema && !m.Schema.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("schema"), "schema not allowed here",
			"Default privileges on schemas apply to the whole database (PostgreSQL has no ALTER DEFAULT PRIVILEGES IN SCHEMA ... ON SCHEMAS); remove schema.")
	}
	validatePrivileges(ctx, &resp.Diagnostics, m.Privileges, typ)
	validateGrantOption(&resp.Diagnostics, m.Role, m.WithGrantOption)
}

func (m defaultPrivilegesModel) target() pgaad.DefaultPrivilegesTarget {
	return pgaad.DefaultPrivilegesTarget{
		Role:       m.Role.ValueString(),
		Database:   m.Database.ValueString(),
		Owner:      m.Owner.ValueString(),
		Schema:     m.Schema.ValueString(),
		ObjectType: m.ObjectType.ValueString(),
	}
}

func defaultPrivilegesID(t pgaad.DefaultPrivilegesTarget) string {
	fields := []string{t.Role, t.Database, t.Owner, t.ObjectType}
	if t.Schema != "" {
		fields = append(fields, t.Schema)
	}
	return joinImportID(fields...)
}

func parseDefaultPrivilegesID(id string) (pgaad.DefaultPrivilegesTarget, error) {
	f, err := splitImportID(id)
	if err != nil {
		return pgaad.DefaultPrivilegesTarget{}, err
	}
	if len(f) != 4 && len(f) != 5 {
		return pgaad.DefaultPrivilegesTarget{}, fmt.Errorf("it has %d field(s), want 4 or 5", len(f))
	}
	t := pgaad.DefaultPrivilegesTarget{Role: f[0], Database: f[1], Owner: f[2], ObjectType: f[3]}
	if !slices.Contains(defaultPrivilegesObjectTypes, t.ObjectType) {
		return t, fmt.Errorf("the fourth field is %q, not one of %s", t.ObjectType, strings.Join(defaultPrivilegesObjectTypes, ", "))
	}
	if len(f) == 5 {
		t.Schema = f[4]
	}
	return t, nil
}

func defaultPrivilegesState(t pgaad.DefaultPrivilegesTarget, d pgaad.DefaultPrivileges, prior *defaultPrivilegesModel) defaultPrivilegesModel {
	m := defaultPrivilegesModel{
		ID:         types.StringValue(defaultPrivilegesID(t)),
		Role:       types.StringValue(t.Role),
		Database:   types.StringValue(t.Database),
		Owner:      types.StringValue(t.Owner),
		Schema:     types.StringNull(),
		ObjectType: types.StringValue(t.ObjectType),
	}
	if t.Schema != "" {
		m.Schema = types.StringValue(t.Schema)
	}
	priorPrivs, priorGO := types.SetNull(types.StringType), types.BoolNull()
	if prior != nil {
		priorPrivs, priorGO = prior.Privileges, prior.WithGrantOption
	}
	m.Privileges = privilegesState(d.Privileges, d.Full, priorPrivs)
	switch {
	case len(d.Privileges) == 0 && !priorGO.IsNull() && !priorGO.IsUnknown():
		m.WithGrantOption = priorGO // nothing held: the option says nothing
	case len(d.Privileges) == 0:
		m.WithGrantOption = types.BoolValue(false)
	default:
		// bool_and over the privileges: some with and some without reads as
		// false, which differs from a configured true.
		m.WithGrantOption = types.BoolValue(d.WithGrantOption)
	}
	return m
}
