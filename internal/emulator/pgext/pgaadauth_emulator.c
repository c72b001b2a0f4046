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
 *  - DROP ROLE of an Entra principal only by an Entra administrator;
 *  - Azure's rules for azure_pg_admin on every version (Learn, *Access
 *    management*): azure_pg_admin itself is restricted, pg_write_all_data is
 *    never granted, and its members manage nonrestricted roles (below).
 */
#include "postgres.h"

#include "catalog/objectaddress.h"
#include "access/transam.h"
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
 * Entra admin, an indirect source), and that Azure checks
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

/*
 * Restricted roles: Azure's own and PostgreSQL's. Learn documents only
 * azure_pg_admin ("permission denied to alter restricted role") and
 * superusers as restricted. GUESS: the predefined pg_* roles and the
 * bootstrap superuser (oids below FirstNormalObjectId) count as restricted
 * too, so the enhancement below never reaches them and PostgreSQL's own
 * rules apply (on 16+, no GRANT pg_read_all_data without ADMIN OPTION).
 * TestLiveAzureRoleRules would settle it.
 */
static bool
is_azure_pg_admin(Oid roleid)
{
	return OidIsValid(roleid) && roleid == get_role_oid("azure_pg_admin", true);
}

static bool
is_restricted_role(Oid roleid)
{
	return roleid < FirstNormalObjectId || superuser_arg(roleid) || is_azure_pg_admin(roleid);
}

static Oid
rolespec_oid(RoleSpec *spec)
{
	if (spec == NULL || spec->roletype == ROLESPEC_PUBLIC)
		return InvalidOid;
	return get_rolespec_oid(spec, true);
}

static void
refuse_restricted(Oid roleid)
{
	if (is_azure_pg_admin(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to alter restricted role \"azure_pg_admin\"")));
}

/* Whether the current user is a non-superuser member of azure_pg_admin. */
static bool
acting_as_azure_admin(void)
{
	Oid			pgadmin = get_role_oid("azure_pg_admin", true);

	return OidIsValid(pgadmin) && !superuser() && is_member_of_role(GetUserId(), pgadmin);
}

/*
 * "Improved control for azure_pg_admin" (Learn, *Access management*):
 * PostgreSQL 16 lets a CREATEROLE role alter, drop, label or grant only the
 * roles on which it holds ADMIN OPTION; Azure lets members of azure_pg_admin
 * "manage roles ... owned by any nonrestricted role, even if those roles are
 * also members of azure_pg_admin". The emulator reads this narrowly: on
 * 16+, an azure_pg_admin member may ALTER, DROP, COMMENT ON, SECURITY LABEL
 * and GRANT/REVOKE membership in any nonrestricted role as if it held ADMIN
 * OPTION on it, and nothing more.
 *
 * GUESS (all three; TestLiveAzureRoleRules settles them):
 *  - "access objects owned by any nonrestricted role" is NOT modelled: GRANT
 *    on another role's objects, ALTER DEFAULT PRIVILEGES FOR ROLE and SET
 *    ROLE follow PostgreSQL (membership with INHERIT/SET is needed);
 *  - a membership granted under the enhancement records the bootstrap
 *    superuser as its grantor (as PostgreSQL records a superuser's grant),
 *    and a REVOKE under it takes back only such grants;
 *  - GRANT/REVOKE of azure_pg_admin itself to a nonrestricted role is
 *    allowed (Learn's training module: the server admin may grant
 *    azure_pg_admin to the users it creates).
 */
static bool
can_manage_role(Oid roleid, bool granting)
{
	if (!OidIsValid(roleid))
		return false;
	if (is_admin_of_role(GetUserId(), roleid))
		return true;
	if (granting && is_azure_pg_admin(roleid))
		return true;
	return !is_restricted_role(roleid);
}

/* Whether a role-managing statement needs the enhancement to run. */
static bool
needs_enhancement(Oid roleid)
{
	return OidIsValid(roleid) && !is_admin_of_role(GetUserId(), roleid);
}

/* GRANT/REVOKE role: restricted grantees and pg_write_all_data on every version. */
static bool
check_grant_role(GrantRoleStmt *stmt)
{
	ListCell   *lc;
	bool		elevate = false;
	bool		allowed = true;

	foreach(lc, stmt->grantee_roles)
	{
		Oid			grantee = rolespec_oid(lfirst(lc));

		refuse_restricted(grantee);
		if (OidIsValid(grantee) && is_restricted_role(grantee))
			allowed = false;
	}
	foreach(lc, stmt->granted_roles)
	{
		AccessPriv *priv = lfirst(lc);
		Oid			roleid = get_role_oid(priv->priv_name, true);

		/*
		 * Learn: pg_write_all_data can never be granted. GUESS: the text and
		 * SQLSTATE (TestLiveAzureRoleRules).
		 */
		if (stmt->is_grant && priv->priv_name && strcmp(priv->priv_name, "pg_write_all_data") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to grant role \"pg_write_all_data\""),
					 errdetail("Azure Database for PostgreSQL does not allow granting pg_write_all_data; grant privileges on specific objects instead.")));
		if (!can_manage_role(roleid, true))
			allowed = false;
		else if (needs_enhancement(roleid))
			elevate = true;
	}
	return allowed && elevate && stmt->grantor == NULL;
}

