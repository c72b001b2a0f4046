package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var (
	_ resource.ResourceWithConfigure      = (*aiSettingsResource)(nil)
	_ resource.ResourceWithImportState    = (*aiSettingsResource)(nil)
	_ resource.ResourceWithIdentity       = (*aiSettingsResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*aiSettingsResource)(nil)
	_ resource.ResourceWithValidateConfig = (*aiSettingsResource)(nil)
)

// NewAISettingsResource is the azurepg_ai_settings resource.
func NewAISettingsResource() resource.Resource { return &aiSettingsResource{} }

type aiSettingsResource struct{ data *providerData }

const (
	authManagedIdentity = "managed-identity"
	authSubscriptionKey = "subscription-key"
)

func (r *aiSettingsResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_ai_settings"
}

func (r *aiSettingsResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	blocks := map[string]schema.Block{}
	for _, s := range aiServices {
		attrs := map[string]schema.Attribute{}
		for _, f := range s.fields {
			key := "`" + f.Key + "`"
			switch {
			case f.AuthType:
				attrs[f.Attribute] = schema.StringAttribute{
					Optional: true,
					MarkdownDescription: "Setting " + key + ": how the extension authenticates to " + s.title + ": `managed-identity` " +
						"(the server's system-assigned identity; needs a role assignment on the AI resource) or `subscription-key`. " +
						"With `subscription-key` a key is required (an error at plan time otherwise); a key together with " +
						"`managed-identity` is a warning: Azure does not use it, but it stays stored in the database, so remove it " +
						"once you no longer need to switch back.",
					Validators: []validator.String{stringvalidator.OneOf(authManagedIdentity, authSubscriptionKey)},
				}
			case f.Secret:
				wo, ver := f.WriteOnly, f.WriteOnlyVersion
				attrs[f.Attribute] = schema.StringAttribute{
					Optional:  true,
					Sensitive: true,
					MarkdownDescription: "Setting " + key + ". " + f.Doc + " Stored in the Terraform state (sensitive); read back " +
						"on refresh, so a change made outside Terraform shows as drift. Conflicts with `" + wo + "`.",
					Validators: []validator.String{
						stringvalidator.LengthAtLeast(1), aiNoNUL,
						stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName(wo)),
					},
				}
				attrs[wo] = schema.StringAttribute{
					Optional:  true,
					Sensitive: true,
					WriteOnly: true,
					MarkdownDescription: "Setting " + key + ", write-only (Terraform 1.11+): never stored in the state or the plan. " +
						"Sent when the resource is created and whenever `" + ver + "` changes; it cannot be read back, so changes " +
						"made outside Terraform are not detected. Requires `" + ver + "`. Conflicts with `" + f.Attribute + "`.",
					Validators: []validator.String{
						stringvalidator.LengthAtLeast(1), aiNoNUL,
						stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName(ver)),
					},
				}
				attrs[ver] = schema.Int64Attribute{
					Optional: true,
					MarkdownDescription: "Any number; change it (e.g. increment it) to send `" + wo + "` again, for example after " +
						"rotating the key. Requires `" + wo + "`.",
					Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName(wo))},
				}
			default:
				v := []validator.String{stringvalidator.LengthAtLeast(1), aiNoNUL}
				if f.URL {
					v = append(v, httpsURL{})
				}
				doc := f.Doc
				if f.URL {
					doc += " Must be an `https://` URL."
				}
				attrs[f.Attribute] = schema.StringAttribute{Optional: true, MarkdownDescription: "Setting " + key + ". " + doc, Validators: v}
			}
		}
		blocks[s.block] = schema.SingleNestedBlock{
			MarkdownDescription: "Settings for " + s.title + " (keys `" + s.block + ".*`). Only the attributes you set are managed.",
			Attributes:          attrs,
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The settings of the `azure_ai` extension in one database (`azure_ai.set_setting`), for Azure OpenAI, " +
			"Azure AI services and Azure Machine Learning: endpoints, the authentication type (managed identity or subscription key) " +
			"and keys. Use one resource per database.\n\n" +
			"**Only the settings that the configuration sets are managed.** Settings made outside Terraform that the configuration " +
			"does not mention are neither read nor changed. Removing an attribute (or a whole block) from the configuration clears " +
			"that setting on the server; deleting the resource clears every setting it manages and no other. Clearing calls " +
			"`azure_ai.set_setting(key, NULL)`, after which `azure_ai.get_setting(key)` returns NULL (the setting is unset). " +
			"All the changes of one apply are made in one transaction.\n\n" +
			"Keys are secrets: `azure_ai.get_setting` returns them in clear text to any member of `azure_ai_settings_manager`. " +
			"Give each key either as the sensitive attribute (stored in the state, drift detected) or as the write-only `_wo` " +
			"attribute with its `_wo_version` (never stored; bump the version to send a new key). Prefer `auth_type = " +
			"\"managed-identity\"`, which needs no key at all.\n\n" +
			"The `azure_ai` extension must be installed in the database first (`azurepg_extension`), and the provider must log in " +
			"as a member of `azure_ai_settings_manager`; Azure grants it to `azure_pg_admin`, so a Microsoft Entra admin " +
			"(`azurepg_principal` with `admin = true`) qualifies.\n\n" +
			"Import with the database name: every setting present on the server is then read, and the plan shows any that the " +
			"configuration does not mention as removed.",
		Attributes: serverResourceAttributes(map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The database name (same as `database`).",
			},
			"database": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The database whose settings these are (settings are per database). Changing it replaces the resource.",
				Validators:          principalNameValidators(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
		}, "settings"),
		Blocks: blocks,
	}
}

