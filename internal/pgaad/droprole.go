package pgaad

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Dropping a role so that nothing of it is left behind.
//
// DROP ROLE fails (2BP01) while the role owns objects or holds privileges in
// any database of the server, and each database must be cleaned from inside
// it. Most roles hold nothing by the time they are dropped (the grants were
// destroyed first), so the drop is tried first, as one statement; only
// when it fails does the clean-up run:
//
//  1. one query in postgres finds the databases where the role owns or
//     holds something (pg_shdepend is shared by all of them) and the
//     databases it owns;
//  2. when it owns objects and no new owner is given, each database that
//     holds them is read (pg_describe_object works only inside it) and the
//     drop fails naming them, having changed nothing;
//  3. otherwise each database is visited once, in one transaction:
//     REASSIGN OWNED BY the role TO the new owner (when given), then DROP
//     OWNED BY the role, which now drops nothing but the role's own default
//     privileges and revokes what the role holds; postgres comes last, and
//     its transaction ends with DROP ROLE.
//
// The Entra admin is not a superuser: REASSIGN OWNED and DROP OWNED need the
// privileges of the role (and of the new owner), and DROP OWNED revokes a
// privilege only as the object's owner (else PostgreSQL warns "no
// privileges could be revoked" and keeps it). The transaction therefore
// makes the login a member of each such role that it has no privileges of,
// and revokes exactly those memberships before it commits.
// GUESS: that Azure lets an azure_pg_admin member grant itself membership
// in an Entra principal or another nonrestricted role ("can manage roles
// ... owned by any nonrestricted role", Learn, security-access-control);
// TestLiveDropRoleCleansUp settles it on a real server.

// DropRole drops a role that may own objects or hold privileges; see above.
// ReassignTo, when set, receives what the role owns, in every database.
type DropRole struct {
	Name       string
	ReassignTo string
}

// OwnedObject is an object a role owns: what pg_describe_object says of it
// ("table sales.orders", "schema sales") and its database ("" for a
// database itself, which is shared).
type OwnedObject struct {
	Database    string
	Description string
}

// maxNamedOwned is how many owned objects per database an error names.
const maxNamedOwned = 20

// dropRole drops d.Name; a role that is already gone is not an error.
// rule classifies a failure of the first DROP ROLE (principals add their
// own advice).
func (c *Client) dropRole(ctx context.Context, op, objectType string, d DropRole, rule func(e *Error, pgErr *pgconn.PgError)) error {
	if err := checkRoleName(op, d.Name); err != nil {
		return err
	}
	if err := checkRoleName(op, d.ReassignTo); err != nil {
		return err
	}
	// One statement, one round trip (no BEGIN and COMMIT around it), which
	// other writes may share (writeSegment).
	_, err := writeSegment(ctx, c, PrincipalsDatabase, op, func(*pgx.Conn) ([]pipelineStep, func(int, error) (struct{}, error)) {
		return []pipelineStep{{sql: dropRoleSQL(d.Name)}}, func(_ int, err error) (struct{}, error) { return struct{}{}, err }
	}, nil)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42704": // undefined_object: gone already
		return nil
	case pgErr != nil && pgErr.Code == "2BP01":
		return c.cleanUpAndDrop(ctx, op, objectType, d)
	}
	return c.classify(op, Object{Type: objectType, Name: d.Name}, err, rule)
}

// roleHoldings is where a role owns or holds something (step 1).
type roleHoldings struct {
	exists, newOwnerExists bool
	// databases: each database (but postgres) where the role owns or holds
	// something; owning: those where it owns objects.
	databases []string
	owning    []string
	// ownedDatabases: the databases the role owns.
	ownedDatabases []string
}

func readHoldings(ctx context.Context, q querier, name, newOwner string) (roleHoldings, error) {
	h := roleHoldings{}
	err := q.QueryRow(ctx, `
		WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1),
		     dep AS (SELECT d.datname, s.deptype, s.classid
		               FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid, r
		              WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid AND d.datallowconn)
		SELECT EXISTS (SELECT 1 FROM r), EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2),
		       coalesce((SELECT array_agg(DISTINCT datname ORDER BY datname) FROM dep WHERE datname <> 'postgres'), '{}'),
		       coalesce((SELECT array_agg(DISTINCT datname ORDER BY datname) FROM dep
		                  WHERE deptype = 'o' AND classid <> 'pg_default_acl'::regclass), '{}'),
		       coalesce((SELECT array_agg(datname ORDER BY datname) FROM pg_database, r WHERE datdba = r.oid), '{}')`,
		name, newOwner).Scan(&h.exists, &h.newOwnerExists, &h.databases, &h.owning, &h.ownedDatabases)
	return h, err
}

