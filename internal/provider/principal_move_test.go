package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

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
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// A stand-in for the general PostgreSQL provider (cyrilgdn/postgresql): a
// postgresql_role and a postgresql_security_label that only keep their state
// and never touch a server, so that the roles these tests make by hand are
// exactly what the SQL side says, and a move is the only thing under test.

type stubPostgresqlProvider struct{}

func (stubPostgresqlProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "postgresql"
}
func (stubPostgresqlProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {
}
func (stubPostgresqlProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (stubPostgresqlProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (stubPostgresqlProvider) Resources(context.Context) []func() fwresource.Resource {
	return []func() fwresource.Resource{
		func() fwresource.Resource {
			return &stubResource{typeName: "_role", attrs: []string{"name"}}
		},
		func() fwresource.Resource {
			return &stubResource{typeName: "_security_label", attrs: []string{"object_type", "object_name", "label_provider", "label"}}
		},
	}
}

// stubResource stores its required string attributes and an id (the first
// attribute's value, as cyrilgdn/postgresql's role uses the name).
type stubResource struct {
	typeName string
	attrs    []string
}

func (r *stubResource) Metadata(_ context.Context, req fwresource.MetadataRequest, resp *fwresource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + r.typeName
}

func (r *stubResource) Schema(_ context.Context, _ fwresource.SchemaRequest, resp *fwresource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
	}
	for _, a := range r.attrs {
		attrs[a] = schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}}
	}
	resp.Schema = schema.Schema{Attributes: attrs}
}

func (r *stubResource) Create(ctx context.Context, req fwresource.CreateRequest, resp *fwresource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
	var first types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root(r.attrs[0]), &first)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), first)...)
}
func (r *stubResource) Read(context.Context, fwresource.ReadRequest, *fwresource.ReadResponse) {}
func (r *stubResource) Update(_ context.Context, req fwresource.UpdateRequest, resp *fwresource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}
func (r *stubResource) Delete(context.Context, fwresource.DeleteRequest, *fwresource.DeleteResponse) {
}

// moveFactories serve azurepg and the stub postgresql provider in-process.
func moveFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"azurepg":    acctest.ProviderFactories["azurepg"],
		"postgresql": providerserver.NewProtocol6WithError(stubPostgresqlProvider{}),
	}
}

// roleOID is the role's oid on the server: the same role, not a new one.
func roleOID(t *testing.T, name string) uint32 {
	t.Helper()
	var oid uint32
	acctest.SuperQueryRow(t, "postgres", "SELECT oid FROM pg_roles WHERE rolname = $1", []any{name}, &oid)
	return oid
}

// expectMoved checks that the plan moves from → to and does nothing else to
// any resource: no create, update, delete or replacement.
type expectMoved struct{ from, to string }

func (e expectMoved) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	moved := false
	for _, rc := range req.Plan.ResourceChanges {
		a := rc.Change.Actions
		if a.Create() || a.Update() || a.Delete() || a.Replace() {
			resp.Error = fmt.Errorf("%s: planned %v, want neither create, update nor delete", rc.Address, a)
			return
		}
		if rc.Address == e.to && rc.PreviousAddress == e.from {
			if !a.NoOp() {
				resp.Error = fmt.Errorf("%s: planned %v, want a move only (no-op)", rc.Address, a)
				return
			}
			moved = true
		}
	}
	if !moved {
		resp.Error = fmt.Errorf("the plan does not move %s to %s", e.from, e.to)
	}
}