// IdentitySchema: the server's host and the database (see identity.go).
func (r *aiSettingsResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = aiSettingsIdentity.schema()
}

func (r *aiSettingsResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

// attrGetter is a plan, a state or a configuration.
type attrGetter interface {
	GetAttribute(ctx context.Context, p path.Path, target interface{}) diag.Diagnostics
}

// aiConfig is the three blocks of a plan, state or configuration, as the
// attribute values of each present block (a missing block is nil).
type aiConfig map[string]map[string]attr.Value

func getAIConfig(ctx context.Context, g attrGetter, diags *diag.Diagnostics) aiConfig {
	c := aiConfig{}
	for _, s := range aiServices {
		var obj types.Object
		diags.Append(g.GetAttribute(ctx, path.Root(s.block), &obj)...)
		if !obj.IsNull() && !obj.IsUnknown() {
			c[s.block] = obj.Attributes()
		}
	}
	return c
}

func (c aiConfig) str(block, name string) types.String {
	if v, ok := c[block][name].(types.String); ok {
		return v
	}
	return types.StringNull()
}

func (c aiConfig) num(block, name string) types.Int64 {
	if v, ok := c[block][name].(types.Int64); ok {
		return v
	}
	return types.Int64Null()
}

// managed is the set of keys that a plan or state manages: plain settings
// that are set, and keys given either as the sensitive attribute or as a
// write-only one (whose version is then set).
func (c aiConfig) managed() map[string]bool {
	m := map[string]bool{}
	for _, s := range aiServices {
		for _, f := range s.fields {
			if !c.str(s.block, f.Attribute).IsNull() || (f.Secret && !c.num(s.block, f.WriteOnlyVersion).IsNull()) {
				m[f.Key] = true
			}
		}
	}
	return m
}

// readable are the managed keys whose value is in the state (not write-only).
func (c aiConfig) readable() []string {
	var keys []string
	for _, s := range aiServices {
		for _, f := range s.fields {
			if !c.str(s.block, f.Attribute).IsNull() {
				keys = append(keys, f.Key)
			}
		}
	}
	return keys
}

// changes says what to send: every setting the plan sets, write-only keys
// when sendWO says so (with their value from the configuration), and a
// clear for every key that prior manages and the plan no longer does.
func changes(plan, config, prior aiConfig, sendWO func(f aiField) bool) []pgaad.AISettingChange {
	var out []pgaad.AISettingChange
	for _, s := range aiServices {
		for _, f := range s.fields {
			if v := plan.str(s.block, f.Attribute); !v.IsNull() {
				out = append(out, pgaad.AISettingChange{Key: f.Key, Value: v.ValueStringPointer()})
				continue
			}
			if f.Secret && sendWO(f) {
				if v := config.str(s.block, f.WriteOnly); !v.IsNull() {
					out = append(out, pgaad.AISettingChange{Key: f.Key, Value: v.ValueStringPointer()})
				}
			}
		}
	}
	now := plan.managed()
	for key := range prior.managed() {
		if !now[key] {
			out = append(out, pgaad.AISettingChange{Key: key})
		}
	}
	return out
}

func (r *aiSettingsResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.write(ctx, req.Plan, req.Config, nil, &resp.State, resp.Identity, req.Identity, &resp.Diagnostics)
}

func (r *aiSettingsResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.write(ctx, req.Plan, req.Config, &req.State, &resp.State, resp.Identity, req.Identity, &resp.Diagnostics)
}

// write is Create (before nil: every setting is sent) and Update (a
// write-only key is sent again only when its version changes); the state is
// the plan.
func (r *aiSettingsResource) write(ctx context.Context, plan tfsdk.Plan, config tfsdk.Config, before *tfsdk.State,
	state *tfsdk.State, identity, priorIdentity *tfsdk.ResourceIdentity, diags *diag.Diagnostics) {
	var database types.String
	diags.Append(plan.GetAttribute(ctx, path.Root("database"), &database)...)
	planned := getAIConfig(ctx, plan, diags)
	configured := getAIConfig(ctx, config, diags)
	prior, send := aiConfig{}, func(aiField) bool { return true }
	if before != nil {
		prior = getAIConfig(ctx, *before, diags)
		send = func(f aiField) bool {
			return !planned.num(f.Block, f.WriteOnlyVersion).Equal(prior.num(f.Block, f.WriteOnlyVersion))
		}
	}
	srv := serverIn(ctx, plan, diags)
	client, d := r.data.clientOf(srv)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	if err := client.ApplyAISettings(ctx, database.ValueString(), changes(planned, configured, prior, send)); err != nil {
		addError(diags, err)
		return
	}
	diags.Append(state.Set(ctx, plan.Raw)...)
	diags.Append(state.SetAttribute(ctx, path.Root("id"), database)...)
	diags.Append(aiSettingsIdentity.set(ctx, identity, priorIdentity, r.data.serverOf(srv), database.ValueString())...)
}

func (r *aiSettingsResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var database types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("database"), &database)...)
	// First: the framework wants the identity even from a Read that removes the resource.
	srv := serverIn(ctx, req.State, &resp.Diagnostics)
	resp.Diagnostics.Append(aiSettingsIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), database.ValueString())...)
	state := getAIConfig(ctx, req.State, &resp.Diagnostics)
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	values, err := client.AISettings(ctx, database.ValueString(), state.readable())
	switch {
	case errors.Is(err, pgaad.ErrDatabaseMissing):
		// The database and its settings are gone: forget them, so that the plan creates them again.
		resp.State.RemoveResource(ctx)
		return
	case errors.Is(err, pgaad.ErrExtensionMissing):
		// Dropping the extension dropped its settings. Show them as drift rather than
		// fail, so that one apply can install the extension and set them again.
		resp.Diagnostics.AddWarning("azure_ai extension not installed", errorText(err))
		values = map[string]string{}
	case err != nil:
		addError(&resp.Diagnostics, err)
		return
	}
	for _, s := range aiServices {
		if state[s.block] == nil {
			continue
		}
		for _, f := range s.fields {
			if state.str(s.block, f.Attribute).IsNull() {
				continue // not managed, or write-only: not read
			}
			v := types.StringNull()
			if got, ok := values[f.Key]; ok {
				v = types.StringValue(got)
			}
			resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(s.block).AtName(f.Attribute), v)...)
		}
	}
}

