/*
 * pgaadauth_emulator: the server-side part of the local Azure emulator.
 *
 * Azure Database for PostgreSQL marks Entra principals with security labels
 * from two label providers, "pgaadauth" and "pgaadauth-int". Vanilla
 * PostgreSQL has no such providers, so SECURITY LABEL FOR "pgaadauth" fails.
 * This module registers both (accepting any label text; the emulator's SQL
 * functions write the labels), and enforces the "azure.extensions" allow-list
 * on CREATE EXTENSION for non-superusers, as Azure does.
 */
#include "postgres.h"

#include "commands/seclabel.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/varlena.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static char *azure_extensions = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;

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

static void
azure_utility_hook(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, CreateExtensionStmt) && !superuser())
	{
		CreateExtensionStmt *stmt = (CreateExtensionStmt *) parsetree;

		if (!extension_allowed(stmt->extname))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("extension \"%s\" is not allow-listed for \"azure_pg_admin\" users in Azure Database for PostgreSQL",
							stmt->extname),
					 errhint("to see the list of allowed extensions, please run: SHOW azure.extensions;")));
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
