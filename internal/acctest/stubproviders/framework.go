package stubproviders

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// New returns the framework provider that serves p's schemas.
func New(p Provider) func() provider.Provider {
	return func() provider.Provider { return &stubProvider{p: p} }
}

const stubError = "this is a schema-only stub of the %s provider, for terraform validate in the azurepg provider's tests; it cannot plan changes that need the real provider, apply or read (unless " + StandInEnv + " makes it a stand-in)"

type stubProvider struct{ p Provider }

func (s *stubProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = s.p.TypeName
}

func (s *stubProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{Attributes: providerAttrs(s.p.Config.Attrs), Blocks: providerBlocks(s.p.Config.Blocks)}
}

func (s *stubProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (s *stubProvider) Resources(context.Context) []func() resource.Resource {
	var out []func() resource.Resource
	for name, sc := range s.p.Resources {
		out = append(out, func() resource.Resource { return &stubResource{provider: s.p.TypeName, name: name, s: sc} })
	}
	return out
}

func (s *stubProvider) DataSources(context.Context) []func() datasource.DataSource {
	var out []func() datasource.DataSource
	for name, sc := range s.p.DataSources {
		out = append(out, func() datasource.DataSource { return &stubDataSource{provider: s.p.TypeName, name: name, s: sc} })
	}
	return out
}

type stubResource struct {
	provider, name string
	s              Schema
}

var _ resource.ResourceWithConfigValidators = &stubResource{}

func (r *stubResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = r.name
}

func (r *stubResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := resourceAttrs(r.s.Attrs)
	if _, ok := attrs["id"]; !ok {
		attrs["id"] = rschema.StringAttribute{Computed: true}
	}
	resp.Schema = rschema.Schema{Attributes: attrs, Blocks: resourceBlocks(r.s.Blocks)}
}

func (r *stubResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	var out []resource.ConfigValidator
	for _, g := range r.s.ExactlyOneOf {
		out = append(out, resourcevalidator.ExactlyOneOf(roots(g)...))
	}
	for _, g := range r.s.Conflicting {
		out = append(out, resourcevalidator.Conflicting(roots(g)...))
	}
	for _, g := range r.s.RequiredTogether {
		out = append(out, resourcevalidator.RequiredTogether(roots(g)...))
	}
	return out
}

func (r *stubResource) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(req.Plan.Raw, &resp.State, &resp.Diagnostics)
}

// Read keeps the state as it is: a stand-in has nothing else to read.
func (r *stubResource) Read(_ context.Context, _ resource.ReadRequest, resp *resource.ReadResponse) {
	if _, ok := standInOrError(r.provider, &resp.Diagnostics); !ok {
		return
	}
}

func (r *stubResource) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(req.Plan.Raw, &resp.State, &resp.Diagnostics)
}

func (r *stubResource) Delete(_ context.Context, _ resource.DeleteRequest, resp *resource.DeleteResponse) {
	standInOrError(r.provider, &resp.Diagnostics)
}

// apply makes the planned value the state, its unknown values filled in.
func (r *stubResource) apply(plan tftypes.Value, state *tfsdk.State, diags *diag.Diagnostics) {
	s, ok := standInOrError(r.provider, diags)
	if !ok {
		return
	}
	v, err := s.fillUnknown(r.name, plan)
	if err != nil {
		diags.AddError("Stand-in "+r.name, err.Error())
		return
	}
	state.Raw = v
}

// standInOrError returns the stand-in's values, or adds the stub's error
// when the stubs are not stand-ins (StandInEnv unset).
func standInOrError(provider string, diags *diag.Diagnostics) (StandInValues, bool) {
	s, err := loadStandIn()
	switch {
	case err != nil:
		diags.AddError("Stand-in values", err.Error())
		return nil, false
	case s == nil:
		diags.AddError("Stub provider", fmt.Sprintf(stubError, provider))
		return nil, false
	}
	return s, true
}

type stubDataSource struct {
	provider, name string
	s              Schema
}

var _ datasource.DataSourceWithConfigValidators = &stubDataSource{}

func (d *stubDataSource) Metadata(_ context.Context, _ datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = d.name
}

