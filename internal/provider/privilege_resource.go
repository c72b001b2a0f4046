package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// privilegeKind is what azurepg_grant and azurepg_default_privileges do
// differently. privilegeResource does the rest the same way for both: one
// write (apply) for create and update, read that forgets what is gone,
// revoke, the id in the plan, import by ID or identity. M is the model, T
// the pgaad target, R what pgaad reads back.
type privilegeKind[M, T, R any] struct {
	identity identityDef
	// target is the pgaad target a model describes.
	target func(ctx context.Context, m M, diags *diag.Diagnostics) T
	id     func(T) string
	// parseID reads an import ID; idForms says what it may look like.
	parseID func(string) (T, error)
	idForms string
	noun    string // "a grant's", for the import ID error
	// idParts are the arguments the id depends on: while one is unknown the
	// plan shows no id.
	idParts func(M) []attr.Value
	// privileges and withGrantOption are the model's attributes.
	privileges func(M) types.Set
	grantOpt   func(M) types.Bool
	// apply, read and revoke are pgaad's methods (method expressions).
	apply  func(c *pgaad.Client, ctx context.Context, t T, privileges []string, withGrantOption bool) (R, error)
	read   func(c *pgaad.Client, ctx context.Context, t T) (R, error)
	revoke func(c *pgaad.Client, ctx context.Context, t T) error
	// state is the model of what was read; prior is the plan or the state
	// before, to keep how the configuration wrote the privileges (nil: none).
	state func(t T, got R, prior *M) M
	// checkImport adds an error when what was read cannot be imported (nil: always can).
	checkImport func(t T, got R, diags *diag.Diagnostics)
	// server is the model's server; withServer the model on another.
	server     func(M) serverModel
	withServer func(M, serverModel) M
}

// privilegeResource is the CRUD shared by the privilege resources. The
// resource types embed it and add Metadata, Schema and ValidateConfig.
type privilegeResource[M, T, R any] struct {
	data *providerData
	kind privilegeKind[M, T, R]
}

func (r *privilegeResource[M, T, R]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *privilegeResource[M, T, R]) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = r.kind.identity.schema()
}

// write applies the plan and returns the state to keep.
func (r *privilegeResource[M, T, R]) write(ctx context.Context, plan M, diags *diag.Diagnostics) (M, T, bool) {
	var zero M
	t := r.kind.target(ctx, plan, diags)
	privs := privilegesOf(ctx, diags, r.kind.privileges(plan))
	client, d := r.data.clientOf(r.kind.server(plan))
	diags.Append(d...)
	if diags.HasError() {
		return zero, t, false
	}
	got, err := r.kind.apply(client, ctx, t, privs, r.kind.grantOpt(plan).ValueBool())
	if err != nil {
		addError(diags, err)
		return zero, t, false
	}
	return r.kind.withServer(r.kind.state(t, got, &plan), r.kind.server(plan)), t, true
}

func (r *privilegeResource[M, T, R]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m, t, ok := r.write(ctx, plan, &resp.Diagnostics); ok {
		resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
		resp.Diagnostics.Append(r.kind.identity.set(ctx, resp.Identity, nil, r.data.serverOf(r.kind.server(plan)), r.kind.id(t))...)
	}
}

func (r *privilegeResource[M, T, R]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m, t, ok := r.write(ctx, plan, &resp.Diagnostics); ok {
		resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
		resp.Diagnostics.Append(r.kind.identity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(r.kind.server(plan)), r.kind.id(t))...)
	}
}

func (r *privilegeResource[M, T, R]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t := r.kind.target(ctx, state, &resp.Diagnostics)
	// First: the framework wants the identity even from a Read that removes the resource.
	srv := r.kind.server(state)
	resp.Diagnostics.Append(r.kind.identity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), r.kind.id(t))...)
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := r.kind.read(client, ctx, t)
	if errors.Is(err, pgaad.ErrNotFound) || errors.Is(err, pgaad.ErrDatabaseMissing) {
		// The role, database or schema is gone, and the privileges with it.
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	prior := &state
	if r.kind.privileges(state).IsNull() {
		prior = nil // just moved: nothing to keep
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, r.kind.withServer(r.kind.state(t, got, prior), srv))...)
}

func (r *privilegeResource[M, T, R]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	client, diags := r.data.clientOf(r.kind.server(state))
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.kind.revoke(client, ctx, r.kind.target(ctx, state, &resp.Diagnostics)); err != nil {
		addError(&resp.Diagnostics, err)
	}
}

// ModifyPlan shows the id in the plan (it depends only on arguments) and
// refuses, at plan time, privileges the server's version lacks.
func (r *privilegeResource[M, T, R]) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.data.replaceIfServerMoved(ctx, req, resp)
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(r.data.checkServer(r.kind.server(plan))...)
	if resp.Diagnostics.HasError() || anyUnknown(r.kind.idParts(plan)...) {
		return
	}
	id := types.StringValue(r.kind.id(r.kind.target(ctx, plan, &resp.Diagnostics)))
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), id)...)
	checkMaintain(ctx, r.data, r.kind.server(plan), r.kind.privileges(plan), &resp.Diagnostics)
}

// ImportState takes the ID the schema describes, or an identity; a target
// whose role, database or schema does not exist is an error here, not an
// empty import.
func (r *privilegeResource[M, T, R]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id, srv, ok := r.kind.identity.importID(ctx, req, r.data, &resp.Diagnostics)
	if !ok {
		return
	}
	t, err := r.kind.parseID(id)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID %q is not %s: %v.\n\nIt is %s. %s",
			id, r.kind.noun, err, r.kind.idForms, strings.ReplaceAll(importIDEscaping, "`", "")))
		return
	}
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := r.kind.read(client, ctx, t)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	if r.kind.checkImport != nil {
		if r.kind.checkImport(t, got, &resp.Diagnostics); resp.Diagnostics.HasError() {
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, r.kind.withServer(r.kind.state(t, got, nil), srv))...)
	resp.Diagnostics.Append(r.kind.identity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), r.kind.id(t))...)
}

// anyUnknown reports whether a value is not known yet (at plan time).
func anyUnknown(vs ...attr.Value) bool {
	for _, v := range vs {
		if v.IsUnknown() {
			return true
		}
		if s, ok := v.(types.Set); ok {
			for _, e := range s.Elements() {
				if e.IsUnknown() {
					return true
				}
			}
		}
	}
	return false
}
