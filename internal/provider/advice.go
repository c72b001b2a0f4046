package provider

import (
	"errors"
	"fmt"
	"strings"

	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// Advice in Terraform's terms. pgaad says what to do in database and Azure
// terms (pgaad.Error.Advice) and gives the situation as data
// (pgaad.Error.Fact); where Terraform has its own way to do it (a resource,
// an attribute, a command, an HCL block), the functions here word the
// advice instead, from those facts. A topic not listed keeps pgaad's words.
var adviceFor = map[pgaad.Topic]func(e *pgaad.Error) string{
	pgaad.TopicLostCommit: func(*pgaad.Error) string {
		return "The connection was lost while the server committed, and the outcome could not be checked afterwards. " +
			"Run terraform plan: if the object exists, import it."
	},
	pgaad.TopicReadReplica: func(*pgaad.Error) string {
		return "Principals, grants and settings are managed on the primary server and replicated to its read replicas. " +
			"Point the provider's host at the primary server, then apply again."
	},
	pgaad.TopicDatabaseMissing: func(e *pgaad.Error) string {
		return fmt.Sprintf("The server has no database %q (names are case-sensitive). Create it first, for example with "+
			"azurerm_postgresql_flexible_server_database, and reference it so that Terraform creates it before this resource.", e.Object.Database)
	},
	pgaad.TopicNoSlots: func(*pgaad.Error) string {
		return "Other clients, or this provider's parallel operations, use all the connections the server or the role allows. " +
			"Lower the provider's max_connections or terraform's -parallelism, close other clients of the server (pg_stat_activity lists them), " +
			"or raise the limit: the role's CONNECTION LIMIT, or the server's max_connections, which depends on its SKU " +
			"(Burstable B1ms allows 50 connections, 35 for users, as Azure keeps 15; B2s 429, 414 for users): a larger SKU allows more. " +
			"A larger connect_timeout waits longer for a slot. Then run terraform apply again."
	},
	pgaad.TopicAIExtensionMissing: func(e *pgaad.Error) string {
		return fmt.Sprintf("The azure_ai extension is not installed in database %q (settings are per database). "+
			"Install it with this provider, and make the settings depend on it:\n\n"+
			"  resource \"azurepg_extension\" \"azure_ai\" {\n    name     = \"azure_ai\"\n    database = %s\n  }\n\n"+
			"On Azure the server parameter azure.extensions must also allow azure_ai "+
			"(azurerm_postgresql_flexible_server_configuration).", e.Object.Database, hclquote.String(e.Object.Database))
	},
	pgaad.TopicAISettingsManager: func(*pgaad.Error) string {
		return "Only members of azure_ai_settings_manager may read or change azure_ai settings. Azure grants that role to " +
			"azure_pg_admin, so log in as a Microsoft Entra admin of the server (azurepg_principal with admin = true), " +
			"or have an admin run: GRANT azure_ai_settings_manager TO <your login>;"
	},
	pgaad.TopicRoleMissing: func(e *pgaad.Error) string {
		return fmt.Sprintf("The server has no role %q (names are case-sensitive). Create it first: azurepg_principal for a "+
			"Microsoft Entra principal, or CREATE ROLE for an application role; when Terraform creates it, refer to that "+
			"resource's name so that this one waits for it.", e.Fact.Role)
	},
	pgaad.TopicRestrictedRole: func(e *pgaad.Error) string {
		return fmt.Sprintf("Azure restricts azure_pg_admin: no role can be made a member of it or changed by a customer, "+
			"whatever the login (%q here). To let a principal administer the server, make it an Entra admin "+
			"(azurepg_principal with admin = true). Nothing was changed.", e.Fact.Member)
	},
	pgaad.TopicWriteAllData: func(*pgaad.Error) string {
		return "Azure never grants pg_write_all_data, to any role. Grant the privileges the role needs on the schemas " +
			"and tables it writes to (azurepg_grant, and azurepg_default_privileges for tables created later). Nothing was changed."
	},
	pgaad.TopicPredefinedRole: func(e *pgaad.Error) string {
		return fmt.Sprintf("%q is a predefined PostgreSQL role. From PostgreSQL 16 on only a role with ADMIN OPTION on it "+
			"may grant it, and Azure's azure_pg_admin members do not get that for predefined roles (GUESS, not documented). "+
			"Grant the privileges the member needs on the objects instead (azurepg_grant). Nothing was changed.", e.Fact.Role)
	},
	pgaad.TopicNotEntraPrincipal: func(*pgaad.Error) string {
		return "The role exists but carries no pgaadauth security label: it is a plain PostgreSQL role, not one created by " +
			"pgaadauth_create_principal. Manage it with a general PostgreSQL tool, or drop it and let Terraform create the Entra principal."
	},
	pgaad.TopicTypeMismatch: func(e *pgaad.Error) string {
		t := e.Fact.TenantType
		return "The tenant says this name is a " + t + ", but type is \"" + e.Fact.AskedType + "\". " +
			"Nothing was created. Set type = \"" + t + "\", or leave type out to take it from the tenant."
	},
	pgaad.TopicRelabelRefused: func(*pgaad.Error) string {
		return "The server did not let the provider's login rewrite the role's pgaadauth security labels, which is how admin and mfa " +
			"change in place (Microsoft's troubleshooting guidance relabels roles as the Entra admin). Nothing was changed. " +
			"Log in as a Microsoft Entra admin of the server, or replace the principal instead: it is dropped and created again, " +
			"which fails while the role owns objects or holds privileges and loses its grants."
	},
	pgaad.TopicRoleOwnsObjects: func(e *pgaad.Error) string {
		return "The role still owns objects or holds privileges (listed above; \"N objects in database X\" means look there). " +
			"Hand them over, then delete the principal again. With Terraform 1.14, the azurepg_reassign_owned action does it " +
			"database by database (after the GRANT below). By hand, as the Entra admin, " + e.Fact.Steps
	},
	pgaad.TopicOutage: func(*pgaad.Error) string {
		return "The server went away during the run: a high-availability failover (60 to 120 s on Azure), a restart for " +
			"maintenance, or a stopped server, and it did not come back within the provider's failover_timeout. Check the " +
			"server's state (az postgres flexible-server show), then run terraform again; raise failover_timeout to wait longer."
	},
	pgaad.TopicOwnsObjects: func(e *pgaad.Error) string {
		return "Nothing was changed. Set reassign_owned_to on this resource to the role that should own them (for example the " +
			"application's owner role), run terraform apply (it changes nothing on the server), then destroy again. Or give the " +
			"objects another owner yourself (ALTER ... OWNER TO, or the azurepg_reassign_owned action with Terraform 1.14), or " +
			"drop them if their data is no longer needed."
	},
	pgaad.TopicEntraPrincipal: func(e *pgaad.Error) string {
		return fmt.Sprintf("The role %q is a Microsoft Entra principal (it carries pgaadauth security labels): manage it with "+
			"azurepg_principal, e.g. terraform import 'azurepg_principal.<name>' %s", e.Fact.Role, shellSingleQuoted(e.Fact.Role))
	},
	pgaad.TopicSchemaNotEmpty: func(*pgaad.Error) string {
		return "azurepg_schema drops a schema without CASCADE unless drop_cascade = true, so that no table goes with it unasked. " +
			"Nothing was changed: the schema and its objects are still there. Drop or move the objects first (when Terraform " +
			"manages them, make them refer to this schema, so that they are destroyed before it), then destroy again. To drop " +
			"them with the schema, data included, set drop_cascade = true, run terraform apply (which only records it in the state), " +
			"then destroy again; CASCADE also drops objects in other schemas that depend on them, such as views."
	},
	pgaad.TopicNotInTenant: func(e *pgaad.Error) string {
		if e.Fact.ByObjectID {
			return "Check object_id: it must be the object id (for a managed identity or service principal, its principal id, not " +
				"its client id) of an object in the server's tenant. An identity created seconds earlier may not be visible to Azure yet " +
				"(directory replication): apply again in a minute."
		}
		return "Check the spelling and case: a user is named by UPN, a group, service principal or managed identity by display name. " +
			"For an object that the tenant cannot find by name (e.g. one created in the same apply), set object_id and type."
	},
	pgaad.TopicAmbiguousName: func(*pgaad.Error) string {
		return "Several Entra objects share this name. Set object_id (and type) to say which one is meant."
	},
	pgaad.TopicValidation: func(e *pgaad.Error) string {
		if e.Fact.ByObjectID {
			return "Azure could not validate the object id against Microsoft Entra ID; object_id and type skip only the name lookup, " +
				"not this check. Retry later. If it keeps failing, check that the server can reach Microsoft Entra ID (a server with " +
				"private access needs outbound access to the AzureActiveDirectory service tag)."
		}
		return "Azure could not validate the name against Microsoft Entra ID. Retry later. If it keeps failing, check that the " +
			"server can reach Microsoft Entra ID (a server with private access needs outbound access to the AzureActiveDirectory " +
			"service tag). Setting object_id and type would skip the name lookup, not this check: Azure validates the object in " +
			"Entra ID either way."
	},
	pgaad.TopicWrongDatabase: func(*pgaad.Error) string {
		return "The pgaadauth_* functions exist only in the postgres database of an Azure Database for PostgreSQL flexible server " +
			"with Microsoft Entra authentication enabled. Check that host points at such a server and that Entra authentication is enabled on it."
	},
	pgaad.TopicNotEntraAdmin: func(*pgaad.Error) string {
		return "Only Microsoft Entra admins of the server (roles created with isAdmin = true, labelled admin) may create or drop " +
			"Entra principals. The password-based server admin is a member of azure_pg_admin too, but Azure lets it create only local " +
			"password-based users. Log in as an Entra admin: set username to the admin's name and an Entra auth_method (not \"password\")."
	},
}

// errorText is err's text for a diagnostic: a pgaad error's advice in
// Terraform's terms.
func errorText(err error) string {
	var pe *pgaad.Error
	errors.As(err, &pe)
	return withAdvice(err, pe)
}

// withAdvice is err's text with pgaad's advice replaced by the advice in
// Terraform's terms, when there is one for its situation. err may wrap pe
// (e.g. to redact a secret): the text is err's, and only its trailing
// advice changes.
func withAdvice(err error, pe *pgaad.Error) string {
	text := err.Error()
	if pe == nil {
		return text
	}
	word, ok := adviceFor[pe.Fact.Topic]
	if !ok {
		return text
	}
	advice := word(pe)
	switch {
	case pe.Advice == "":
		return text + "\n\n" + advice
	case strings.HasSuffix(text, "\n\n"+pe.Advice):
		return strings.TrimSuffix(text, pe.Advice) + advice
	}
	return text
}
