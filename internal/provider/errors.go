package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// objectWords is how diagnostics speak of one type of pgaad object, and
// which resource adopts such an object when it already exists.
type objectWords struct {
	title      string // capitalized noun, e.g. "Role"
	manage     string // "Not allowed to manage <manage>"
	notFound   string // summary for ErrNotFound
	notFoundIs string // detail added for ErrNotFound
	dependents string // summary for ErrDependentObjects
	resource   string // resource type that imports such an object
	importID   func(pgaad.Object) string
}

var objectTypes = map[string]objectWords{
	pgaad.ObjectRole: {
		title: "Role", manage: "principals",
		notFound:   "Role not found",
		notFoundIs: "The server has no role with exactly this name (names are case-sensitive).",
		dependents: "Role owns objects or holds privileges",
		resource:   "azurepg_principal",
		importID:   func(o pgaad.Object) string { return o.Name },
	},
	pgaad.ObjectPlainRole: {
		title: "Role", manage: "roles",
		notFound:   "Role not found",
		notFoundIs: "The server has no role with exactly this name (names are case-sensitive).",
		dependents: "Role owns objects or holds privileges",
		resource:   "azurepg_role",
		importID:   func(o pgaad.Object) string { return o.Name },
	},
	pgaad.ObjectExtension: {
		title: "Extension", manage: "the extension",
		notFound:   "Extension not installed",
		notFoundIs: "The database has no extension with exactly this name (names are case-sensitive).",
		dependents: "Other objects depend on the extension",
		resource:   "azurepg_extension",
		importID:   func(o pgaad.Object) string { return extensionID(o.Database, o.Name) },
	},
	pgaad.ObjectRoleMembership: {
		title: "Role membership", manage: "role memberships",
		notFound:   "Role membership not found",
		notFoundIs: "Either a role does not exist (the message names it) or the member is not a member of the role (names are case-sensitive).",
		resource:   "azurepg_role_membership",
		importID:   func(o pgaad.Object) string { return roleMembershipID.Encode(o.Name, o.Member) },
	},
	pgaad.ObjectGrant: {
		title: "Grant", manage: "these privileges",
		notFound:   "Object of the grant not found",
		notFoundIs: "Names are case-sensitive. A grant whose role, database or schema no longer exists is forgotten at the next refresh.",
	},
	pgaad.ObjectDefaultPrivileges: {
		title: "Default privileges", manage: "these default privileges",
		notFound:   "Object of the default privileges not found",
		notFoundIs: "Names are case-sensitive. Default privileges whose role, owner, database or schema no longer exists are forgotten at the next refresh.",
	},
	pgaad.ObjectSchema: {
		title: "Schema", manage: "the schema",
		notFound:   "Schema not found",
		notFoundIs: "The database has no schema with exactly this name (names are case-sensitive).",
		dependents: "Schema still holds objects",
		resource:   "azurepg_schema",
		importID:   func(o pgaad.Object) string { return schemaID.Encode(o.Database, o.Name) },
	},
	pgaad.ObjectAISettings: {
		title: "azure_ai settings", manage: "azure_ai settings",
		resource: "azurepg_ai_settings",
		importID: func(o pgaad.Object) string { return o.Database },
	},
}

