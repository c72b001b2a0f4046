package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var _ action.ActionWithConfigure = (*reassignOwnedAction)(nil)

// NewReassignOwnedAction is the azurepg_reassign_owned action (Terraform 1.14+).
func NewReassignOwnedAction() action.Action { return &reassignOwnedAction{} }

type reassignOwnedAction struct{ data *providerData }

type reassignOwnedModel struct {
	serverModel
	Principal types.String `tfsdk:"principal"`
	NewOwner  types.String `tfsdk:"new_owner"`
	Databases []string     `tfsdk:"databases"`
	DropOwned types.Bool   `tfsdk:"drop_owned"`
}

func (a *reassignOwnedAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_reassign_owned"
}

func (a *reassignOwnedAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Hands over what a role owns before it is dropped (Terraform 1.14+, `terraform apply -invoke`): " +
			"in each named database, `REASSIGN OWNED BY <principal> TO <new_owner>` and then `DROP OWNED BY <principal>` " +
			"(which revokes the privileges and default privileges the role still holds), in one transaction per database. " +
			"A role cannot be dropped (SQLSTATE 2BP01) while it owns objects or holds privileges in any database, so this is " +
			"what to run before destroying an `azurepg_principal` that did real work.\n\n" +
			"Databases are handled one after the other; each one is committed on its own, and a failure stops the run " +
			"(the databases before it stay done; running the action again is safe). Refuses to run against a read replica.",
		Attributes: serverActionAttributes(map[string]schema.Attribute{
			"principal": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The role whose objects are handed over, exactly (case-sensitive).",
				Validators:          principalNameValidators(),
			},
			"new_owner": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The role that receives them, e.g. the application's owner role or the Entra admin.",
				Validators:          principalNameValidators(),
			},
			"databases": schema.ListAttribute{
				Required:    true,
				ElementType: types.StringType,
				MarkdownDescription: "The databases to run in: `REASSIGN OWNED` and `DROP OWNED` only act on the current database " +
					"(and on shared objects such as databases themselves).",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
			},
			"drop_owned": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Whether to run `DROP OWNED BY` after `REASSIGN OWNED BY`. Default `true`. With `false` the " +
					"role keeps its privileges (and so cannot be dropped yet). `DROP OWNED` run by an Entra admin (not a superuser) " +
					"revokes only the privileges the admin could revoke itself, i.e. those granted by the admin or by roles whose " +
					"privileges it has; others remain and keep the role from being dropped.",
			},
		}, "action"),
	}
}

func (a *reassignOwnedAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (a *reassignOwnedAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	var m reassignOwnedModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client, diags := a.data.clientOf(m.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	r := pgaad.Reassign{Role: m.Principal.ValueString(), NewOwner: m.NewOwner.ValueString(),
		DropOwned: m.DropOwned.IsNull() || m.DropOwned.ValueBool()}
	for i, db := range m.Databases {
		progress(resp.SendProgress, fmt.Sprintf("database %d of %d (%q): REASSIGN OWNED BY %q TO %q", i+1, len(m.Databases), db, r.Role, r.NewOwner))
		if err := client.ReassignOwned(ctx, db, r); err != nil {
			addError(&resp.Diagnostics, err)
			if i > 0 {
				resp.Diagnostics.AddWarning("Earlier databases are done",
					fmt.Sprintf("The %d database(s) before %q were committed. Fix the error and invoke the action again: "+
						"running it twice is safe.", i, db))
			}
			return
		}
		progress(resp.SendProgress, fmt.Sprintf("database %q: done", db))
	}
}

// progress sends a progress event when Terraform listens for them.
func progress(send func(action.InvokeProgressEvent), msg string) {
	if send != nil {
		send(action.InvokeProgressEvent{Message: msg})
	}
}

var _ action.ActionWithModifyPlan = (*reassignOwnedAction)(nil)

// ModifyPlan refuses, at plan time, a server the provider may not log in to.
func (a *reassignOwnedAction) ModifyPlan(ctx context.Context, req action.ModifyPlanRequest, resp *action.ModifyPlanResponse) {
	resp.Diagnostics.Append(a.data.checkServerIn(ctx, req.Config)...)
}
