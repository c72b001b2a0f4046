package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// What destroying a role (azurepg_principal, azurepg_role) does; pgaad's
// droprole.go does it.

// destroyLeavesNothing says it in the resources' docs.
const destroyLeavesNothing = "the privileges the role holds in every database of the server (granted directly or by " +
	"default privileges) are revoked, so are the default privileges it is the grantee of and its memberships, and what it " +
	"owns goes to `reassign_owned_to`. Without `reassign_owned_to`, a role that owns objects is not dropped: the destroy " +
	"fails naming each object (type, name, database) and changes nothing. Nothing is ever dropped along with the role: no " +
	"table, no schema. Each database where the role holds something is visited once; a role that holds nothing is dropped " +
	"in one statement."

// reassignOwnedToAttribute is the reassign_owned_to argument of a role resource.
func reassignOwnedToAttribute(kind string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: "The role that receives what this " + kind + " owns when it is destroyed (`REASSIGN OWNED`), in " +
			"every database of the server, e.g. the application's owner role. Used only on destroy: changing it changes nothing " +
			"on the server, and it must be in the state before the destroy (set it, apply, then destroy). Without it, a destroy " +
			"of a role that owns objects fails and names them. It must be another role, which exists when the destroy runs.",
		Validators: principalNameValidators(),
	}
}

// validateReassignOwnedTo refuses a role that would receive its own objects.
func validateReassignOwnedTo(diags *diag.Diagnostics, name, reassignTo types.String) {
	if !name.IsUnknown() && !reassignTo.IsUnknown() && !reassignTo.IsNull() && name.Equal(reassignTo) {
		diags.AddAttributeError(path.Root("reassign_owned_to"), "A role cannot receive its own objects",
			"reassign_owned_to names the role itself. Name the role that should own what this one owns once it is gone, "+
				"for example the application's owner role.")
	}
}
