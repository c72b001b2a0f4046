package provider

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Moving state from the general PostgreSQL provider (`moved` blocks,
// Terraform 1.8+). Terraform asks an unconfigured instance of this provider
// to move state, so no mover can reach the server: each copies what the
// source state says, and the refresh in the same plan reads the server.

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

// movedFrom reports whether a mover is asked for its own source type.
func movedFrom(req resource.MoveStateRequest, sourceType string) bool {
	return req.SourceTypeName == sourceType && req.SourceRawState != nil
}
