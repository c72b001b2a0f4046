package provider

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	actionschema "github.com/hashicorp/terraform-plugin-framework/action/schema"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	listschema "github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// The server of one resource, data source, list resource or action: its
// optional host and port override the provider's, with the provider's
// credentials and TLS settings, so that one provider block manages a fleet
// (for_each over servers). Every model embeds serverModel; the provider
// refuses a host that its block does not allow (allowed_hosts) before any
// token is fetched.

// serverModel is the host and port a model may set (null: the provider's).
type serverModel struct {
	Host types.String `tfsdk:"host"`
	Port types.Int64  `tfsdk:"port"`
}

// hostPort is the override as ClientFor takes it ("" and 0: the provider's).
func (m serverModel) hostPort() (string, int) {
	return m.Host.ValueString(), int(m.Port.ValueInt64())
}

const (
	serverHostDescription = "The server this %s is on, when it is not the provider's `host`: its host name, e.g. " +
		"`pg-weu-prod.postgres.database.azure.com`. The provider's credentials and TLS settings are used, and the host must be " +
		"the provider's `host` or listed in its `allowed_hosts` (checked at plan time, before any token is sent). Default: the " +
		"provider's `host`."
	serverPortDescription = "The server's port, when `host` is set and the port is not the provider's. Default: the provider's `port`."
	serverReplaceNote     = " Changing it replaces the %s."
)

var (
	hostValidators = []validator.String{stringvalidator.LengthAtLeast(1)}
	portValidators = []validator.Int64{int64validator.Between(1, 65535)}
)

// serverResourceAttributes adds host and port to a resource's attributes.
// Naming another server replaces the resource (it is another server's
// object); the resource's ModifyPlan decides that (replaceIfServerMoved),
// since only it knows the provider's host and port, which a null host or
// port stands for.
func serverResourceAttributes(attrs map[string]schema.Attribute, what string) map[string]schema.Attribute {
	attrs["host"] = schema.StringAttribute{
		Optional: true,
		MarkdownDescription: fmt.Sprintf(serverHostDescription+serverReplaceNote, what, what) + " " + serverSameNote + " " +
			serverImportNote,
		Validators: hostValidators,
	}
	attrs["port"] = schema.Int64Attribute{
		Optional:            true,
		MarkdownDescription: serverPortDescription + fmt.Sprintf(serverReplaceNote, what),
		Validators:          portValidators,
	}
	return attrs
}

// serverSameNote: what does not count as naming another server.
const serverSameNote = "Writing the provider's own host (in any case) or port, or removing them, is not another server: " +
	"the plan updates the attribute in place."

// replaceIfServerMoved, called by every resource's ModifyPlan, replaces the
// resource when its plan names another server than its state: host names
// compare without regard to case, and a null host or port is the
// provider's. An unknown host or port, or a provider whose own host is not
// known yet, replaces unless the values are the same as written.
func (d *providerData) replaceIfServerMoved(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return // create or destroy
	}
	was := serverIn(ctx, req.State, &resp.Diagnostics)
	now := serverIn(ctx, req.Plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	hostMoved, portMoved := !was.Host.Equal(now.Host), !was.Port.Equal(now.Port)
	if d != nil && d.problem == "" && !now.Host.IsUnknown() && !now.Port.IsUnknown() {
		wasHost, wasPort := d.effectiveServer(was)
		nowHost, nowPort := d.effectiveServer(now)
		hostMoved, portMoved = wasHost != nowHost, wasPort != nowPort
	}
	if hostMoved {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("host"))
	}
	if portMoved {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("port"))
	}
}

// effectiveServer is the host (lower case) and port a model's object is
// on, the provider's standing in for a null host or port.
func (d *providerData) effectiveServer(m serverModel) (string, int) {
	host, port := m.hostPort()
	if host == "" {
		host = d.settings.Host
	}
	if port == 0 {
		port = d.settings.Port
	}
	return strings.ToLower(host), port
}

// serverDataSourceAttributes adds host and port to a data source's attributes.
func serverDataSourceAttributes(attrs map[string]dsschema.Attribute, what string) map[string]dsschema.Attribute {
	attrs["host"] = dsschema.StringAttribute{Optional: true, MarkdownDescription: fmt.Sprintf(serverHostDescription, what), Validators: hostValidators}
	attrs["port"] = dsschema.Int64Attribute{Optional: true, MarkdownDescription: serverPortDescription, Validators: portValidators}
	return attrs
}