/* ALTER ROLE: never the attributes only a superuser may give. */
static bool
alter_role_options_allowed(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = lfirst(lc);

		if (strcmp(d->defname, "superuser") == 0 || strcmp(d->defname, "isreplication") == 0 ||
			strcmp(d->defname, "rolemembers") == 0)
			return false;
	}
	return true;
}

/* Whether every role of a list may be managed, and one needs the enhancement. */
static bool
manage_roles(List *roles)
{
	ListCell   *lc;
	bool		elevate = false;

	foreach(lc, roles)
	{
		Oid			roleid = rolespec_oid(lfirst(lc));

		refuse_restricted(roleid);
		if (!can_manage_role(roleid, false))
			return false;
		elevate = elevate || needs_enhancement(roleid);
	}
	return elevate;
}

static bool
manage_named_role(Node *object)
{
	Oid			roleid = get_role_oid(strVal(object), true);

	refuse_restricted(roleid);
	return can_manage_role(roleid, false) && needs_enhancement(roleid);
}

/*
 * azure_rules: checks every version enforces, and whether the statement
 * runs under the azure_pg_admin enhancement (PostgreSQL 16+ only: before 16
 * CREATEROLE alone manages every non-superuser role).
 */
static bool
azure_rules(Node *parsetree)
{
	bool		elevate = false;

	switch (nodeTag(parsetree))
	{
		case T_GrantRoleStmt:
			elevate = check_grant_role((GrantRoleStmt *) parsetree);
			break;
		case T_AlterRoleStmt:
			elevate = manage_roles(list_make1(((AlterRoleStmt *) parsetree)->role)) &&
				alter_role_options_allowed(((AlterRoleStmt *) parsetree)->options);
			break;
		case T_AlterRoleSetStmt:
			if (((AlterRoleSetStmt *) parsetree)->role != NULL)
				elevate = manage_roles(list_make1(((AlterRoleSetStmt *) parsetree)->role));
			break;
		case T_DropRoleStmt:
			elevate = manage_roles(((DropRoleStmt *) parsetree)->roles);
			break;
		case T_SecLabelStmt:
			if (((SecLabelStmt *) parsetree)->objtype == OBJECT_ROLE)
				elevate = manage_named_role(((SecLabelStmt *) parsetree)->object);
			break;
		case T_CommentStmt:
			if (((CommentStmt *) parsetree)->objtype == OBJECT_ROLE)
				elevate = manage_named_role(((CommentStmt *) parsetree)->object);
			break;
		default:
			break;
	}
	return elevate && PG_VERSION_NUM >= 160000;
}

static void
run_utility(PlannedStmt *pstmt, const char *queryString,
			bool readOnlyTree, ProcessUtilityContext context,
			ParamListInfo params, QueryEnvironment *queryEnv,
			DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context,
						  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * CURRENT_USER and CURRENT_ROLE name the caller: written as its name, so
 * that they still do once the statement runs as the bootstrap superuser
 * (else GRANT r TO CURRENT_USER would make the superuser the member, and
 * ALTER ROLE CURRENT_USER would alter the superuser).
 */
static void
name_current_user(RoleSpec *spec)
{
	if (spec != NULL &&
		(spec->roletype == ROLESPEC_CURRENT_USER || spec->roletype == ROLESPEC_CURRENT_ROLE))
	{
		spec->roletype = ROLESPEC_CSTRING;
		spec->rolename = GetUserNameFromId(GetUserId(), false);
	}
}

static void
name_current_users(Node *parsetree)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_GrantRoleStmt:
			foreach(lc, ((GrantRoleStmt *) parsetree)->grantee_roles)
				name_current_user(lfirst(lc));
			name_current_user(((GrantRoleStmt *) parsetree)->grantor);
			break;
		case T_AlterRoleStmt:
			name_current_user(((AlterRoleStmt *) parsetree)->role);
			break;
		case T_AlterRoleSetStmt:
			name_current_user(((AlterRoleSetStmt *) parsetree)->role);
			break;
		case T_DropRoleStmt:
			foreach(lc, ((DropRoleStmt *) parsetree)->roles)
				name_current_user(lfirst(lc));
			break;
		default:
			break;
	}
}

/* Runs the statement as the bootstrap superuser, as Azure's enhancement lets it run. */
static void
run_utility_enhanced(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	Oid			save_userid;
	int			save_sec_context;

	if (readOnlyTree)
	{
		pstmt = copyObject(pstmt);
		readOnlyTree = false;
	}
	name_current_users(pstmt->utilityStmt);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		run_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
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
		/*
		 * The enhancement stands in for ADMIN OPTION, not for CREATEROLE,
		 * which PostgreSQL 16 asks for as well (narrowest reading).
		 */
		if (acting_as_azure_admin() && azure_rules(parsetree) && has_createrole_privilege(GetUserId()))
		{
			run_utility_enhanced(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
			return;
		}
	}
	run_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
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