func (d *stubDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := dataSourceAttrs(d.s.Attrs)
	if _, ok := attrs["id"]; !ok {
		attrs["id"] = dschema.StringAttribute{Computed: true}
	}
	resp.Schema = dschema.Schema{Attributes: attrs, Blocks: dataSourceBlocks(d.s.Blocks)}
}

func (d *stubDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	var out []datasource.ConfigValidator
	for _, g := range d.s.ExactlyOneOf {
		out = append(out, datasourcevalidator.ExactlyOneOf(roots(g)...))
	}
	for _, g := range d.s.Conflicting {
		out = append(out, datasourcevalidator.Conflicting(roots(g)...))
	}
	for _, g := range d.s.RequiredTogether {
		out = append(out, datasourcevalidator.RequiredTogether(roots(g)...))
	}
	return out
}

func (d *stubDataSource) Read(_ context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	s, ok := standInOrError(d.provider, &resp.Diagnostics)
	if !ok {
		return
	}
	v, err := s.fillComputed(d.name, d.s, req.Config.Raw)
	if err != nil {
		resp.Diagnostics.AddError("Stand-in "+d.name, err.Error())
		return
	}
	resp.State.Raw = v
}

func roots(names []string) []path.Expression {
	out := make([]path.Expression, len(names))
	for i, n := range names {
		out[i] = path.MatchRoot(n)
	}
	return out
}

func stringValidators(a Attr) []validator.String {
	if len(a.OneOf) == 0 {
		return nil
	}
	return []validator.String{stringvalidator.OneOf(a.OneOf...)}
}

func listValidators(b Block) []validator.List {
	var v []validator.List
	if b.Min > 0 {
		v = append(v, blocksAtLeast{b.Min})
	}
	if b.Max > 0 {
		v = append(v, listvalidator.SizeAtMost(b.Max))
	}
	return v
}

func setValidators(b Block) []validator.Set {
	var v []validator.Set
	if b.Min > 0 {
		v = append(v, setvalidator.SizeAtLeast(b.Min))
	}
	if b.Max > 0 {
		v = append(v, setvalidator.SizeAtMost(b.Max))
	}
	return v
}

// The three schema packages of the framework have the same shapes but
// distinct types; one converter each.

func resourceAttrs(in map[string]Attr) map[string]rschema.Attribute {
	out := map[string]rschema.Attribute{}
	for name, a := range in {
		out[name] = resourceAttr(a)
	}
	return out
}

func resourceAttr(a Attr) rschema.Attribute {
	switch t := a.Type.(type) {
	case nil:
		return rschema.DynamicAttribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, WriteOnly: a.WriteOnly}
	case types.ListType:
		return rschema.ListAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, WriteOnly: a.WriteOnly}
	case types.SetType:
		return rschema.SetAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.MapType:
		return rschema.MapAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, WriteOnly: a.WriteOnly}
	case types.ObjectType:
		return rschema.ObjectAttribute{AttributeTypes: t.AttrTypes, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, WriteOnly: a.WriteOnly}
	}
	switch a.Type {
	case types.BoolType:
		return rschema.BoolAttribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, WriteOnly: a.WriteOnly}
	case types.Int64Type:
		return rschema.Int64Attribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, WriteOnly: a.WriteOnly}
	case types.StringType:
		return rschema.StringAttribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, WriteOnly: a.WriteOnly, Validators: stringValidators(a)}
	}
	panic(fmt.Sprintf("stubproviders: no resource attribute for type %v", a.Type))
}

func resourceBlocks(in map[string]Block) map[string]rschema.Block {
	out := map[string]rschema.Block{}
	for name, b := range in {
		obj := rschema.NestedBlockObject{Attributes: resourceAttrs(b.Attrs), Blocks: resourceBlocks(b.Blocks)}
		switch b.Nesting {
		case Set:
			out[name] = rschema.SetNestedBlock{NestedObject: obj, Validators: setValidators(b)}
		case Single:
			out[name] = rschema.SingleNestedBlock{Attributes: obj.Attributes, Blocks: obj.Blocks}
		default:
			out[name] = rschema.ListNestedBlock{NestedObject: obj, Validators: listValidators(b)}
		}
	}
	return out
}

func dataSourceAttrs(in map[string]Attr) map[string]dschema.Attribute {
	out := map[string]dschema.Attribute{}
	for name, a := range in {
		out[name] = dataSourceAttr(a)
	}
	return out
}