// cleanUpAndDrop is steps 1 to 3.
func (c *Client) cleanUpAndDrop(ctx context.Context, op, objectType string, d DropRole) error {
	obj := Object{Type: objectType, Name: d.Name}
	h, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) (roleHoldings, error) { return readHoldings(ctx, q, d.Name, d.ReassignTo) })
	if err != nil || !h.exists {
		return c.classify(op, obj, err, nil)
	}
	if d.ReassignTo != "" && !h.newOwnerExists {
		return &Error{Op: op, Object: obj, Kind: ErrNotFound,
			Err:    fmt.Errorf("the new owner %q does not exist", d.ReassignTo),
			Advice: "Names are case-sensitive. Create the new owner first, or name another role. Nothing was changed.",
			Fact:   Fact{Topic: TopicRoleMissing, Role: d.ReassignTo}}
	}
	if d.ReassignTo == "" && (len(h.owning) > 0 || len(h.ownedDatabases) > 0) {
		return c.ownedObjectsError(ctx, op, obj, h)
	}
	for _, db := range h.databases {
		if _, err := write(ctx, c, db, op, func(tx pgx.Tx) (struct{}, error) {
			return struct{}{}, handOver(ctx, tx, d, false)
		}, nil); err != nil {
			return c.classify(op, Object{Type: objectType, Name: d.Name, Database: db}, err, dropRoleRule(d))
		}
	}
	// Running it again after a lost COMMIT is harmless: the role is gone
	// (handOver then does nothing) or still there with nothing left to hand over.
	_, err = write(ctx, c, PrincipalsDatabase, op, func(tx pgx.Tx) (struct{}, error) {
		return struct{}{}, handOver(ctx, tx, d, true)
	}, nil)
	return c.classify(op, obj, err, dropRoleRule(d))
}

// handOver is step 3 in the database of tx: it reads which privileges of
// other roles the login needs and lacks, then sends the whole script in one
// round trip; last, it ends with DROP ROLE.
func handOver(ctx context.Context, tx pgx.Tx, d DropRole, last bool) error {
	rows, err := tx.Query(ctx, neededRolesSQL, d.Name, d.ReassignTo)
	if err != nil {
		return err
	}
	needed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[neededRole])
	if err != nil {
		return err
	}
	exists := false
	for _, n := range needed {
		exists = exists || n.Name == d.Name
	}
	if !exists {
		return nil // dropped meanwhile
	}
	_, err = tx.Exec(ctx, handOverScript(d, needed, serverMajor(tx.Conn().PgConn()) >= 16, last))
	return err
}

// neededRole is a role whose privileges the hand-over needs (neededRolesSQL).
type neededRole struct {
	Name    string
	NeedSet bool // SET ROLE to it (the new owner), besides its privileges
	HasPriv bool // the login has its privileges already
	HasSet  bool // the login may SET ROLE to it already
	// PriorInherit, PriorSet: the options of the grant the login made to
	// itself before (PostgreSQL 16+: one grant per grantor), to put back
	// afterwards; nil when it made none.
	PriorInherit, PriorSet *bool
}

