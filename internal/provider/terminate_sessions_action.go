package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ action.ActionWithConfigure = (*terminateSessionsAction)(nil)

// NewTerminateSessionsAction is the azurepg_terminate_sessions action (Terraform 1.14+).
func NewTerminateSessionsAction() action.Action { return &terminateSessionsAction{} }

type terminateSessionsAction struct{ data *providerData }

type terminateSessionsModel struct {
	serverModel
	Principal types.String `tfsdk:"principal"`
}

func (a *terminateSessionsAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_terminate_sessions"
}

func (a *terminateSessionsAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Ends every open session of a principal on the server, in every database (Terraform 1.14+, " +
			"`terraform apply -invoke`): `pg_terminate_backend` over the rows of `pg_stat_activity` whose user is the principal. " +
			"This is the kill switch when an identity is compromised: a Microsoft Entra access token stays valid until it " +
			"expires (up to about an hour), and an open session outlives even that. To keep the identity out, also stop new " +
			"log-ins: disable it in Entra ID, or destroy its `azurepg_principal`.\n\n" +
			"A principal without sessions is not an error (0 ended). The provider's own session is never ended. " +
			"Refuses to run against a read replica.",
		Attributes: serverActionAttributes(map[string]schema.Attribute{
			"principal": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The role whose sessions to end, exactly (case-sensitive).",
				Validators:          principalNameValidators(),
			},
		}, "action"),
	}
}

func (a *terminateSessionsAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = dataFrom(req.ProviderData, &resp.Diagnostics)
}

func (a *terminateSessionsAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	var m terminateSessionsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	client, diags := a.data.clientOf(m.serverModel)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	role := m.Principal.ValueString()
	progress(resp.SendProgress, fmt.Sprintf("ending the sessions of %q", role))
	n, err := client.TerminateSessions(ctx, role)
	if err != nil {
		addError(&resp.Diagnostics, err)
		return
	}
	progress(resp.SendProgress, fmt.Sprintf("%d session(s) of %q ended", n, role))
}

var _ action.ActionWithModifyPlan = (*terminateSessionsAction)(nil)

// ModifyPlan refuses, at plan time, a server the provider may not log in to.
func (a *terminateSessionsAction) ModifyPlan(ctx context.Context, req action.ModifyPlanRequest, resp *action.ModifyPlanResponse) {
	resp.Diagnostics.Append(a.data.checkServerIn(ctx, req.Config)...)
}
