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
			"pgaadauth_create_principal. Manage it as azurepg_role (terraform import azurepg_role.<name> with the role's name), or drop " +
			"it and let Terraform create the Entra principal."
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
	pgaad.TopicReadOnly: func(*pgaad.Error) string {
		return "The server is read-only: it refused the change (SQLSTATE 25006), and nothing was changed. Likely reasons:\n" +
			"- its storage is full: Azure switches a flexible server to read-only when 95% of its storage is used or less than 5 GiB are free;\n" +
			"- the provider's host is a read replica, which takes no changes;\n" +
			"- the server is being started, stopped, restored or scaled, or someone set the server parameter default_transaction_read_only.\n" +
			"What to do: grow the storage (storage_mb of azurerm_postgresql_flexible_server, or az postgres flexible-server update --storage-size) " +
			"or turn on storage autogrow (auto_grow_enabled = true), or free space (drop unused logical replication slots, which keep WAL); " +
			"point the provider's host at the primary server, not a replica. Then run terraform apply again: the provider does not wait " +
			"for a read-only server, which stays read-only until its storage grows. Plans and refreshes still work meanwhile."
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
	pgaad.TopicNotAllowListed:    notAllowListedAdvice,
	pgaad.TopicExtensionVersions: extensionVersionsAdvice,
	pgaad.TopicSchemaMissing: func(*pgaad.Error) string {
		return "Create the schema first (it must exist in this database), or leave schema unset."
	},
	pgaad.TopicNotRelocatable: func(*pgaad.Error) string {
		return "This extension is not relocatable and always lives in the schema named above: leave schema unset or set it to that name."
	},
	pgaad.TopicExtensionInUse: func(*pgaad.Error) string {
		return "Objects listed above (e.g. columns of a type the extension defines) depend on the extension. " +
			"The provider never drops with CASCADE, since that would also drop them and their data. " +
			"Drop or change those objects first (if Terraform manages them, make them depend on this resource " +
			"so that they are destroyed before it), then apply again."
	},
	pgaad.TopicCredential: func(*pgaad.Error) string {
		return "The credential chosen by auth_method could not produce a token. Check auth_method, client_id and tenant_id, and that " +
			"this machine has the identity (a managed identity exists only on Azure compute it is assigned to)."
	},
	pgaad.TopicTLSRequired: func(*pgaad.Error) string { return `Set sslmode to "verify-full" (the default).` },
	pgaad.TopicNoTLS: func(*pgaad.Error) string {
		return `Use sslmode = "disable" only for a local server without TLS; Azure always offers TLS.`
	},
	pgaad.TopicCertHostName: func(*pgaad.Error) string { return "No token or password was sent. The provider's " + hostRule },
	pgaad.TopicCertAuthority: func(*pgaad.Error) string {
		return trustRoots + " Something other than your server may be answering on this address. The provider's " + hostRule
	},
	pgaad.TopicTLSFailed: func(*pgaad.Error) string { return trustRoots + " For verify-full, the provider's " + hostRule },
	pgaad.TopicPasswordRefused: func(*pgaad.Error) string {
		return "Check username and password (PGPASSWORD)."
	},
	pgaad.TopicLoginRefused: func(*pgaad.Error) string {
		return "Check that:\n" +
			"- username is the principal's exact role name (case-sensitive): a user's UPN, or the display name of the group, service principal or managed identity;\n" +
			"- that principal exists on this server (an Entra admin of the server, or created with azurepg_principal or pgaadauth_create_principal);\n" +
			"- the token is for the server's tenant and cloud (tenant_id, cloud), and auth_method/client_id select the identity you meant;\n" +
			"- the token has not expired: a token given with access_token (AZUREPG_ACCESS_TOKEN) is used as is, never refreshed;\n" +
			"- the role's Entra object was not deleted and recreated: the role keeps the old object id (relabel it, or create the principal again)."
	},
	pgaad.TopicTokenFormat: func(*pgaad.Error) string { return pgaad.TokenFormatAdvice + " " + staticToken },
	pgaad.TopicTokenExpired: func(e *pgaad.Error) string {
		if e.Fact.ExpiresAt.IsZero() {
			return staticToken
		}
		return staticToken + " Check this machine's clock too."
	},
	pgaad.TopicTokenOtherIdentity: func(e *pgaad.Error) string {
		target := "the token's identity"
		if e.Fact.TokenObjectID != "" {
			target += " (object " + e.Fact.TokenObjectID + ")"
		}
		how := "for a managed identity or service principal, auth_method and client_id select it"
		if e.Fact.RoleKind == "user" {
			how = "for a user's role, a token of that user: auth_method = \"azure_cli\" after az login as that user, or access_token"
		}
		return fmt.Sprintf("Either log in as the identity the role %q was created for (%s), or set username to the role created for %s; "+
			"if it has none, create one with azurepg_principal (object_id and type) as an Entra admin of the server.", e.Fact.Role, how, target)
	},
	pgaad.TopicTokenCloud: func(e *pgaad.Error) string {
		return fmt.Sprintf("Set the provider's cloud to %q if the server is in that cloud, or get a token for %s/.default.", e.Fact.Cloud, e.Fact.Resource)
	},
	pgaad.TopicObjectsMissing: func(*pgaad.Error) string {
		return "Names are case-sensitive. Create the objects first (and make this resource depend on what creates them), " +
			"or remove them from objects. Nothing was changed."
	},
}