// neededRolesSQL: the roles whose privileges the hand-over needs here: the
// role itself, the new owner, and the owners of the objects on which the
// role holds privileges in this database or on shared objects (revoking
// them is the owner's right). Default privileges are left out: DROP OWNED
// removes the role from them without the owner's privileges. The role's
// own row is missing when the role is.
var neededRolesSQL = `
	WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1),
	     acl AS (SELECT s.classid, s.objid FROM pg_shdepend s, r
	              WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = r.oid AND s.deptype = 'a'
	                AND s.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))),
	     need AS (
	       SELECT relowner AS oid, false AS set FROM pg_class WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_class'::regclass)
	       UNION SELECT nspowner, false FROM pg_namespace WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_namespace'::regclass)
	       UNION SELECT proowner, false FROM pg_proc WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_proc'::regclass)
	       UNION SELECT typowner, false FROM pg_type WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_type'::regclass)
	       UNION SELECT datdba, false FROM pg_database WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_database'::regclass)
	       UNION SELECT lanowner, false FROM pg_language WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_language'::regclass)
	       UNION SELECT lomowner, false FROM pg_largeobject_metadata WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_largeobject'::regclass)
	       UNION SELECT srvowner, false FROM pg_foreign_server WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_foreign_server'::regclass)
	       UNION SELECT fdwowner, false FROM pg_foreign_data_wrapper WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_foreign_data_wrapper'::regclass)
	       UNION SELECT spcowner, false FROM pg_tablespace WHERE oid IN (SELECT objid FROM acl WHERE classid = 'pg_tablespace'::regclass)
	       UNION SELECT oid, false FROM r
	       UNION SELECT oid, true FROM pg_roles WHERE rolname = $2)
	SELECT o.rolname, bool_or(n.set), pg_has_role(current_user, o.oid, 'USAGE'),
	       pg_has_role(current_user, o.oid, CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END),
	       ` + priorSelfGrant("o.oid") + `
FROM need n JOIN pg_roles o ON o.oid = n.oid
	 GROUP BY o.rolname, o.oid ORDER BY o.rolname`

// priorSelfGrant is two columns: the INHERIT and SET options of the grant
// the login made to itself in the role whose oid is the expression role
// (PostgreSQL 16+ keeps one grant per grantor), NULL when it made none or
// on 15, whose pg_auth_members has no options.
func priorSelfGrant(role string) string {
	option := func(name string) string {
		return `(SELECT (to_jsonb(m) ->> '` + name + `')::bool FROM pg_auth_members m
		  WHERE m.roleid = ` + role + ` AND m.grantor = m.member
		    AND m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user))`
	}
	return option("inherit_option") + ", " + option("set_option")
}

// handOverScript is the statements of step 3, one simple-protocol string:
// the memberships the login lacks, the hand-over, the memberships put back
// as they were, and (last) DROP ROLE.
func handOverScript(d DropRole, needed []neededRole, pg16, last bool) string {
	grant, restore := borrowScript(needed, pg16)
	var b strings.Builder
	b.WriteString(grant)
	role := pgx.Identifier{d.Name}.Sanitize()
	if d.ReassignTo != "" {
		b.WriteString("REASSIGN OWNED BY " + role + " TO " + pgx.Identifier{d.ReassignTo}.Sanitize() + ";\n")
	}
	b.WriteString("DROP OWNED BY " + role + ";\n")
	b.WriteString(restore)
	if last {
		b.WriteString(dropRoleSQL(d.Name) + ";\n")
	}
	return b.String()
}

// borrowScript is the GRANTs that give the login, inside one transaction,
// the privileges (and, where asked, SET ROLE) of the roles it needs and
// lacks, and the statements that then put its memberships back as they
// were. Both are "" when it lacks nothing.
func borrowScript(needed []neededRole, pg16 bool) (grant, restore string) {
	var g, r strings.Builder
	for _, n := range needed {
		if n.HasPriv && (!n.NeedSet || n.HasSet) {
			continue
		}
		role := pgx.Identifier{n.Name}.Sanitize()
		switch {
		case !pg16:
			// One membership per pair on 15: the login is not a member.
			g.WriteString("GRANT " + role + " TO CURRENT_USER;\n")
			r.WriteString("REVOKE " + role + " FROM CURRENT_USER;\n")
		default:
			// Options not named keep their value in an existing grant.
			opts := " WITH INHERIT TRUE"
			if n.NeedSet {
				opts += ", SET TRUE"
			}
			if n.PriorInherit != nil && n.PriorSet != nil {
				// The login's own grant: changed and put back by name, so
				// that no other grantor's grant is touched.
				g.WriteString("GRANT " + role + " TO CURRENT_USER" + opts + " GRANTED BY CURRENT_USER;\n")
				fmt.Fprintf(&r, "GRANT %s TO CURRENT_USER WITH INHERIT %t, SET %t GRANTED BY CURRENT_USER;\n", role, *n.PriorInherit, *n.PriorSet)
			} else {
				// GUESS (the emulator's reading of Azure's azure_pg_admin
				// enhancement): a grant the login may make only under it is
				// recorded with another grantor, and REVOKE takes back that
				// grant. A membership another grantor gave before is then
				// taken back too; TestLiveAzureRoleRules settles the grantor.
				g.WriteString("GRANT " + role + " TO CURRENT_USER" + opts + ";\n")
				r.WriteString("REVOKE " + role + " FROM CURRENT_USER;\n")
			}
		}
	}
	return g.String(), r.String()
}

