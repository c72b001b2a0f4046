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

// A stand-in for cyrilgdn/postgresql's postgresql_schema (attributes as in
// internal/acctest/stubproviders/postgresql.go: name, database, owner,
// if_not_exists, drop_cascade and the policy blocks) that only keeps its
// state, with the id <database>.<schema> as the real one writes it. The
// schemas are made by hand, as that provider would have made them, so that
// the move is the only thing under test.
type stubSchemaProvider struct{}

func (stubSchemaProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "postgresql"
}
func (stubSchemaProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}
func (stubSchemaProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (stubSchemaProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (stubSchemaProvider) Resources(context.Context) []func() fwresource.Resource {
	return []func() fwresource.Resource{func() fwresource.Resource { return stubSchema{} }}
}

type stubSchema struct{}

func (stubSchema) Metadata(_ context.Context, req fwresource.MetadataRequest, resp *fwresource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_schema"
}

func (stubSchema) Schema(_ context.Context, _ fwresource.SchemaRequest, resp *fwresource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"id":            schema.StringAttribute{Computed: true},
			"name":          schema.StringAttribute{Required: true},
			"database":      schema.StringAttribute{Optional: true, Computed: true},
			"owner":         schema.StringAttribute{Optional: true, Computed: true},
			"if_not_exists": schema.BoolAttribute{Optional: true},
			"drop_cascade":  schema.BoolAttribute{Optional: true},
		},
		Blocks: map[string]schema.Block{
			"policy": schema.SetNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"create":            schema.BoolAttribute{Optional: true},
				"create_with_grant": schema.BoolAttribute{Optional: true},
				"role":              schema.StringAttribute{Optional: true},
				"usage":             schema.BoolAttribute{Optional: true},
				"usage_with_grant":  schema.BoolAttribute{Optional: true},
			}}},
		},
	}
}

// Create keeps the plan; the test's configuration sets database and owner,
// which the real provider would read from the server.
func (stubSchema) Create(ctx context.Context, req fwresource.CreateRequest, resp *fwresource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
	var db, name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("database"), &db)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), types.StringValue(db.ValueString()+"."+name.ValueString()))...)
}
func (stubSchema) Read(context.Context, fwresource.ReadRequest, *fwresource.ReadResponse) {}
func (stubSchema) Update(_ context.Context, req fwresource.UpdateRequest, resp *fwresource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}
func (stubSchema) Delete(context.Context, fwresource.DeleteRequest, *fwresource.DeleteResponse) {}

// TestAccSchemaMoveFromPostgresqlSchema: schemas that the general provider
// made move to azurepg_schema with moved blocks, one with drop_cascade and
// one with a (deprecated) policy block: the plan is a move only, nothing
// changes on the server (same oid, owner and privileges), and the state is
// what the server has. Afterwards a schema dropped by hand shows as drift.
func TestAccSchemaMoveFromPostgresqlSchema(t *testing.T) {
	acctest.Emulator(t)
	s := newSchemaDB(t)
	a := acctest.LongName(`moved "a"; 表 @ /`, 63)
	b := acctest.LongName(`moved 'b'; ü %`, 63)
	for _, n := range []string{a, b} {
		acctest.SuperExec(t, s.db, "CREATE SCHEMA "+qi(n)+" AUTHORIZATION "+qi(s.owner))
	}
	acctest.SuperExec(t, s.db, "GRANT USAGE ON SCHEMA "+qi(b)+" TO "+qi(s.other))
	serverSide := func() string {
		var out string
		acctest.SuperQueryRow(t, s.db, `SELECT coalesce(string_agg(concat_ws(' ', oid, nspname, pg_get_userbyid(nspowner), nspacl::text), ' | ' ORDER BY nspname), '')
			FROM pg_namespace WHERE nspname IN ($1, $2)`, []any{a, b}, &out)
		return out
	}
	before := serverSide()
	unchanged := func(*terraform.State) error {
		if got := serverSide(); got != before {
			return fmt.Errorf("the server's schemas changed:\n%s\nwere\n%s", got, before)
		}
		return nil
	}
	old := s.config(fmt.Sprintf(`
resource "postgresql_schema" "a" {
  name         = %[1]s
  database     = local.db
  owner        = local.owner
  drop_cascade = true
}

resource "postgresql_schema" "b" {
  name     = %[2]s
  database = local.db
  owner    = local.owner
  policy {
    usage = true
    role  = local.other
  }
}
`, hclquote.String(a), hclquote.String(b)))
	moved := s.config(`
moved {
  from = postgresql_schema.a
  to   = azurepg_schema.a
}

moved {
  from = postgresql_schema.b
  to   = azurepg_schema.b
}
`, schemaBlock("a", a, "owner = local.owner", "drop_cascade = true"), schemaBlock("b", b, "owner = local.owner"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"azurepg":    acctest.ProviderFactories["azurepg"],
			"postgresql": providerserver.NewProtocol6WithError(stubSchemaProvider{}),
		},
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(checkSchema(t, s.db, a, "", 0), checkSchema(t, s.db, b, "", 0)),
		Steps: []resource.TestStep{
			{Config: old, Check: unchanged},
			{
				Config: moved,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						expectMoved{from: "postgresql_schema.a", to: "azurepg_schema.a"},
						expectMoved{from: "postgresql_schema.b", to: "azurepg_schema.b"},
						plancheck.ExpectResourceAction("azurepg_schema.a", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("azurepg_schema.b", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_schema.a", tfjsonpath.New("id"), knownvalue.StringExact(escapeID(s.db, a))),
					statecheck.ExpectKnownValue("azurepg_schema.a", tfjsonpath.New("database"), knownvalue.StringExact(s.db)),
					statecheck.ExpectKnownValue("azurepg_schema.a", tfjsonpath.New("name"), knownvalue.StringExact(a)),
					statecheck.ExpectKnownValue("azurepg_schema.a", tfjsonpath.New("owner"), knownvalue.StringExact(s.owner)),
					statecheck.ExpectKnownValue("azurepg_schema.a", tfjsonpath.New("drop_cascade"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_schema.b", tfjsonpath.New("id"), knownvalue.StringExact(escapeID(s.db, b))),
					statecheck.ExpectKnownValue("azurepg_schema.b", tfjsonpath.New("drop_cascade"), knownvalue.Bool(false)),
				},
				Check: unchanged,
			},
			{Config: moved, PlanOnly: true},
			{
				// Managed from now on: a schema dropped by hand shows as drift.
				PreConfig:          func() { acctest.SuperExec(t, s.db, "DROP SCHEMA "+qi(b)) },
				Config:             moved,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}
