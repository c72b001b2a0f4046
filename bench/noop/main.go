// Command terraform-provider-noop is the benchmark's floor: a
// terraform-plugin-framework provider (same framework version as azurepg)
// whose resource noop_principal has the same attributes, defaults and
// replace plan modifiers as azurepg_principal but does nothing: Create fills
// the computed values from the name, Read returns the state as it is, Delete
// forgets it; noop_grant, noop_role and noop_role_membership do the same for
// azurepg_grant (grant.go), azurepg_role and azurepg_role_membership
// (role.go). What it costs is what the plugin protocol and the framework
// cost, the floor for any provider.
package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/bench/cpuprof"
	"github.com/azurepg/terraform-provider-azurepg/internal/sdklog"
)

func main() {
	// As the real binary does (main.go): no SDK logging unless a TF_LOG* is set.
	sdklog.QuietUnlessAsked()
	// Only the benchmark's profiling pass sets AZUREPG_BENCH_PROFILE_DIR.
	stop, err := cpuprof.Start()
	if err != nil {
		log.Fatal(err)
	}
	err = providerserver.Serve(context.Background(), func() provider.Provider { return noopProvider{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/azurepg/noop"})
	stop()
	if err != nil {
		log.Fatal(err)
	}
}

type noopProvider struct{}

func (noopProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "noop"
	resp.Version = "bench"
}

func (noopProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{}
}

func (noopProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (noopProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return principal{} }, func() resource.Resource { return grant{} },
		func() resource.Resource { return role{} }, func() resource.Resource { return membership{} },
	}
}

func (noopProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

type principal struct{}

type principalModel struct {
	ID       types.String `tfsdk:"id"`
	Name     types.String `tfsdk:"name"`
	Type     types.String `tfsdk:"type"`
	ObjectID types.String `tfsdk:"object_id"`
	Admin    types.Bool   `tfsdk:"admin"`
	MFA      types.Bool   `tfsdk:"mfa"`
	TenantID types.String `tfsdk:"tenant_id"`
	Reassign types.String `tfsdk:"reassign_owned_to"`
	server
}

// server is the host and port every azurepg resource has (a fleet from one
// provider block): the no-op resources have them too, so that Terraform and
// the framework do the same work for both providers' schemas.
type server struct {
	Host types.String `tfsdk:"host"`
	Port types.Int64  `tfsdk:"port"`
}

func withServer(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	attrs["host"] = schema.StringAttribute{Optional: true}
	attrs["port"] = schema.Int64Attribute{Optional: true}
	return attrs
}

func (principal) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_principal"
}

func (principal) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	// As azurepg_principal: type, object_id and tenant_id use the state's
	// value when unknown.
	keep := func(m ...planmodifier.String) []planmodifier.String {
		return append(m, stringplanmodifier.UseStateForUnknown())
	}
	resp.Schema = schema.Schema{
		Attributes: withServer(map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true},
			"name": schema.StringAttribute{Required: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"type":              schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep(stringplanmodifier.RequiresReplaceIfConfigured())},
			"object_id":         schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep(stringplanmodifier.RequiresReplaceIfConfigured())},
			"admin":             schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
			"mfa":               schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
			"reassign_owned_to": schema.StringAttribute{Optional: true},
			"tenant_id":         schema.StringAttribute{Computed: true, PlanModifiers: keep()},
		}),
	}
}

func (principal) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m principalModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sum := sha256.Sum256([]byte(m.Name.ValueString()))
	m.ID = m.Name
	if m.Type.IsUnknown() {
		m.Type = types.StringValue("user")
	}
	if m.ObjectID.IsUnknown() {
		m.ObjectID = types.StringValue(fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]))
	}
	m.TenantID = types.StringValue("aaaabbbb-0000-cccc-1111-dddd2222eeee")
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (principal) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m principalModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (principal) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m principalModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func (principal) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
