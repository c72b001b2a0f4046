package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

var (
	_ resource.ResourceWithMoveState = (*grantResource)(nil)
	_ resource.ResourceWithMoveState = (*defaultPrivilegesResource)(nil)
)

// The general PostgreSQL provider's resource types whose state `moved`
// blocks may hand to azurepg_grant and azurepg_default_privileges.
const (
	postgresqlGrantType             = "postgresql_grant"
	postgresqlDefaultPrivilegesType = "postgresql_default_privileges"
)

// postgresqlAccessState is what the two source types store (SDKv2: an unset
// string is "", an unset set is []).
type postgresqlAccessState struct {
	Role            string   `json:"role"`
	Database        string   `json:"database"`
	Owner           string   `json:"owner"`
	Schema          string   `json:"schema"`
	ObjectType      string   `json:"object_type"`
	Objects         []string `json:"objects"`
	Columns         []string `json:"columns"`
	Privileges      []string `json:"privileges"`
	WithGrantOption bool     `json:"with_grant_option"`
}

// MoveState accepts `moved { from = postgresql_grant.x  to = azurepg_grant.x }`
// (Terraform 1.8+). As for azurepg_principal, the server cannot be reached
// here: the move copies the arguments, and the refresh in the same plan
// reads what the server has.
func (r *grantResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{mover(postgresqlGrantType, accessStateMissing, accessMoveAdvice, movePostgresqlGrant)}
}

func movePostgresqlGrant(src postgresqlAccessState, diags *diag.Diagnostics) (grantModel, bool) {
	switch {
	case !slices.Contains(grantObjectTypes, src.ObjectType):
		diags.AddError("Cannot move postgresql_grant state", fmt.Sprintf(
			"The %s has object_type = %q; azurepg_grant manages %s. Keep this grant in the PostgreSQL provider.",
			postgresqlGrantType, src.ObjectType, strings.Join(grantObjectTypes, ", ")))
		return grantModel{}, false
	case len(src.Columns) > 0:
		diags.AddError("Cannot move postgresql_grant state", fmt.Sprintf(
			"The %s grants on columns %q; azurepg_grant does not manage column privileges. Keep this grant in the PostgreSQL provider.",
			postgresqlGrantType, src.Columns))
		return grantModel{}, false
	}
	t := pgaad.GrantTarget{Role: src.Role, Database: src.Database, ObjectType: src.ObjectType, Schema: src.Schema}
	if src.ObjectType == pgaad.ObjectTypeDatabase {
		t.Schema = ""
	}
	if len(src.Objects) > 0 {
		t.Objects = slices.Sorted(slices.Values(src.Objects))
	}
	m := grantState(t, pgaad.Grant{}, nil)
	m.Privileges = stringSet(upper(src.Privileges))
	m.WithGrantOption = types.BoolValue(src.WithGrantOption)
	return m, true
}

// MoveState accepts `moved { from = postgresql_default_privileges.x  to = azurepg_default_privileges.x }`.
func (r *defaultPrivilegesResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{mover(postgresqlDefaultPrivilegesType, accessStateMissing, accessMoveAdvice, movePostgresqlDefaultPrivileges)}
}

func movePostgresqlDefaultPrivileges(src postgresqlAccessState, diags *diag.Diagnostics) (defaultPrivilegesModel, bool) {
	if src.ObjectType == "routine" {
		// ON ROUTINES and ON FUNCTIONS are the same pg_default_acl entry.
		src.ObjectType = pgaad.ObjectTypeFunction
	}
	if !slices.Contains(defaultPrivilegesObjectTypes, src.ObjectType) {
		diags.AddError("Cannot move postgresql_default_privileges state", fmt.Sprintf(
			"The %s has object_type = %q; azurepg_default_privileges manages %s.",
			postgresqlDefaultPrivilegesType, src.ObjectType, strings.Join(defaultPrivilegesObjectTypes, ", ")))
		return defaultPrivilegesModel{}, false
	}
	t := pgaad.DefaultPrivilegesTarget{Role: src.Role, Database: src.Database, Owner: src.Owner, Schema: src.Schema, ObjectType: src.ObjectType}
	m := defaultPrivilegesState(t, pgaad.DefaultPrivileges{}, nil)
	m.Privileges = stringSet(upper(src.Privileges))
	m.WithGrantOption = types.BoolValue(src.WithGrantOption)
	return m, true
}

// accessStateMissing names what a postgresql_grant or
// postgresql_default_privileges state lacks ("" when complete).
func accessStateMissing(s postgresqlAccessState) string {
	if s.Role == "" || s.Database == "" {
		return "role or database"
	}
	return ""
}

// accessMoveAdvice is the other way to hand grants and default privileges over.
const accessMoveAdvice = "Use a removed block (lifecycle { destroy = false }) and an import block instead."

// upper: the PostgreSQL provider accepts privileges in any case; this one
// keeps them as the server reports them.
func upper(privs []string) []string {
	out := make([]string, len(privs))
	for i, p := range privs {
		out[i] = strings.ToUpper(p)
	}
	return out
}
