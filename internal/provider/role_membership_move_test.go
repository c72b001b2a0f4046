package provider_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
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
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// A stand-in for cyrilgdn/postgresql's postgresql_grant_role that only
// keeps its state and never touches a server (schema as in
// postgresql/resource_postgresql_grant_role.go at
// 04a8fc67c215271f5a8ff65a936c2e804c556096: role is the member, grant_role
// the role granted, every argument forces replacement, the id is
// <role>_<grant_role>_<with_admin_option>).

type stubGrantRoleProvider struct{}

func (stubGrantRoleProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "postgresql"
}
func (stubGrantRoleProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {
}
func (stubGrantRoleProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (stubGrantRoleProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (stubGrantRoleProvider) Resources(context.Context) []func() fwresource.Resource {
	return []func() fwresource.Resource{func() fwresource.Resource { return stubGrantRole{} }}
}

type stubGrantRole struct{}

type stubGrantRoleModel struct {
	ID              types.String `tfsdk:"id"`
	Role            types.String `tfsdk:"role"`
	GrantRole       types.String `tfsdk:"grant_role"`
	WithAdminOption types.Bool   `tfsdk:"with_admin_option"`
}

func (stubGrantRole) Metadata(_ context.Context, req fwresource.MetadataRequest, resp *fwresource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_grant_role"
}

func (stubGrantRole) Schema(_ context.Context, _ fwresource.SchemaRequest, resp *fwresource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":         schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"role":       schema.StringAttribute{Required: true, PlanModifiers: replace},
		"grant_role": schema.StringAttribute{Required: true, PlanModifiers: replace},
		"with_admin_option": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()}},
	}}
}

func (stubGrantRole) Create(ctx context.Context, req fwresource.CreateRequest, resp *fwresource.CreateResponse) {
	var m stubGrantRoleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	m.ID = types.StringValue(m.Role.ValueString() + "_" + m.GrantRole.ValueString() + "_" + strconv.FormatBool(m.WithAdminOption.ValueBool()))
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
func (stubGrantRole) Read(context.Context, fwresource.ReadRequest, *fwresource.ReadResponse) {}
func (stubGrantRole) Update(context.Context, fwresource.UpdateRequest, *fwresource.UpdateResponse) {
}
func (stubGrantRole) Delete(context.Context, fwresource.DeleteRequest, *fwresource.DeleteResponse) {
}

func grantRoleMoveFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"azurepg":    acctest.ProviderFactories["azurepg"],
		"postgresql": providerserver.NewProtocol6WithError(stubGrantRoleProvider{}),
	}
}

// grantors lists who granted role to member (with the admin option or
// not), as the superuser: a revoke and re-grant by the provider would show
// as another grantor.
func grantors(t *testing.T, role, member string) string {
	t.Helper()
	var s string
	acctest.SuperQueryRow(t, "postgres", `SELECT coalesce(string_agg(pg_get_userbyid(m.grantor) || ':' || m.admin_option, ',' ORDER BY 1), '')
		FROM pg_auth_members m
		WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND m.member = (SELECT oid FROM pg_roles WHERE rolname = $2)`,
		[]any{role, member}, &s)
	return s
}

// TestRoleMembershipMoveFromPostgresqlGrantRole: memberships that the
// general provider granted move to azurepg_role_membership with a moved
// block: the plan is a move only, nothing is revoked or granted again (the
// grantor stays the one that granted by hand), and role and member come
// out the right way round.
func TestRoleMembershipMoveFromPostgresqlGrantRole(t *testing.T) {
	acctest.Emulator(t)
	role := membershipTestRole(t, acctest.LongName(`app/"writers"; 100% ü`, 63))
	member := membershipTestRole(t, acctest.LongName(`o'Hara "Zoë" @ contoso`, 63))
	admins := membershipTestRole(t, acctest.Name(`app admins`))
	dba := membershipTestRole(t, acctest.Name(`DBA Team;`))
	// What postgresql_grant_role did, as the superuser (the grantor to watch).
	acctest.SuperExec(t, "postgres", "GRANT "+pgx.Identifier{role}.Sanitize()+" TO "+pgx.Identifier{member}.Sanitize())
	acctest.SuperExec(t, "postgres", "GRANT "+pgx.Identifier{admins}.Sanitize()+" TO "+pgx.Identifier{dba}.Sanitize()+" WITH ADMIN OPTION")
	want1, want2 := grantors(t, role, member), grantors(t, admins, dba)
	if want1 != "azuresu:false" || want2 != "azuresu:true" {
		t.Fatalf("set-up grants: %q, %q", want1, want2)
	}
	unchanged := func(*terraform.State) error {
		if got := grantors(t, role, member); got != want1 {
			return fmt.Errorf("%q to %q: grants %q, were %q", role, member, got, want1)
		}
		if got := grantors(t, admins, dba); got != want2 {
			return fmt.Errorf("%q to %q: grants %q, were %q", admins, dba, got, want2)
		}
		return nil
	}
	before := fmt.Sprintf(`
resource "postgresql_grant_role" "app" {
  role       = %[2]q
  grant_role = %[1]q
}
resource "postgresql_grant_role" "dba" {
  role              = %[4]q
  grant_role        = %[3]q
  with_admin_option = true
}
`, role, member, admins, dba)
	after := fmt.Sprintf(`
provider "azurepg" {}

moved {
  from = postgresql_grant_role.app
  to   = azurepg_role_membership.app
}
resource "azurepg_role_membership" "app" {
  role   = %[1]q
  member = %[2]q
}

moved {
  from = postgresql_grant_role.dba
  to   = azurepg_role_membership.dba
}
resource "azurepg_role_membership" "dba" {
  role              = %[3]q
  member            = %[4]q
  with_admin_option = true
}
`, role, member, admins, dba)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: grantRoleMoveFactories(),
		Steps: []resource.TestStep{
			{Config: before, Check: unchanged},
			{
				Config: after,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						expectMoved{from: "postgresql_grant_role.app", to: "azurepg_role_membership.app"},
						expectMoved{from: "postgresql_grant_role.dba", to: "azurepg_role_membership.dba"},
						plancheck.ExpectResourceAction("azurepg_role_membership.app", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("azurepg_role_membership.dba", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_role_membership.app", tfjsonpath.New("id"), knownvalue.StringExact(escapeID(role, member))),
					statecheck.ExpectKnownValue("azurepg_role_membership.app", tfjsonpath.New("role"), knownvalue.StringExact(role)),
					statecheck.ExpectKnownValue("azurepg_role_membership.app", tfjsonpath.New("member"), knownvalue.StringExact(member)),
					statecheck.ExpectKnownValue("azurepg_role_membership.app", tfjsonpath.New("with_admin_option"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_role_membership.dba", tfjsonpath.New("role"), knownvalue.StringExact(admins)),
					statecheck.ExpectKnownValue("azurepg_role_membership.dba", tfjsonpath.New("member"), knownvalue.StringExact(dba)),
					statecheck.ExpectKnownValue("azurepg_role_membership.dba", tfjsonpath.New("with_admin_option"), knownvalue.Bool(true)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					unchanged,
				),
			},
			{
				// Managed from now on: a hand REVOKE shows as drift.
				PreConfig: func() {
					acctest.SuperExec(t, "postgres", "REVOKE "+pgx.Identifier{role}.Sanitize()+" FROM "+pgx.Identifier{member}.Sanitize())
				},
				Config:             after,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}
