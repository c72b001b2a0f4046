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

// identityHostAttr and identityPortAttr are the server's part of every
// identity. The port is there only when the resource names one: Azure
// servers answer on 5432 (PgBouncer's 6432 is the same server), and a
// fleet reached through tunnels or proxies on other ports needs it to
// import by identity from the right server.
const (
	identityHostAttr = "host"
	identityPortAttr = "port"
)

func (d identityDef) schema() identityschema.Schema {
	attrs := map[string]identityschema.Attribute{
		identityHostAttr: identityschema.StringAttribute{
			OptionalForImport: true,
			Description: "The server's host name (case-insensitive): the resource's `host`, else the provider's. " +
				"Optional in an import block: it defaults to the provider's host; another host must be in the provider's `allowed_hosts`.",
		},
		identityPortAttr: identityschema.Int64Attribute{
			OptionalForImport: true,
			Description: "The server's port when the resource names one (its `port`); null: the provider's. " +
				"Optional in an import block: it defaults to the provider's port.",
		},
	}
	for _, p := range d.parts {
		attrs[p.attr] = identityschema.StringAttribute{RequiredForImport: true, Description: p.description}
	}
	return identityschema.Schema{Attributes: attrs}
}

// set writes the identity: the prior identity's server when it has one
// (an identity must not change), else srv; values in the order of
// d.parts. out may be nil (no identity support in the request), and then
// set does nothing.
func (d identityDef) set(ctx context.Context, out, prior *tfsdk.ResourceIdentity, srv identityServer, values ...string) diag.Diagnostics {
	var diags diag.Diagnostics
	if out == nil {
		return diags
	}
	h, port := types.StringValue(strings.ToLower(srv.host)), srv.port
	if prior != nil && !prior.Raw.IsNull() {
		var old types.String
		var oldPort types.Int64
		diags.Append(prior.GetAttribute(ctx, path.Root(identityHostAttr), &old)...)
		diags.Append(prior.GetAttribute(ctx, path.Root(identityPortAttr), &oldPort)...)
		if old.ValueString() != "" {
			h, port = old, oldPort
		}
	}
	diags.Append(out.SetAttribute(ctx, path.Root(identityHostAttr), h)...)
	diags.Append(out.SetAttribute(ctx, path.Root(identityPortAttr), port)...)
	for i, p := range d.parts {
		diags.Append(out.SetAttribute(ctx, path.Root(p.attr), types.StringValue(values[i]))...)
	}
	return diags
}

// fromImport returns the names from an import block's identity, in the
// order of d.parts, and the server it names (null host and port when it
// is the provider's); ok is false when the import used an ID instead.
// A host that the provider may not log in to is an error.
func (d identityDef) fromImport(ctx context.Context, req resource.ImportStateRequest, data *providerData) (values []string, srv serverModel, ok bool, diags diag.Diagnostics) {
	srv = serverModel{Host: types.StringNull(), Port: types.Int64Null()}
	if req.ID != "" || req.Identity == nil || req.Identity.Raw.IsNull() {
		return nil, srv, false, nil
	}
	var host types.String
	var port types.Int64
	diags.Append(req.Identity.GetAttribute(ctx, path.Root(identityHostAttr), &host)...)
	diags.Append(req.Identity.GetAttribute(ctx, path.Root(identityPortAttr), &port)...)
	// Identities always carry a host (what terraform query writes into
	// import blocks): the provider's own server is stored as null host
	// and port, as the configuration that query generates has it. A
	// configuration that names it all the same plans an update in place,
	// not a replacement (replaceIfServerMoved).
	if p := port.ValueInt64(); !port.IsNull() && (p < 1 || p > 65535) {
		diags.AddAttributeError(path.Root(identityPortAttr), "Invalid port",
			fmt.Sprintf("The import block's identity for %s names port %d; a port is from 1 to 65535.", d.resource, port.ValueInt64()))
		return nil, srv, false, diags
	}
	providers := (host.ValueString() == "" || strings.EqualFold(host.ValueString(), data.host())) &&
		(port.IsNull() || int(port.ValueInt64()) == data.port())
	if !providers {
		if h := host.ValueString(); h != "" {
			if err := data.checkAllowed(h); err != nil {
				diags.AddAttributeError(path.Root(identityHostAttr), "Server not allowed",
					fmt.Sprintf("The import block's identity for %s names another server: %s.", d.resource, err))
				return nil, srv, false, diags
			}
			srv.Host = types.StringValue(h)
		}
		srv.Port = port
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
	return values, srv, !diags.HasError(), diags
}

// importID is the import ID of a resource whose identity has one part
// (besides the server), and the server it names: from the import block's
// identity, or from req.ID, which may name the server
// (azurepg://host[:port]/<id>). ok false: an error was added to diags.
func (d identityDef) importID(ctx context.Context, req resource.ImportStateRequest, data *providerData, diags *diag.Diagnostics) (id string, srv serverModel, ok bool) {
	v, srv, fromIdentity, ds := d.fromImport(ctx, req, data)
	if diags.Append(ds...); diags.HasError() {
		return "", srv, false
	}
	if fromIdentity {
		return v[0], srv, true
	}
	return importIDServer(req.ID, data, diags)
}

// importFields is importID for an identity of several parts: the import
// ID (after the server, if it names one) is decoded into them.
func (d identityDef) importFields(ctx context.Context, req resource.ImportStateRequest, data *providerData,
	decode func(string) ([]string, error), diags *diag.Diagnostics) (fields []string, srv serverModel, ok bool) {
	v, srv, fromIdentity, ds := d.fromImport(ctx, req, data)
	if diags.Append(ds...); diags.HasError() {
		return nil, srv, false
	}
	if fromIdentity {
		return v, srv, true
	}
	rest, srv, ok := importIDServer(req.ID, data, diags)
	if !ok {
		return nil, srv, false
	}
	fields, err := decode(rest)
	if err != nil {
		diags.AddError("Invalid import ID", err.Error())
		return nil, srv, false
	}
	return fields, srv, true
}

// importIDServer splits an import ID that may name the server, and refuses
// a server the provider may not log in to.
func importIDServer(id string, data *providerData, diags *diag.Diagnostics) (string, serverModel, bool) {
	srv, rest, err := splitServerImportID(id)
	if err != nil {
		diags.AddError("Invalid import ID", err.Error())
		return "", srv, false
	}
	// The host is kept as the ID writes it: the configuration that the
	// import matches names it too (the plain ID is the provider's server).
	if h := srv.Host.ValueString(); h != "" && !strings.EqualFold(h, data.host()) {
		if err := data.checkAllowed(h); err != nil {
			diags.AddError("Server not allowed", "The import ID names another server: "+err.Error()+".")
			return "", srv, false
		}
	}
	return rest, srv, true
}

// port is the port the provider connects to (0 when not configured).
func (d *providerData) port() int {
	if d == nil {
		return 0
	}
	return d.settings.Port
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