// ownedObjectsError is step 2: the objects the role owns, by database,
// read from inside each database, and nothing changed.
func (c *Client) ownedObjectsError(ctx context.Context, op string, obj Object, h roleHoldings) error {
	name := obj.Name
	var owned []OwnedObject
	for _, db := range h.ownedDatabases {
		owned = append(owned, OwnedObject{Description: "database " + pgx.Identifier{db}.Sanitize()})
	}
	for _, db := range h.owning {
		objs, err := read(ctx, c, db, op, func(q querier) ([]OwnedObject, error) { return readOwned(ctx, q, db, name) })
		if err != nil {
			return c.classify(op, Object{Type: obj.Type, Name: name, Database: db}, err, nil)
		}
		owned = append(owned, objs...)
	}
	var b strings.Builder
	for _, o := range owned {
		b.WriteString("\n  " + o.Description)
		if o.Database != "" {
			fmt.Fprintf(&b, " (database %q)", o.Database)
		}
	}
	return &Error{Op: op, Object: obj, Kind: ErrOwnsObjects,
		Err: fmt.Errorf("the role owns objects, which would be left without an owner:%s", b.String()),
		Advice: "Nothing was changed. Give them a new owner first: REASSIGN OWNED BY " + pgx.Identifier{name}.Sanitize() +
			" TO <new owner>, in each database named, as a member of both roles; or ALTER ... OWNER TO for each object. " +
			"Or drop the objects, if their data is no longer needed.",
		Fact: Fact{Topic: TopicOwnsObjects, Role: name}}
}

// readOwned lists what name owns in the database of q (default privileges
// aside: the role's own are dropped with it), at most maxNamedOwned and a
// count of the rest.
func readOwned(ctx context.Context, q querier, db, name string) ([]OwnedObject, error) {
	var descs []string
	var total int
	err := q.QueryRow(ctx, `
		WITH o AS (SELECT pg_describe_object(s.classid, s.objid, s.objsubid) AS d
		             FROM pg_shdepend s
		            WHERE s.refclassid = 'pg_authid'::regclass AND s.deptype = 'o'
		              AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
		              AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		              AND s.classid <> 'pg_default_acl'::regclass)
		SELECT coalesce((SELECT array_agg(d ORDER BY d) FROM (SELECT d FROM o ORDER BY d LIMIT $2) x), '{}'),
		       (SELECT count(*) FROM o)`, name, maxNamedOwned).Scan(&descs, &total)
	if err != nil {
		return nil, err
	}
	objs := make([]OwnedObject, 0, len(descs)+1)
	for _, d := range descs {
		objs = append(objs, OwnedObject{Database: db, Description: d})
	}
	if rest := total - len(descs); rest > 0 {
		objs = append(objs, OwnedObject{Database: db, Description: fmt.Sprintf("and %d more objects", rest)})
	}
	return objs, nil
}

// dropRoleRule classifies a failure of the clean-up.
func dropRoleRule(d DropRole) func(e *Error, pgErr *pgconn.PgError) {
	return func(e *Error, pgErr *pgconn.PgError) {
		switch pgErr.Code {
		case "42501":
			e.Kind = ErrPermissionDenied
			e.Advice = "Handing over what the role owns and revoking what it holds needs the privileges of the role, of the new owner " +
				"and of the owners of the objects it holds privileges on; the login made itself a member of each for the time of " +
				"the transaction, and the server refused one of these steps (named above). A new owner that receives a schema also " +
				"needs CREATE on the database (GRANT CREATE ON DATABASE ... TO <new owner>). Nothing was changed in this database."
		case "2BP01":
			e.Kind = ErrDependentObjects
			e.Advice = "Something the clean-up cannot revoke as an object's owner still depends on the role (listed above), for " +
				"example a privilege granted by a role other than the object's owner. Revoke it as that grantor, then drop the role again."
		}
	}
}
