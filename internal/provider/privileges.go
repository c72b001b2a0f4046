package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// What azurepg_grant and azurepg_default_privileges share in their
// attributes: names, the privileges set, and how it is written to the state.

// nameValidators: a PostgreSQL name, at most 63 bytes, any character but NUL.
func nameValidators() []validator.String {
	return []validator.String{stringvalidator.LengthBetween(1, 63), extensionNoNUL}
}

// validatePrivileges refuses a privilege the object type does not have, and
// ALL mixed with others.
func validatePrivileges(ctx context.Context, diags *diag.Diagnostics, set types.Set, objectType string) {
	if set.IsUnknown() || set.IsNull() {
		return
	}
	var privs []types.String
	diags.Append(set.ElementsAs(ctx, &privs, false)...)
	allowed := pgaad.Privileges[objectType]
	for _, p := range privs {
		if p.IsUnknown() {
			return
		}
	}
	for _, p := range privs {
		v := p.ValueString()
		switch {
		case v == pgaad.AllPrivileges && len(privs) > 1:
			diags.AddAttributeError(path.Root("privileges"), "ALL with other privileges",
				"ALL already means every privilege of the type: write [\"ALL\"] alone, or list the privileges.")
		case v == pgaad.AllPrivileges:
		case !slices.Contains(allowed, v):
			detail := fmt.Sprintf("%q is not a privilege of a %s. A %s has: %s (or [\"ALL\"]).", v, objectType, objectType, strings.Join(allowed, ", "))
			if slices.Contains(allowed, strings.ToUpper(v)) {
				detail = fmt.Sprintf("Privileges are written in upper case, as PostgreSQL reports them: %q, not %q.", strings.ToUpper(v), v)
			} else if v == "TEMP" && objectType == pgaad.ObjectTypeDatabase {
				detail = "Write TEMPORARY (PostgreSQL's name for TEMP, the one it reports back)."
			}
			diags.AddAttributeError(path.Root("privileges"), "Privilege not valid for this object type", detail)
		}
	}
}

// validateGrantOption refuses the grant option for PUBLIC.
func validateGrantOption(diags *diag.Diagnostics, role types.String, withGrantOption types.Bool) {
	if !role.IsUnknown() && role.ValueString() == pgaad.PublicRole && withGrantOption.ValueBool() {
		diags.AddAttributeError(path.Root("with_grant_option"), "with_grant_option not allowed for PUBLIC",
			"PostgreSQL cannot give PUBLIC the grant option; set with_grant_option = false.")
	}
}

// privilegesState is the privileges as state shows them: ["ALL"] when the
// prior state said ALL and the role still holds every privilege of the type.
func privilegesState(held, full []string, prior types.Set) types.Set {
	if !prior.IsNull() && !prior.IsUnknown() && len(prior.Elements()) == 1 &&
		prior.Elements()[0].Equal(types.StringValue(pgaad.AllPrivileges)) && len(full) > 0 && containsAll(held, full) {
		return prior
	}
	return stringSet(held)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func stringSet(v []string) types.Set {
	elems := make([]attr.Value, 0, len(v))
	for _, s := range v {
		elems = append(elems, types.StringValue(s))
	}
	return types.SetValueMust(types.StringType, elems)
}

// privilegesOf is a set of privileges as a sorted list.
func privilegesOf(ctx context.Context, diags *diag.Diagnostics, s types.Set) []string {
	var out []string
	diags.Append(s.ElementsAs(ctx, &out, false)...)
	slices.Sort(out)
	return out
}