func dataSourceAttr(a Attr) dschema.Attribute {
	switch t := a.Type.(type) {
	case nil:
		return dschema.DynamicAttribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.ListType:
		return dschema.ListAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.SetType:
		return dschema.SetAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.MapType:
		return dschema.MapAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.ObjectType:
		return dschema.ObjectAttribute{AttributeTypes: t.AttrTypes, Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	}
	switch a.Type {
	case types.BoolType:
		return dschema.BoolAttribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.Int64Type:
		return dschema.Int64Attribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.StringType:
		return dschema.StringAttribute{Required: a.Required, Optional: a.Optional, Computed: a.Computed, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, Validators: stringValidators(a)}
	}
	panic(fmt.Sprintf("stubproviders: no data source attribute for type %v", a.Type))
}

func dataSourceBlocks(in map[string]Block) map[string]dschema.Block {
	out := map[string]dschema.Block{}
	for name, b := range in {
		obj := dschema.NestedBlockObject{Attributes: dataSourceAttrs(b.Attrs), Blocks: dataSourceBlocks(b.Blocks)}
		switch b.Nesting {
		case Set:
			out[name] = dschema.SetNestedBlock{NestedObject: obj, Validators: setValidators(b)}
		case Single:
			out[name] = dschema.SingleNestedBlock{Attributes: obj.Attributes, Blocks: obj.Blocks}
		default:
			out[name] = dschema.ListNestedBlock{NestedObject: obj, Validators: listValidators(b)}
		}
	}
	return out
}

// Provider blocks have no computed values.
func providerAttrs(in map[string]Attr) map[string]pschema.Attribute {
	out := map[string]pschema.Attribute{}
	for name, a := range in {
		out[name] = providerAttr(a)
	}
	return out
}

func providerAttr(a Attr) pschema.Attribute {
	switch t := a.Type.(type) {
	case types.ListType:
		return pschema.ListAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.SetType:
		return pschema.SetAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.MapType:
		return pschema.MapAttribute{ElementType: t.ElemType, Required: a.Required, Optional: a.Optional, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	}
	switch a.Type {
	case types.BoolType:
		return pschema.BoolAttribute{Required: a.Required, Optional: a.Optional, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.Int64Type:
		return pschema.Int64Attribute{Required: a.Required, Optional: a.Optional, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated}
	case types.StringType:
		return pschema.StringAttribute{Required: a.Required, Optional: a.Optional, Sensitive: a.Sensitive, DeprecationMessage: a.Deprecated, Validators: stringValidators(a)}
	}
	panic(fmt.Sprintf("stubproviders: no provider attribute for type %v", a.Type))
}

func providerBlocks(in map[string]Block) map[string]pschema.Block {
	out := map[string]pschema.Block{}
	for name, b := range in {
		obj := pschema.NestedBlockObject{Attributes: providerAttrs(b.Attrs), Blocks: providerBlocks(b.Blocks)}
		switch b.Nesting {
		case Set:
			out[name] = pschema.SetNestedBlock{NestedObject: obj, Validators: setValidators(b)}
		case Single:
			out[name] = pschema.SingleNestedBlock{Attributes: obj.Attributes, Blocks: obj.Blocks}
		default:
			out[name] = pschema.ListNestedBlock{NestedObject: obj, Validators: listValidators(b)}
		}
	}
	return out
}

// blocksAtLeast is MinItems of a block. Unlike listvalidator.SizeAtLeast it
// also fails when the block is absent (null), as Terraform does for a
// provider's MinItems (azurerm without features {}: "Insufficient features
// blocks").
type blocksAtLeast struct{ min int }

func (v blocksAtLeast) Description(context.Context) string {
	return fmt.Sprintf("at least %d blocks", v.min)
}

func (v blocksAtLeast) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v blocksAtLeast) ValidateList(_ context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsUnknown() {
		return
	}
	if n := len(req.ConfigValue.Elements()); n < v.min {
		resp.Diagnostics.AddAttributeError(req.Path, fmt.Sprintf("Insufficient %s blocks", req.Path),
			fmt.Sprintf("At least %d %q blocks are required, got %d.", v.min, req.Path, n))
	}
}
