/*
 * pgaadauth_emulator: the server-side part of the local Azure emulator.
 *
 * Azure Database for PostgreSQL marks Entra principals with security labels
 * from two label providers, "pgaadauth" and "pgaadauth-int". Vanilla
 * PostgreSQL has no such providers, so SECURITY LABEL FOR "pgaadauth" fails.
 * This module registers both (accepting any label text; the emulator's SQL
 * functions write the labels) and, for non-superusers, enforces what Azure
 * enforces on utility statements:
 *  - CREATE EXTENSION and DROP EXTENSION only for members of azure_pg_admin,
 *    and only for extensions on the "azure.extensions" allow-list (*Errors
 *    with extensions* on Microsoft Learn names both texts and both commands);
 *  - DROP ROLE of an Entra principal only by an Entra administrator.
 */
#include "postgres.h"

#include "catalog/objectaddress.h"
#include "catalog/pg_authid.h"
#include "commands/seclabel.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/varlena.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static char *azure_extensions = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;

/*
 * GUESS: that an Entra admin may rewrite an Entra role's labels with
 * SECURITY LABEL (PostgreSQL lets any role with CREATEROLE label a
 * non-superuser role; Microsoft's troubleshooting guidance relabels as the
 * Entra admin, an indirect source, spec section 5), and that Azure checks
 * nothing of the label's text. The provider changes admin and mfa in place
 * this way; TestLivePrincipalAdminInPlace would settle it.
 */
static void
accept_any_label(const ObjectAddress *object, const char *seclabel)
{
	/* Azure validates nothing visible to users here; neither do we. */
}

static bool
extension_allowed(const char *name)
{
	char	   *raw;
	List	   *items;
	ListCell   *lc;
	bool		found = false;

	if (azure_extensions == NULL)
		return false;
	raw = pstrdup(azure_extensions);
	if (!SplitIdentifierString(raw, ',', &items))
		return false;
	foreach(lc, items)
	{
		if (pg_strcasecmp((char *) lfirst(lc), name) == 0)
		{
			found = true;
			break;
		}
	}
	return found;
}

/* The "pgaadauth" label of a role, or NULL. */
static char *
role_label(Oid roleid)
{
	ObjectAddress addr;

	ObjectAddressSet(addr, AuthIdRelationId, roleid);
	return GetSecurityLabel(&addr, "pgaadauth");
}

/* Whether a label (aadauth[,admin][,mfa] or the older aadauth,oid=..,type=..[,admin]) has this item. */
static bool
label_has(const char *label, const char *item)
{
	char	   *raw;
	List	   *items;
	ListCell   *lc;

	if (label == NULL)
		return false;
	raw = pstrdup(label);
	if (!SplitIdentifierString(raw, ',', &items))
		return false;
	foreach(lc, items)
	{
		if (strcmp((char *) lfirst(lc), item) == 0)
			return true;
	}
	return false;
}

/*
 * check_extension_command: Azure lets only members of azure_pg_admin run
 * CREATE EXTENSION and DROP EXTENSION, and only for allow-listed extensions.
 * GUESS: the SQLSTATEs (42501 for membership, 0A000 for the allow-list) and
 * that membership is checked before the allow-list are not documented;
 * TestLiveExtensionPermissions would settle them.
 */
static void
check_extension_command(const char *command, List *names)
{
	Oid			pgadmin = get_role_oid("azure_pg_admin", true);
	ListCell   *lc;

	if (!OidIsValid(pgadmin) || !is_member_of_role(GetUserId(), pgadmin))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("Only members of \"azure_pg_admin\" are allowed to use %s", command)));
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);

		if (!extension_allowed(name))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("extension \"%s\" is not allow-listed for \"azure_pg_admin\" users in Azure Database for PostgreSQL",
							name),
					 errhint("to see the list of allowed extensions, please run: SHOW azure.extensions;")));
	}
}

/*
 * check_drop_role: only Entra administrators create Entra principals (the
 * pgaadauth functions refuse everybody else); the emulator lets only them
 * drop one too. GUESS: Microsoft does not document what DROP ROLE of an
 * Entra principal does for the password server admin, which has CREATEROLE
 * like any azure_pg_admin member; the text is PostgreSQL 15's own for a
 * role that may not be dropped. TestLiveDropEntraRoleAsPasswordAdmin would
 * settle it.
 */
static void
check_drop_role(DropRoleStmt *stmt)
{
	ListCell   *lc;

	if (label_has(role_label(GetSessionUserId()), "admin"))
		return;
	foreach(lc, stmt->roles)
	{
		RoleSpec   *spec = lfirst(lc);
		Oid			roleid;

		if (spec->roletype != ROLESPEC_CSTRING)
			continue;
		roleid = get_role_oid(spec->rolename, true);
		if (OidIsValid(roleid) && label_has(role_label(roleid), "aadauth"))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to drop role"),
					 errdetail("Role \"%s\" is a Microsoft Entra principal; only Microsoft Entra administrators may drop it.",
							   spec->rolename)));
	}
}

static void
azure_utility_hook(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (!superuser())
	{
		if (IsA(parsetree, CreateExtensionStmt))
			check_extension_command("CREATE EXTENSION",
									list_make1(((CreateExtensionStmt *) parsetree)->extname));
		else if (IsA(parsetree, DropStmt) && ((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION)
		{
			List	   *names = NIL;
			ListCell   *lc;

			foreach(lc, ((DropStmt *) parsetree)->objects)
				names = lappend(names, strVal(lfirst(lc)));
			check_extension_command("DROP EXTENSION", names);
		}
		else if (IsA(parsetree, DropRoleStmt))
			check_drop_role((DropRoleStmt *) parsetree);
	}

	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context,
						  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

void
_PG_init(void)
{
	register_label_provider("pgaadauth", accept_any_label);
	register_label_provider("pgaadauth-int", accept_any_label);

	DefineCustomStringVariable("azure.extensions",
							   "Extensions that azure_pg_admin members may create.",
							   NULL,
							   &azure_extensions,
							   "",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = azure_utility_hook;
}
