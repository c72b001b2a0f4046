package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

var _ resource.ResourceWithMoveState = (*principalResource)(nil)

// postgresqlRoleType is the resource type of the general PostgreSQL provider
// (cyrilgdn/postgresql and its forks) whose state a `moved` block may hand
// to azurepg_principal.
const postgresqlRoleType = "postgresql_role"

// MoveState accepts `moved { from = postgresql_role.x  to = azurepg_principal.x }`
// (Terraform 1.8 and later).
//
// Terraform asks an unconfigured instance of this provider to move state
// (it starts one just for the move, before any provider block is read), so
// the server cannot be reached here. The move takes only the role name from
// the source state and leaves every other attribute null; the refresh that
// follows in the same plan (Read) fills them from the role's security labels,
// and fails with movedPlainRoleError when the role is not an Entra principal.
func (r *principalResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{mover(postgresqlRoleType, roleNameMissing, removedImportAdvice("<role name>"), movePostgresqlRole)}
}

// postgresqlRoleState is what a move reads of a postgresql_role: the name
// (all that azurepg_principal takes), and the attributes that azurepg_role
// has too.
type postgresqlRoleState struct {
	Name            *string `json:"name"`
	Login           *bool   `json:"login"`
	Inherit         *bool   `json:"inherit"`
	CreateDatabase  *bool   `json:"create_database"`
	CreateRole      *bool   `json:"create_role"`
	ConnectionLimit *int64  `json:"connection_limit"`
	ValidUntil      *string `json:"valid_until"`
}

// roleNameMissing says that a postgresql_role state has no name.
func roleNameMissing(s postgresqlRoleState) string {
	if s.Name == nil || *s.Name == "" {
		return "role name"
	}
	return ""
}

func movePostgresqlRole(src postgresqlRoleState, _ *diag.Diagnostics) (principalModel, bool) {
	name := types.StringValue(*src.Name)
	return principalModel{
		ID:       name,
		Name:     name,
		Type:     types.StringNull(),
		ObjectID: types.StringNull(),
		Admin:    types.BoolNull(),
		MFA:      types.BoolNull(),
		TenantID: types.StringNull(),
	}, true
}

// notYetRead reports whether a prior state is one that MoveState wrote and
// no Read has completed since: Create, Read and ImportState always set type.
func notYetRead(state principalModel) bool {
	return state.Type.IsNull() && !state.Name.IsNull()
}

// movedPlainRoleError is Read's error for a role moved from postgresql_role
// that carries no pgaadauth security label.
func movedPlainRoleError(diags *diag.Diagnostics, name string) {
	diags.AddError("Moved role is not a Microsoft Entra principal",
		fmt.Sprintf("A moved block hands the %s %q to azurepg_principal, but on the server it is a plain PostgreSQL role: "+
			"it has no pgaadauth security label, so Microsoft Entra ID cannot log in as it and azurepg_principal cannot "+
			"manage it.\n\n"+
			"Nothing was changed. Move it to azurepg_role instead (moved { from = postgresql_role.<name>, to = azurepg_role.<name> }), "+
			"or remove the moved block and keep it as a postgresql_role. If it should be an Entra "+
			"principal, give it its label first (for example apply your postgresql_security_label with label provider "+
			"\"pgaadauth\"), or create it anew with azurepg_principal; then move it with removed and import blocks "+
			"instead:\n\n%s", postgresqlRoleType, name, removedImportAdvice(name)))
}

// notYetReadError is ModifyPlan's error for a plan made with
// -refresh=false right after a move: the labels were never read, so a plan
// against the null attributes would replace the role.
func notYetReadError(diags *diag.Diagnostics, name string) {
	diags.AddError("Moved principal has not been read from the server",
		fmt.Sprintf("The role %q was moved from %s, and its type, object id, admin and mfa come from the server's "+
			"security labels, which this plan did not read. Plan again without -refresh=false.", name, postgresqlRoleType))
}

// removedImportAdvice is the other way to hand a role over: forget the old
// resources without dropping anything, and import the role by name.
func removedImportAdvice(name string) string {
	id := hclquote.String(name)
	return strings.Join([]string{
		"  removed {",
		"    from = postgresql_role.<name>",
		"    lifecycle {",
		"      destroy = false",
		"    }",
		"  }",
		"  removed {",
		"    from = postgresql_security_label.<name>",
		"    lifecycle {",
		"      destroy = false",
		"    }",
		"  }",
		"  import {",
		"    to = azurepg_principal.<name>",
		"    id = " + id,
		"  }",
	}, "\n")
}