// kindSummaries are the summaries of the kinds that read the same whatever
// the object, and the attribute they are about (empty: the whole resource).
var kindSummaries = []struct {
	kind      error
	summary   string
	attribute string
}{
	{pgaad.ErrConnection, "Cannot connect to the server", ""},
	{pgaad.ErrReadReplica, "Server is a read replica", ""},
	{pgaad.ErrReadOnly, "Server is read-only", ""},
	{pgaad.ErrRelabelRefused, "Server refused to relabel the principal", ""},
	{pgaad.ErrDatabaseMissing, "Database does not exist", "database"},
	{pgaad.ErrNotInTenant, "Name not found in the Microsoft Entra tenant", ""},
	{pgaad.ErrAmbiguous, "Name matches more than one Microsoft Entra object", ""},
	{pgaad.ErrValidation, "Microsoft Entra validation failed", ""},
	{pgaad.ErrTypeMismatch, "Principal type does not match", ""},
	{pgaad.ErrNotEntraPrincipal, "Role is not a Microsoft Entra principal", ""},
	{pgaad.ErrWrongDatabase, "Not an Azure server with Microsoft Entra authentication", ""},
	{pgaad.ErrExtensionNotAllowed, "Extension not allowed by the server parameter azure.extensions", "name"},
	{pgaad.ErrExtensionVersion, "Extension version not available", "version"},
	{pgaad.ErrExtensionUnavailable, "Extension not available on this server", "name"},
	{pgaad.ErrExtensionSchema, "Extension cannot go in this schema", "schema"},
	{pgaad.ErrExtensionMissing, "azure_ai extension not installed", ""},
	{pgaad.ErrMembershipCycle, "Circular role membership", ""},
	{pgaad.ErrOptionsNeedPG16, "Membership options need PostgreSQL 16", ""},
	{pgaad.ErrCannotActAsOwner, "The login cannot act as the owner", ""},
	{pgaad.ErrOwnsObjects, "Role owns objects that need a new owner", "reassign_owned_to"},
	{pgaad.ErrEntraPrincipal, "Role is a Microsoft Entra principal", ""},
}

// addError turns any pgaad error into a diagnostic: the summary says what
// kind of failure it is, the detail carries pgaad's text (Azure's own
// message and what to do, in Terraform's terms where advice.go words it),
// and an object that already exists gets the
// import hint. Attribute-specific kinds point at the attribute, when the
// object lives in a database (every such resource has that attribute).
func addError(diags *diag.Diagnostics, err error) {
	var pe *pgaad.Error
	var obj pgaad.Object
	op := ""
	if errors.As(err, &pe) {
		obj, op = pe.Object, pe.Op
	}
	words := objectTypes[obj.Type]
	summary, detail, attribute := errorSummary(err, op, words), withAdvice(err, pe), ""
	for _, k := range kindSummaries {
		if errors.Is(err, k.kind) {
			attribute = k.attribute
			break
		}
	}
	switch {
	case errors.Is(err, pgaad.ErrAlreadyExists) && words.importID != nil:
		detail += "\n\n" + importHint(words.resource, obj.Type, words.importID(obj))
	case errors.Is(err, pgaad.ErrNotFound) && words.notFoundIs != "":
		detail += "\n\n" + words.notFoundIs
	}
	if attribute != "" && obj.Database != "" {
		diags.AddAttributeError(path.Root(attribute), summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

func errorSummary(err error, op string, words objectWords) string {
	for _, k := range kindSummaries {
		if errors.Is(err, k.kind) {
			return k.summary
		}
	}
	switch {
	case errors.Is(err, pgaad.ErrAlreadyExists) && words.title != "":
		return words.title + " already exists"
	case errors.Is(err, pgaad.ErrNotFound) && words.notFound != "":
		return words.notFound
	case errors.Is(err, pgaad.ErrDependentObjects) && words.dependents != "":
		return words.dependents
	case errors.Is(err, pgaad.ErrPermissionDenied) && words.manage != "":
		return "Not allowed to manage " + words.manage
	case op != "":
		return strings.ToUpper(op[:1]) + op[1:] + " failed"
	}
	return "Database operation failed"
}

// importHint tells how to adopt an object that is already there, with its
// import ID quoted for a POSIX shell and for HCL.
func importHint(resourceType, noun, id string) string {
	return fmt.Sprintf("Terraform did not change or drop the existing %s. To manage it with this resource, import it "+
		"(replace <name> with this resource's name in your configuration):\n\n"+
		"  terraform import '%s.<name>' %s\n\n"+
		"or add an import block and apply again:\n\n"+
		"  import {\n    to = %s.<name>\n    id = %s\n  }",
		noun, resourceType, shellSingleQuoted(id), resourceType, hclquote.String(id))
}

// shellSingleQuoted quotes s for a POSIX shell: inside single quotes nothing
// is special except the quote itself, written as '\”.
func shellSingleQuoted(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
