package provider_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// A stand-in for the general PostgreSQL provider's postgresql_grant and
// postgresql_default_privileges (attributes as in
// internal/acctest/stubproviders/postgresql.go) that only keeps its state:
// the privileges are made by hand in SQL, as that provider would have, so
// that the move is the only thing under test.
type stubAccessProvider struct{}

func (stubAccessProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "postgresql"
}
func (stubAccessProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}
func (stubAccessProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (stubAccessProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (stubAccessProvider) Resources(context.Context) []func() fwresource.Resource {
	return []func() fwresource.Resource{
		func() fwresource.Resource {
			return &stubStateResource{typeName: "_grant", strs: []string{"role", "database", "schema", "object_type"},
				sets: []string{"objects", "columns", "privileges"}}
		},
		func() fwresource.Resource {
			return &stubStateResource{typeName: "_default_privileges", strs: []string{"role", "database", "owner", "schema", "object_type"},
				sets: []string{"privileges"}}
		},
	}
}

// stubStateResource stores optional strings, string sets and
// with_grant_option, and an id.
type stubStateResource struct {
	typeName   string
	strs, sets []string
}

func (r *stubStateResource) Metadata(_ context.Context, req fwresource.MetadataRequest, resp *fwresource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + r.typeName
}

func (r *stubStateResource) Schema(_ context.Context, _ fwresource.SchemaRequest, resp *fwresource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"id":                schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"with_grant_option": schema.BoolAttribute{Optional: true},
	}
	for _, a := range r.strs {
		attrs[a] = schema.StringAttribute{Optional: true}
	}
	for _, a := range r.sets {
		attrs[a] = schema.SetAttribute{Optional: true, ElementType: types.StringType}
	}
	resp.Schema = schema.Schema{Attributes: attrs}
}

func (r *stubStateResource) Create(ctx context.Context, req fwresource.CreateRequest, resp *fwresource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), types.StringValue("stub"))...)
}
func (r *stubStateResource) Read(context.Context, fwresource.ReadRequest, *fwresource.ReadResponse) {}
func (r *stubStateResource) Update(_ context.Context, req fwresource.UpdateRequest, resp *fwresource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}
func (r *stubStateResource) Delete(context.Context, fwresource.DeleteRequest, *fwresource.DeleteResponse) {
}

