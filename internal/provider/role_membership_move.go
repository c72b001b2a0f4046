package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

var _ resource.ResourceWithMoveState = (*roleMembershipResource)(nil)

// postgresqlGrantRoleType is the general PostgreSQL provider's resource
// (cyrilgdn/postgresql) whose state a `moved` block may hand to
// azurepg_role_membership.
const postgresqlGrantRoleType = "postgresql_grant_role"

// MoveState accepts `moved { from = postgresql_grant_role.x  to = azurepg_role_membership.x }`
// (Terraform 1.8 and later). Beware the names: postgresql_grant_role's
// `role` is the member and its `grant_role` the role granted.
//
// The mover cannot reach the server (Terraform calls it on an unconfigured
// provider); the source state says everything this resource holds, and the
// refresh that follows in the same plan checks it against the server.
func (r *roleMembershipResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{mover(postgresqlGrantRoleType, func(s postgresqlGrantRoleState) string {
		if s.Role == nil || *s.Role == "" || s.GrantRole == nil || *s.GrantRole == "" {
			return "role or grant_role"
		}
		return ""
	}, grantRoleRemovedImportAdvice("<role>", "<member>"), movePostgresqlGrantRole)}
}

// postgresqlGrantRoleState is what the move reads of a postgresql_grant_role.
type postgresqlGrantRoleState struct {
	Role            *string `json:"role"`
	GrantRole       *string `json:"grant_role"`
	WithAdminOption *bool   `json:"with_admin_option"`
}

func movePostgresqlGrantRole(src postgresqlGrantRoleState, _ *diag.Diagnostics) (roleMembershipModel, bool) {
	role, member := *src.GrantRole, *src.Role
	admin := src.WithAdminOption != nil && *src.WithAdminOption
	return roleMembershipModel{
		ID:              types.StringValue(roleMembershipID.Encode(role, member)),
		Role:            types.StringValue(role),
		Member:          types.StringValue(member),
		WithAdminOption: types.BoolValue(admin),
	}, true
}

// grantRoleRemovedImportAdvice is the other way to hand a membership over,
// for Terraform before 1.8: forget the old resource without revoking, and
// import the membership.
func grantRoleRemovedImportAdvice(role, member string) string {
	return strings.Join([]string{
		"  removed {",
		"    from = postgresql_grant_role.<name>",
		"    lifecycle {",
		"      destroy = false",
		"    }",
		"  }",
		"  import {",
		"    to = azurepg_role_membership.<name>",
		"    id = " + hclquote.String(roleMembershipID.Encode(role, member)),
		"  }",
	}, "\n")
}