// Words of the connection advice that several topics share.
const (
	// staticToken: tokens the provider fetches are renewed before they
	// expire; a token it is given is not.
	staticToken = "A token given with access_token (AZUREPG_ACCESS_TOKEN) is used as is, never refreshed: get a new one " +
		"(az account get-access-token --resource-type oss-rdbms), or let the provider fetch tokens with another auth_method."
	trustRoots = "No token or password was sent. If the server's certificate comes from a private CA (or the emulator's), " +
		"set the provider's sslrootcert (or PGSSLROOTCERT) to a PEM file with that CA's root certificates; it replaces the system trust store. " +
		pgaad.AzureTLSRoots
	hostRule = "host must be the server's FQDN as it appears in its certificate (myserver.postgres.database.azure.com), " +
		"also when you reach it through a private endpoint (resolve that name to the private address with private DNS), never an IP address."
)

// notAllowListedAdvice says how to allow an extension on Azure: the server
// parameter azure.extensions is an ARM setting, outside this provider. Prose
// is one line per paragraph (Terraform wraps it); the indented HCL is left
// as it is.
func notAllowListedAdvice(e *pgaad.Error) string {
	name := e.Object.Name
	return fmt.Sprintf("Azure lets azure_pg_admin members create only the extensions listed in the server parameter "+
		"azure.extensions (SHOW azure.extensions; shows the list). Add %q to that list. It is an ARM setting of the flexible server, "+
		"which this provider cannot change; with the azurerm provider:\n\n"+
		"  resource \"azurerm_postgresql_flexible_server_configuration\" \"extensions\" {\n"+
		"    name      = \"azure.extensions\"\n"+
		"    server_id = azurerm_postgresql_flexible_server.example.id\n"+
		"    value     = %s # comma-separated: keep the extensions already allowed\n"+
		"  }\n\n"+
		"and make this resource wait for it:\n\n"+
		"  depends_on = [azurerm_postgresql_flexible_server_configuration.extensions]\n\n"+
		"With the Azure CLI: az postgres flexible-server parameter set --resource-group <rg> --server-name <server> "+
		"--name azure.extensions --value <comma-separated list>. "+
		"Some extensions must also be listed in shared_preload_libraries, which takes effect after a server restart.",
		name, hclquote.String(strings.ToUpper(name)))
}

// extensionVersionsAdvice says which versions of the extension the server
// has and where the installed one can go, in terms of the version
// attribute.
func extensionVersionsAdvice(e *pgaad.Error) string {
	f := e.Fact
	advice := fmt.Sprintf("Versions of %q on this server: %s", e.Object.Name, strings.Join(f.Versions, ", "))
	if f.DefaultVersion != "" {
		advice += fmt.Sprintf(" (default %s, used when version is not set)", f.DefaultVersion)
	}
	advice += "."
	switch {
	case f.Installed == "":
	case len(f.UpdateTargets) == 0:
		advice += fmt.Sprintf(" The installed version %s has no update path to any other version (PostgreSQL cannot downgrade "+
			"an extension; to go back, replace the resource, which drops and creates it: terraform apply -replace=<address>).", f.Installed)
	default:
		advice += fmt.Sprintf(" The installed version %s can be updated to: %s.", f.Installed, strings.Join(f.UpdateTargets, ", "))
	}
	return advice
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