// TestAccGrantMoveFromPostgresql: grants and default privileges that the
// general provider made move to azurepg_grant and
// azurepg_default_privileges with moved blocks: nothing is granted or
// revoked, the plan is a move only, and the state is what the server has.
// Privileges in lower case (which that provider accepts) come over upper-cased.
func TestAccGrantMoveFromPostgresql(t *testing.T) {
	acctest.Emulator(t)
	a := newAccessDB(t)
	s, g, o := qi(a.schema), qi(a.grantee), qi(a.owner)
	acctest.SuperExec(t, a.db, "GRANT CONNECT ON DATABASE "+qi(a.db)+" TO "+g)
	acctest.SuperExec(t, a.db, "GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "+s+" TO "+g+" WITH GRANT OPTION")
	acctest.SuperExec(t, a.db, "GRANT USAGE ON SEQUENCE "+s+"."+qi(a.sequence)+" TO "+g)
	acctest.SuperExec(t, a.db, "ALTER DEFAULT PRIVILEGES FOR ROLE "+o+" IN SCHEMA "+s+" GRANT SELECT ON TABLES TO "+g)
	acctest.SuperExec(t, a.db, "ALTER DEFAULT PRIVILEGES FOR ROLE "+o+" GRANT EXECUTE ON FUNCTIONS TO "+g)
	serverSide := func() string {
		var acl string
		acctest.SuperQueryRow(t, a.db, `SELECT concat_ws(' | ',
			(SELECT datacl::text FROM pg_database WHERE datname = current_database()),
			(SELECT string_agg(c.relname || '=' || c.relacl::text, ',' ORDER BY c.relname) FROM pg_class c
			   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1),
			(SELECT string_agg(defaclacl::text, ',' ORDER BY defaclobjtype, defaclnamespace) FROM pg_default_acl))`,
			[]any{a.schema}, &acl)
		return acl
	}
	before := serverSide()
	unchanged := func(*terraform.State) error {
		if got := serverSide(); got != before {
			return fmt.Errorf("the server's ACLs changed:\n%s\nwere\n%s", got, before)
		}
		return nil
	}
	locals := a.config()
	old := locals + fmt.Sprintf(`
resource "postgresql_grant" "db" {
  role        = local.grantee
  database    = local.db
  schema      = ""
  object_type = "database"
  objects     = []
  columns     = []
  privileges  = ["CONNECT"]
}
resource "postgresql_grant" "tables" {
  role              = local.grantee
  database          = local.db
  schema            = local.schema
  object_type       = "table"
  objects           = []
  columns           = []
  privileges        = ["select", "insert"]
  with_grant_option = true
}
resource "postgresql_grant" "seq" {
  role        = local.grantee
  database    = local.db
  schema      = local.schema
  object_type = "sequence"
  objects     = [%s]
  columns     = []
  privileges  = ["USAGE"]
}
resource "postgresql_default_privileges" "tables" {
  role        = local.grantee
  database    = local.db
  owner       = local.owner
  schema      = local.schema
  object_type = "table"
  privileges  = ["SELECT"]
}
resource "postgresql_default_privileges" "routines" {
  role        = local.grantee
  database    = local.db
  owner       = local.owner
  schema      = ""
  object_type = "routine"
  privileges  = ["EXECUTE"]
}
`, hclquote.String(a.sequence))
	moved := locals + fmt.Sprintf(`
moved {
  from = postgresql_grant.db
  to   = azurepg_grant.db
}
resource "azurepg_grant" "db" {
  role        = local.grantee
  database    = local.db
  object_type = "database"
  privileges  = ["CONNECT"]
}
moved {
  from = postgresql_grant.tables
  to   = azurepg_grant.tables
}
resource "azurepg_grant" "tables" {
  role              = local.grantee
  database          = local.db
  schema            = local.schema
  object_type       = "table"
  privileges        = ["SELECT", "INSERT"]
  with_grant_option = true
}
moved {
  from = postgresql_grant.seq
  to   = azurepg_grant.seq
}
resource "azurepg_grant" "seq" {
  role        = local.grantee
  database    = local.db
  schema      = local.schema
  object_type = "sequence"
  objects     = [%s]
  privileges  = ["USAGE"]
}
moved {
  from = postgresql_default_privileges.tables
  to   = azurepg_default_privileges.tables
}
resource "azurepg_default_privileges" "tables" {
  role        = local.grantee
  database    = local.db
  owner       = local.owner
  schema      = local.schema
  object_type = "table"
  privileges  = ["SELECT"]
}
moved {
  from = postgresql_default_privileges.routines
  to   = azurepg_default_privileges.functions
}
resource "azurepg_default_privileges" "functions" {
  role        = local.grantee
  database    = local.db
  owner       = local.owner
  object_type = "function"
  privileges  = ["EXECUTE"]
}
`, hclquote.String(a.sequence))
	var checks []plancheck.PlanCheck
	for _, m := range [][2]string{
		{"postgresql_grant.db", "azurepg_grant.db"}, {"postgresql_grant.tables", "azurepg_grant.tables"},
		{"postgresql_grant.seq", "azurepg_grant.seq"},
		{"postgresql_default_privileges.tables", "azurepg_default_privileges.tables"},
		{"postgresql_default_privileges.routines", "azurepg_default_privileges.functions"},
	} {
		checks = append(checks, expectMoved{from: m[0], to: m[1]}, plancheck.ExpectResourceAction(m[1], plancheck.ResourceActionNoop))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"azurepg":    acctest.ProviderFactories["azurepg"],
			"postgresql": providerserver.NewProtocol6WithError(stubAccessProvider{}),
		},
		Steps: []resource.TestStep{
			{Config: old},
			{
				Config:           moved,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: checks},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_grant.tables", tfjsonpath.New("with_grant_option"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_grant.tables", tfjsonpath.New("privileges"),
						knownvalue.SetPartial([]knownvalue.Check{knownvalue.StringExact("INSERT")})),
					statecheck.ExpectKnownValue("azurepg_grant.db", tfjsonpath.New("schema"), knownvalue.Null()),
					statecheck.ExpectKnownValue("azurepg_grant.tables", tfjsonpath.New("objects"), knownvalue.Null()),
					statecheck.ExpectKnownValue("azurepg_default_privileges.functions", tfjsonpath.New("object_type"), knownvalue.StringExact("function")),
				},
				Check: unchanged,
			},
			{Config: moved, PlanOnly: true},
		},
	})
}