// serverListAttributes adds host and port to a list resource's attributes.
func serverListAttributes(attrs map[string]listschema.Attribute, what string) map[string]listschema.Attribute {
	attrs["host"] = listschema.StringAttribute{Optional: true, MarkdownDescription: fmt.Sprintf(serverHostDescription, what), Validators: hostValidators}
	attrs["port"] = listschema.Int64Attribute{Optional: true, MarkdownDescription: serverPortDescription, Validators: portValidators}
	return attrs
}

// serverActionAttributes adds host and port to an action's attributes.
func serverActionAttributes(attrs map[string]actionschema.Attribute, what string) map[string]actionschema.Attribute {
	attrs["host"] = actionschema.StringAttribute{Optional: true, MarkdownDescription: fmt.Sprintf(serverHostDescription, what), Validators: hostValidators}
	attrs["port"] = actionschema.Int64Attribute{Optional: true, MarkdownDescription: serverPortDescription, Validators: portValidators}
	return attrs
}

// clientOf is the client of the model's server.
func (d *providerData) clientOf(m serverModel) (*pgaad.Client, diag.Diagnostics) {
	return d.ClientFor(m.hostPort())
}

// checkServer refuses, at plan time, a host the provider may not log in
// to. Unknown values and an unconfigured provider (validate) pass: the
// apply checks again before it connects.
func (d *providerData) checkServer(m serverModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if d == nil || d.problem != "" || m.Host.IsNull() || m.Host.IsUnknown() {
		return diags
	}
	if err := d.checkAllowed(m.Host.ValueString()); err != nil {
		diags.AddAttributeError(path.Root("host"), "Server not allowed", err.Error()+".")
	}
	return diags
}

// serverIn reads host and port from a plan, state or configuration.
func serverIn(ctx context.Context, g attrGetter, diags *diag.Diagnostics) serverModel {
	var m serverModel
	diags.Append(g.GetAttribute(ctx, path.Root("host"), &m.Host)...)
	diags.Append(g.GetAttribute(ctx, path.Root("port"), &m.Port)...)
	return m
}

// setServer writes host and port into a state (e.g. after an import).
func setServer(ctx context.Context, st *tfsdk.State, m serverModel, diags *diag.Diagnostics) {
	diags.Append(st.SetAttribute(ctx, path.Root("host"), m.Host)...)
	diags.Append(st.SetAttribute(ctx, path.Root("port"), m.Port)...)
}

// checkServerIn is checkServer for the host of a plan or configuration.
func (d *providerData) checkServerIn(ctx context.Context, g attrGetter) diag.Diagnostics {
	var m serverModel
	diags := g.GetAttribute(ctx, path.Root("host"), &m.Host)
	if diags.HasError() {
		return diags
	}
	return d.checkServer(m)
}

// identityServer is the server part of a resource identity: the host
// (the resource's, else the provider's) and the port when the resource
// names one (null: the provider's).
type identityServer struct {
	host string
	port types.Int64
}

// serverOf is the server a model's object is on, for its identity.
func (d *providerData) serverOf(m serverModel) identityServer {
	s := identityServer{host: m.Host.ValueString(), port: types.Int64Null()}
	if s.host == "" {
		s.host = d.host()
	}
	if !m.Port.IsNull() && !m.Port.IsUnknown() {
		s.port = m.Port
	}
	return s
}

// serverImportPrefix begins an import ID that names the server:
// azurepg://<host>[:<port>]/<the resource's own import ID>.
const serverImportPrefix = "azurepg://"

// serverImportNote documents that form in each importable resource.
const serverImportNote = "An object on another server than the provider's takes the import ID " +
	"`azurepg://<host>[:<port>]/<import ID>`, e.g. `azurepg://pg-weu.postgres.database.azure.com/alice@contoso.com`; the host " +
	"must be the provider's or in its `allowed_hosts`."

// splitServerImportID reads an import ID that may name the server: the
// server (null host and port when the ID does not name one) and the rest.
func splitServerImportID(id string) (serverModel, string, error) {
	m := serverModel{Host: types.StringNull(), Port: types.Int64Null()}
	rest, ok := strings.CutPrefix(id, serverImportPrefix)
	if !ok {
		return m, id, nil
	}
	hostPort, rest, ok := strings.Cut(rest, "/")
	if !ok || hostPort == "" {
		return m, "", fmt.Errorf("an import ID that names the server is %s<host>[:<port>]/<import ID>; %q has no \"/\" after the host",
			serverImportPrefix, id)
	}
	host := hostPort
	if h, p, err := net.SplitHostPort(hostPort); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return m, "", fmt.Errorf("the port in the import ID %q is not a number from 1 to 65535", id)
		}
		host, m.Port = h, types.Int64Value(int64(n))
	}
	m.Host = types.StringValue(host)
	return m, rest, nil
}