// TestPrincipalMoveFromPostgresqlRole: roles that the general provider's
// users made (postgresql_role plus a pgaadauth label) move to
// azurepg_principal with a moved block: no role is dropped or created, the
// attributes come from the server, and the labels' resource is forgotten.
func TestPrincipalMoveFromPostgresqlRole(t *testing.T) {
	acctest.Emulator(t)
	// "@", a space, both quotes, a semicolon and non-ASCII; created by Azure's function.
	user := acctest.NewObject(t, "user", `o'Hara "Zoë"; ña`)
	// The older single-label form that postgresql_security_label writes
	// ("aadauth,oid=...,type=..."), on a role made with CREATE ROLE.
	group := acctest.NewObject(t, "group", `Ops @ Zürich 'b'`)
	for _, n := range []string{user.Name, group.Name} {
		if len(n) > 63 {
			t.Fatalf("test name %q is %d bytes", n, len(n))
		}
	}
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, true)", user.Name)
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{group.Name}.Sanitize()+" LOGIN")
	acctest.SuperExec(t, "postgres", "SECURITY LABEL FOR pgaadauth ON ROLE "+pgx.Identifier{group.Name}.Sanitize()+
		" IS "+quoteLiteral("aadauth,oid="+group.ObjectID+",type=group"))
	t.Cleanup(func() {
		for _, n := range []string{user.Name, group.Name} {
			acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{n}.Sanitize())
		}
	})
	userOID, groupOID := roleOID(t, user.Name), roleOID(t, group.Name)

	before := fmt.Sprintf(`
resource "postgresql_role" "user" {
  name = %[1]q
}
resource "postgresql_role" "group" {
  name = %[2]q
}
resource "postgresql_security_label" "group" {
  object_type    = "role"
  object_name    = postgresql_role.group.name
  label_provider = "pgaadauth"
  label          = "aadauth,oid=%[3]s,type=group"
}
`, user.Name, group.Name, group.ObjectID)
	after := fmt.Sprintf(`
provider "azurepg" {}

moved {
  from = postgresql_role.user
  to   = azurepg_principal.user
}
resource "azurepg_principal" "user" {
  name = %[1]q
  mfa  = true
}

moved {
  from = postgresql_role.group
  to   = azurepg_principal.group
}
removed {
  from = postgresql_security_label.group
  lifecycle {
    destroy = false
  }
}
resource "azurepg_principal" "group" {
  name = %[2]q
}
`, user.Name, group.Name)

	sameRoles := func(*terraform.State) error {
		if got := roleOID(t, user.Name); got != userOID {
			return fmt.Errorf("role %q has oid %d, was %d: it was dropped and created again", user.Name, got, userOID)
		}
		if got := roleOID(t, group.Name); got != groupOID {
			return fmt.Errorf("role %q has oid %d, was %d: it was dropped and created again", group.Name, got, groupOID)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: moveFactories(),
		CheckDestroy:             checkRolesGone(t, user.Name, group.Name),
		Steps: []resource.TestStep{
			{Config: before, Check: sameRoles},
			{
				Config: after,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						expectMoved{from: "postgresql_role.user", to: "azurepg_principal.user"},
						expectMoved{from: "postgresql_role.group", to: "azurepg_principal.group"},
						plancheck.ExpectResourceAction("azurepg_principal.user", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("azurepg_principal.group", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("id"), knownvalue.StringExact(user.Name)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("name"), knownvalue.StringExact(user.Name)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("type"), knownvalue.StringExact("user")),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("object_id"), knownvalue.StringExact(user.ObjectID)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("admin"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("mfa"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("azurepg_principal.user", tfjsonpath.New("tenant_id"), knownvalue.StringExact(acctest.Emulator(t).TenantID())),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("name"), knownvalue.StringExact(group.Name)),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("type"), knownvalue.StringExact("group")),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("object_id"), knownvalue.StringExact(group.ObjectID)),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("admin"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_principal.group", tfjsonpath.New("mfa"), knownvalue.Bool(false)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					sameRoles,
					func(s *terraform.State) error {
						if _, ok := s.RootModule().Resources["postgresql_security_label.group"]; ok {
							return fmt.Errorf("postgresql_security_label.group is still in the state")
						}
						return nil
					},
					checkServerPrincipal(t, user.Name, "user", user.ObjectID, false, true),
				),
			},
		},
	})
}