// ModifyPlan shows the id in the plan: it is the database name.
func (r *aiSettingsResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.data.replaceIfServerMoved(ctx, req, resp)
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	resp.Diagnostics.Append(r.data.checkServerIn(ctx, req.Plan)...)
	var database types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("database"), &database)...)
	if !database.IsUnknown() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), database)...)
	}
}

// Delete clears the settings this resource manages, and only those. A
// database or extension that is already gone has no settings left to clear.
func (r *aiSettingsResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var database types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("database"), &database)...)
	state := getAIConfig(ctx, req.State, &resp.Diagnostics)
	client, diags := r.data.clientOf(serverIn(ctx, req.State, &resp.Diagnostics))
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var clear []pgaad.AISettingChange
	for key := range state.managed() {
		clear = append(clear, pgaad.AISettingChange{Key: key})
	}
	err := client.ApplyAISettings(ctx, database.ValueString(), clear)
	if err != nil && !errors.Is(err, pgaad.ErrDatabaseMissing) && !errors.Is(err, pgaad.ErrExtensionMissing) {
		addError(&resp.Diagnostics, err)
	}
}

// ImportState takes the database name (the import ID or the identity's
// database) and reads every setting present there: the configuration is not
// known at import, so all of them are adopted.
func (r *aiSettingsResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	database, srv, ok := aiSettingsIdentity.importID(ctx, req, r.data, &resp.Diagnostics)
	if !ok {
		return
	}
	client, diags := r.data.clientOf(srv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	values, err := client.AISettings(ctx, database, pgaad.AISettingKeys)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), database)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("database"), database)...)
	setServer(ctx, &resp.State, srv, &resp.Diagnostics)
	for _, s := range aiServices {
		for _, f := range s.fields {
			if v, ok := values[f.Key]; ok {
				resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(s.block).AtName(f.Attribute), v)...)
			}
		}
	}
	resp.Diagnostics.Append(aiSettingsIdentity.set(ctx, resp.Identity, req.Identity, r.data.serverOf(srv), database)...)
}

