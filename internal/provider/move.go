package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Moving state from the general PostgreSQL provider (`moved` blocks,
// Terraform 1.8+). Terraform asks an unconfigured instance of this provider
// to move state, so no mover can reach the server: each copies what the
// source state says, and the refresh in the same plan reads the server.

// mover moves the state of a sourceType resource (S, its state's JSON)
// into the target's model M: decodeMovedState reads and checks it (missing
// and advice are its), then move makes the model (false: it added an
// error). A move from another type is not this mover's: the framework
// reports that none matched.
func mover[S, M any](sourceType string, missing func(S) string, advice string, move func(src S, diags *diag.Diagnostics) (M, bool)) resource.StateMover {
	return resource.StateMover{StateMover: func(ctx context.Context, req resource.MoveStateRequest, resp *resource.MoveStateResponse) {
		if req.SourceTypeName != sourceType || req.SourceRawState == nil {
			return
		}
		src, ok := decodeMovedState(req, &resp.Diagnostics, missing, advice)
		if !ok {
			return
		}
		if m, ok := move(src, &resp.Diagnostics); ok {
			resp.Diagnostics.Append(resp.TargetState.Set(ctx, m)...)
		}
	}}
}

// decodeMovedState reads the source state of a `moved` block into src. It
// adds an error and returns false when the state is not the JSON expected
// or lacks what the target needs (missing names it, "" when complete);
// advice says how to hand the object over without a move.
func decodeMovedState[S any](req resource.MoveStateRequest, diags *diag.Diagnostics, missing func(S) string, advice string) (S, bool) {
	var src S
	summary := "Cannot move " + req.SourceTypeName + " state"
	if err := json.Unmarshal(req.SourceRawState.JSON, &src); err != nil {
		diags.AddError(summary, fmt.Sprintf("The state of the %s resource (from %s) is not the JSON object this provider expected: %v.\n\n%s",
			req.SourceTypeName, req.SourceProviderAddress, err, advice))
		return src, false
	}
	if what := missing(src); what != "" {
		diags.AddError(summary, fmt.Sprintf("The state of the %s resource (from %s) has no %s.\n\n%s",
			req.SourceTypeName, req.SourceProviderAddress, what, advice))
		return src, false
	}
	return src, true
}