// TestPrincipalMoveRefusesPlainRole: a postgresql_role without a pgaadauth
// label cannot become an azurepg_principal; the plan says so, names the role
// and shows the way out, and the role is left alone.
func TestPrincipalMoveRefusesPlainRole(t *testing.T) {
	acctest.Emulator(t)
	plain := acctest.Name(`plain "ro'le"; é@x`)
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{plain}.Sanitize()+" LOGIN")
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{plain}.Sanitize()) })
	oid := roleOID(t, plain)
	before := fmt.Sprintf(`
resource "postgresql_role" "app" {
  name = %q
}
`, plain)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: moveFactories(),
		Steps: []resource.TestStep{
			{Config: before},
			{
				Config: fmt.Sprintf(`
provider "azurepg" {}

moved {
  from = postgresql_role.app
  to   = azurepg_principal.app
}
resource "azurepg_principal" "app" {
  name = %q
}
`, plain),
				ExpectError: words("Moved role is not a Microsoft Entra principal", "postgresql_role", fmt.Sprintf("%q", plain),
					"plain PostgreSQL role", "no pgaadauth security label", "to = azurepg_role.<name>", "remove the moved block",
					"removed {", "destroy = false", "import {", "to = azurepg_principal.<name>"),
			},
			{
				// Nothing was moved: the old resource is still in the state.
				Config: before,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*terraform.State) error {
					if got := roleOID(t, plain); got != oid {
						return fmt.Errorf("role %q has oid %d, was %d", plain, got, oid)
					}
					return nil
				},
			},
		},
	})
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestPrincipalMoveNeedsRefresh: right after a move the state holds only
// the name (the mover cannot reach the server). A plan with -refresh=false
// would then see null admin and mfa and replace the role; it is refused
// instead, and a normal plan reads the labels and is empty. The state is
// the one the move writes, put in place by hand, with the real CLI.
func TestPrincipalMoveNeedsRefresh(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "user", `mv "nø refresh" o'k`)
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, true)", o.Name)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{o.Name}.Sanitize()) })
	oid := roleOID(t, o.Name)

	w := acctest.NewWorkdir(t, providerRequirements+fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name = %q
  mfa  = true
}
`, o.Name), nil)
	state, err := json.Marshal(map[string]any{
		"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": uuid.NewString(), "outputs": map[string]any{},
		"resources": []any{map[string]any{
			"mode": "managed", "type": "azurepg_principal", "name": "p",
			"provider": `provider["registry.terraform.io/azurepg/azurepg"]`,
			"instances": []any{map[string]any{
				"schema_version": 0,
				"attributes": map[string]any{"id": o.Name, "name": o.Name, "type": nil, "object_id": nil,
					"admin": nil, "mfa": nil, "tenant_id": nil},
				"sensitive_attributes": []any{},
			}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.Dir, "terraform.tfstate"), state, 0o600); err != nil {
		t.Fatal(err)
	}
	r := w.Run("plan", "-refresh=false", "-input=false", "-no-color")
	if r.Err == nil || !words("Moved principal has not been read from the server", fmt.Sprintf("%q", o.Name),
		"without -refresh=false").MatchString(r.Stdout+r.Stderr) {
		t.Fatalf("plan -refresh=false: err %v, want the not-yet-read error:\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	// With the refresh: nothing to do (exit code 0), the attributes read from the labels.
	w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	w.MustRun("plan", "-detailed-exitcode", "-input=false", "-no-color")
	got := w.State()["azurepg_principal.p"].Values
	want := map[string]any{"id": o.Name, "name": o.Name, "type": "user", "object_id": o.ObjectID, "admin": false,
		"mfa": true, "tenant_id": acctest.Emulator(t).TenantID(), "reassign_owned_to": nil, "host": nil, "port": nil}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("state after the refresh = %v, want %v", got, want)
	}
	if got := roleOID(t, o.Name); got != oid {
		t.Fatalf("role %q has oid %d, was %d: it was dropped and created again", o.Name, got, oid)
	}
}

// expectImportedOnly checks that the plan imports addr and neither creates,
// updates nor deletes anything (forgetting is allowed).
type expectImportedOnly struct{ addr string }

func (e expectImportedOnly) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	imported := false
	for _, rc := range req.Plan.ResourceChanges {
		a := rc.Change.Actions
		if a.Create() || a.Update() || a.Delete() || a.Replace() {
			resp.Error = fmt.Errorf("%s: planned %v, want neither create, update nor delete", rc.Address, a)
			return
		}
		if rc.Address == e.addr && rc.Change.Importing != nil && a.NoOp() {
			imported = true
		}
	}
	if !imported {
		resp.Error = fmt.Errorf("the plan does not import %s (and nothing else)", e.addr)
	}
}

// TestPrincipalMigrateRemovedImport: the other way to migrate, for any
// Terraform version the provider supports: removed blocks forget the
// postgresql_role and its label without touching the server, and an import
// block adopts the same role.
func TestPrincipalMigrateRemovedImport(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "group", `Rémi's "DBA" team;`)
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, true, false)", o.Name)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{o.Name}.Sanitize()) })
	oid := roleOID(t, o.Name)
	same := func(*terraform.State) error {
		if got := roleOID(t, o.Name); got != oid {
			return fmt.Errorf("role %q has oid %d, was %d: it was dropped and created again", o.Name, got, oid)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: moveFactories(),
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
resource "postgresql_role" "dbas" {
  name = %[1]q
}
resource "postgresql_security_label" "dbas" {
  object_type    = "role"
  object_name    = postgresql_role.dbas.name
  label_provider = "pgaadauth"
  label          = "aadauth,oid=%[2]s,type=group,admin"
}
`, o.Name, o.ObjectID),
			},
			{
				Config: fmt.Sprintf(`
provider "azurepg" {}

removed {
  from = postgresql_role.dbas
  lifecycle {
    destroy = false
  }
}
removed {
  from = postgresql_security_label.dbas
  lifecycle {
    destroy = false
  }
}
import {
  to = azurepg_principal.dbas
  id = %[1]q
}
resource "azurepg_principal" "dbas" {
  name  = %[1]q
  admin = true
}
`, o.Name),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{expectImportedOnly{addr: "azurepg_principal.dbas"}},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.dbas", tfjsonpath.New("type"), knownvalue.StringExact("group")),
					statecheck.ExpectKnownValue("azurepg_principal.dbas", tfjsonpath.New("object_id"), knownvalue.StringExact(o.ObjectID)),
					statecheck.ExpectKnownValue("azurepg_principal.dbas", tfjsonpath.New("admin"), knownvalue.Bool(true)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					same,
					checkServerPrincipal(t, o.Name, "group", o.ObjectID, true, false),
					func(s *terraform.State) error {
						for _, a := range []string{"postgresql_role.dbas", "postgresql_security_label.dbas"} {
							if _, ok := s.RootModule().Resources[a]; ok {
								return fmt.Errorf("%s is still in the state", a)
							}
						}
						return nil
					},
				),
			},
		},
	})
}