// ValidateConfig checks what single attributes cannot: keys against auth_type.
func (r *aiSettingsResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	config := getAIConfig(ctx, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(validateAIAuth(config)...)
}

// validateAIAuth: subscription-key needs a key for each endpoint it uses (an
// error); a key with managed-identity is unused but still stored (a warning).
// Unknown values count as set; an unknown auth_type is checked at apply.
func validateAIAuth(c aiConfig) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, s := range aiServices {
		if c[s.block] == nil {
			continue
		}
		auth := c.str(s.block, "auth_type")
		if auth.IsNull() || auth.IsUnknown() {
			continue
		}
		hasKey := func(f aiField) bool {
			return !c.str(s.block, f.Attribute).IsNull() || !c.str(s.block, f.WriteOnly).IsNull()
		}
		var anyKey bool
		var keyNames []string
		for _, f := range s.fields {
			if f.Secret {
				keyNames = append(keyNames, "`"+f.Attribute+"` or `"+f.WriteOnly+"`")
				anyKey = anyKey || hasKey(f)
			}
		}
		authPath := path.Root(s.block).AtName("auth_type")
		switch auth.ValueString() {
		case authSubscriptionKey:
			if !anyKey {
				diags.AddAttributeError(authPath, "Subscription key missing",
					fmt.Sprintf("%s.auth_type is %q but no key is set. Set %s (write-only, kept out of the state), "+
						"or use auth_type = %q with a role assignment for the server's managed identity.",
						s.block, authSubscriptionKey, strings.Join(keyNames, ", or "), authManagedIdentity))
				continue
			}
			for _, f := range s.fields {
				if f.Secret && !hasKey(f) && !c.str(s.block, f.Endpoint).IsNull() {
					diags.AddAttributeError(authPath, "Subscription key missing",
						fmt.Sprintf("%s.auth_type is %q and %s is set, but its key is not: set %s or %s.",
							s.block, authSubscriptionKey, f.Endpoint, f.Attribute, f.WriteOnly))
				}
			}
		case authManagedIdentity:
			for _, f := range s.fields {
				if !f.Secret || !hasKey(f) {
					continue
				}
				name := f.Attribute
				if c.str(s.block, f.Attribute).IsNull() {
					name = f.WriteOnly
				}
				diags.AddAttributeWarning(path.Root(s.block).AtName(name), "Key set with managed identity",
					fmt.Sprintf("%s.auth_type is %q, so Azure authenticates with the server's managed identity and does not use "+
						"%s.%s. The key is still stored in the database, where members of azure_ai_settings_manager can read it. "+
						"Remove it from the configuration to clear it from the server, unless you keep it to switch back.",
						s.block, authManagedIdentity, s.block, f.Attribute))
			}
		}
	}
	return diags
}

// aiNoNUL refuses a NUL character at plan time: PostgreSQL text cannot hold
// one, so the apply would otherwise fail on the server.
var aiNoNUL = extensionNoNUL

// httpsURL checks that an endpoint is an absolute https URL: the extension
// sends keys and tokens there.
type httpsURL struct{}

func (httpsURL) Description(context.Context) string { return "must be an https URL" }

func (v httpsURL) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (httpsURL) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	u, err := url.Parse(s)
	if err == nil && strings.EqualFold(u.Scheme, "https") && u.Host != "" && u.User == nil && !strings.ContainsAny(s, " \t\r\n") {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Not an https URL",
		fmt.Sprintf("%s must be an absolute https URL such as https://myaccount.openai.azure.com, without user info or spaces; got %q. "+
			"The azure_ai extension sends keys and tokens to this address, so plain http is not accepted.", req.Path, s))
}
