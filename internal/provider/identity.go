package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Resource identity (Terraform 1.12+): the server's host plus what names the
// object on it. One identityDef per resource type; a resource adds identity
// with four calls: IdentitySchema returns def.schema(), Create / Read /
// Update call def.set, and ImportState calls def.fromImport before falling
// back to its import ID. Terraform 1.11 ignores all of it.
//
// The host is written in lower case (host names are case-insensitive) and,
// once in the state, kept as it is: an identity must not change, and a
// provider that reaches the same server under another name (an alias, an IP)
// still manages the same object.

// identityPart is one attribute of an identity after the host.
type identityPart struct {
	attr, description string
}

type identityDef struct {
	resource string // e.g. "azurepg_extension", for messages
	parts    []identityPart
}

const identityHostAttr = "host"

func (d identityDef) schema() identityschema.Schema {
	attrs := map[string]identityschema.Attribute{
		identityHostAttr: identityschema.StringAttribute{
			OptionalForImport: true,
			Description: "The server's host name, as the provider's `host` (case-insensitive). " +
				"Optional in an import block: it defaults to the provider's host, and a different host is an error.",
		},
	}
	for _, p := range d.parts {
		attrs[p.attr] = identityschema.StringAttribute{RequiredForImport: true, Description: p.description}
	}
	return identityschema.Schema{Attributes: attrs}
}

// set writes the identity: the prior identity's host when it has one, else
// host; values in the order of d.parts. out may be nil (no identity support
// in the request), and then set does nothing.
func (d identityDef) set(ctx context.Context, out, prior *tfsdk.ResourceIdentity, host string, values ...string) diag.Diagnostics {
	var diags diag.Diagnostics
	if out == nil {
		return diags
	}
	h := types.StringValue(strings.ToLower(host))
	if prior != nil && !prior.Raw.IsNull() {
		var old types.String
		diags.Append(prior.GetAttribute(ctx, path.Root(identityHostAttr), &old)...)
		if old.ValueString() != "" {
			h = old
		}
	}
	diags.Append(out.SetAttribute(ctx, path.Root(identityHostAttr), h)...)
	for i, p := range d.parts {
		diags.Append(out.SetAttribute(ctx, path.Root(p.attr), types.StringValue(values[i]))...)
	}
	return diags
}

// fromImport returns the names from an import block's identity, in the
// order of d.parts; ok is false when the import used an ID instead. A host
// other than the provider's is an error: the provider cannot read an object
// on another server.
func (d identityDef) fromImport(ctx context.Context, req resource.ImportStateRequest, providerHost string) (values []string, ok bool, diags diag.Diagnostics) {
	if req.ID != "" || req.Identity == nil || req.Identity.Raw.IsNull() {
		return nil, false, nil
	}
	var host types.String
	diags.Append(req.Identity.GetAttribute(ctx, path.Root(identityHostAttr), &host)...)
	if h := host.ValueString(); h != "" && !strings.EqualFold(h, providerHost) {
		diags.AddAttributeError(path.Root(identityHostAttr), "Identity names another server",
			fmt.Sprintf("The import block's identity has host = %q, but this %s's provider connects to %q. "+
				"Import it with a provider configured for %q (an aliased provider block and provider = ... in the import block), "+
				"or leave host out of the identity.", h, d.resource, providerHost, h))
		return nil, false, diags
	}
	for _, p := range d.parts {
		var v types.String
		diags.Append(req.Identity.GetAttribute(ctx, path.Root(p.attr), &v)...)
		if v.ValueString() == "" && !diags.HasError() {
			diags.AddAttributeError(path.Root(p.attr), "Missing identity attribute",
				fmt.Sprintf("The import block's identity for %s needs %s.", d.resource, p.attr))
		}
		values = append(values, v.ValueString())
	}
	return values, !diags.HasError(), diags
}

// importID is the import ID of a resource whose identity has one part
// (besides host): req.ID, or that part of the import block's identity.
// ok false: an error was added to diags.
func (d identityDef) importID(ctx context.Context, req resource.ImportStateRequest, providerHost string, diags *diag.Diagnostics) (id string, ok bool) {
	v, fromIdentity, ds := d.fromImport(ctx, req, providerHost)
	if diags.Append(ds...); diags.HasError() {
		return "", false
	}
	if fromIdentity {
		return v[0], true
	}
	return req.ID, true
}

// host is the host the provider connects to ("" when not configured).
func (d *providerData) host() string {
	if d == nil {
		return ""
	}
	return d.settings.Host
}

var (
	principalIdentity = identityDef{resource: "azurepg_principal", parts: []identityPart{
		{"name", "The role name, exactly (case-sensitive)."},
	}}
	roleIdentity = identityDef{resource: "azurepg_role", parts: []identityPart{
		{"name", "The role name, exactly (case-sensitive)."},
	}}
	extensionIdentity = identityDef{resource: "azurepg_extension", parts: []identityPart{
		{"database", "The database the extension is installed in."},
		{"name", "The extension name, e.g. `vector`."},
	}}
	roleMembershipIdentity = identityDef{resource: "azurepg_role_membership", parts: []identityPart{
		{"role", "The role granted, exactly (case-sensitive)."},
		{"member", "The role that receives it, exactly (case-sensitive)."},
	}}
	schemaIdentity = identityDef{resource: "azurepg_schema", parts: []identityPart{
		{"database", "The database that holds the schema."},
		{"name", "The schema name, exactly (case-sensitive)."},
	}}
	aiSettingsIdentity = identityDef{resource: "azurepg_ai_settings", parts: []identityPart{
		{"database", "The database whose `azure_ai` settings these are."},
	}}
	// A grant names a variable number of objects: its identity is its
	// import ID (fields joined by "/", "%" and "/" escaped).
	grantIdentity = identityDef{resource: "azurepg_grant", parts: []identityPart{
		{"id", "The import ID, e.g. `orders-api/orders/table/sales` (see Import)."},
	}}
	defaultPrivilegesIdentity = identityDef{resource: "azurepg_default_privileges", parts: []identityPart{
		{"id", "The import ID, e.g. `orders-api/orders/orders_owner/table/sales` (see Import)."},
	}}
)
