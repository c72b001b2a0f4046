package pgaad

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// GrantTarget says whose privileges on what: one role's privileges on a
// database, a schema, or tables / sequences / functions of a schema (the
// listed ones, or all of them).
type GrantTarget struct {
	Role       string // PublicRole for PUBLIC
	Database   string
	ObjectType string // database, schema, table, sequence, function
	Schema     string // for schema, table, sequence and function
	// Objects are names in Schema (a function name covers all its
	// overloads); nil means every object of the type in Schema.
	Objects []string
}

// what names the grant in messages; the Object adds the database.
func (t GrantTarget) what() string {
	var on string
	switch t.ObjectType {
	case ObjectTypeDatabase:
		on = "the database"
	case ObjectTypeSchema:
		on = fmt.Sprintf("schema %q", t.Schema)
	default:
		what := "all " + t.ObjectType + "s"
		if t.Objects != nil {
			what = fmt.Sprintf("%ss %q", t.ObjectType, t.Objects)
		}
		on = fmt.Sprintf("%s of schema %q", what, t.Schema)
	}
	role := fmt.Sprintf("role %q", t.Role)
	if t.Role == PublicRole {
		role = "PUBLIC"
	}
	return fmt.Sprintf("privileges of %s on %s", role, on)
}

func (t GrantTarget) object() Object { return Object{Type: ObjectGrant, Database: t.Database} }

// Grant is what the server has for a GrantTarget.
type Grant struct {
	// Objects are the names of the objects the target covers that exist now
	// (sorted; a function overloaded n times appears once).
	Objects []string
	// Count is the number of those objects (function overloads counted apart).
	Count int
	// Missing are listed objects that do not exist.
	Missing []string
	// Privileges the role holds on every one of the objects (sorted), by
	// any grantor. With no object at all, nothing.
	Privileges []string
	// GrantOptionAll: each of Privileges is held with grant option on every
	// object. GrantOptionAny: some privilege is held with grant option on
	// some object.
	GrantOptionAll, GrantOptionAny bool
	// Full is what ALL means for the object type on this server's version.
	Full []string
	// OtherGrantors: some privilege of the role on some object was granted
	// by a role other than the object's owner (whose REVOKE cannot take it).
	OtherGrantors bool
}

// grantSource is, for each object type, the objects a target covers, with
// columns oid, name, owner, acl (the defaults when NULL: PUBLIC's default
// privileges are shown, not lost), args (a function's identity arguments).
// It reads the parameters from the CTE a (role, sch, objs).
var grantSource = map[string]string{
	ObjectTypeDatabase: `SELECT d.oid, d.datname::text AS name, d.datdba AS owner,
	       coalesce(d.datacl, acldefault('d', d.datdba)) AS acl, ''::text AS args
	  FROM pg_database d WHERE d.datname = current_database()`,
	ObjectTypeSchema: `SELECT n.oid, n.nspname::text AS name, n.nspowner AS owner, coalesce(n.nspacl, acldefault('n', n.nspowner)) AS acl, ''::text AS args
	  FROM pg_namespace n, a WHERE n.nspname = a.sch`,
	ObjectTypeTable: `SELECT c.oid, c.relname::text AS name, c.relowner AS owner, coalesce(c.relacl, acldefault('r', c.relowner)) AS acl, ''::text AS args
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, a
	 WHERE n.nspname = a.sch AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND (a.objs IS NULL OR c.relname = ANY (a.objs))`,
	ObjectTypeSequence: `SELECT c.oid, c.relname::text AS name, c.relowner AS owner, coalesce(c.relacl, acldefault('s', c.relowner)) AS acl, ''::text AS args
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, a
	 WHERE n.nspname = a.sch AND c.relkind = 'S' AND (a.objs IS NULL OR c.relname = ANY (a.objs))`,
	ObjectTypeFunction: `SELECT p.oid, p.proname::text AS name, p.proowner AS owner, coalesce(p.proacl, acldefault('f', p.proowner)) AS acl,
	       pg_get_function_identity_arguments(p.oid) AS args
	  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, a
	 WHERE n.nspname = a.sch AND p.prokind IN ('f', 'a', 'w') AND (a.objs IS NULL OR p.proname = ANY (a.objs))`,
}

// grantTargetCTEs are the common table expressions of the queries about
// one target, from their parameters ($1 role, $2 schema, $3 listed
// objects): a, the parameters; r, the role's oid (0 for PUBLIC, NULL when
// it does not exist); o, the objects the target covers (grantSource).
func grantTargetCTEs(objectType string) string {
	return `WITH a AS (SELECT $1::text AS role, $2::text AS sch, $3::text[] AS objs),
     r AS (SELECT CASE WHEN a.role = 'public' THEN 0::oid ELSE (SELECT oid FROM pg_roles WHERE rolname = a.role) END AS oid FROM a),
     o AS (` + grantSource[objectType] + `)`
}

// grantQuery reads a target in one statement: whether the role and schema
// exist, the objects covered, and, from aclexplode, the privileges the role
// holds on every one of them.
func grantQuery(objectType string) string {
	return grantTargetCTEs(objectType) + `,
     p AS (SELECT o.oid, x.privilege_type AS priv, bool_or(x.is_grantable) AS grantable
             FROM o CROSS JOIN LATERAL aclexplode(o.acl) x
            WHERE x.grantee = (SELECT oid FROM r)
            GROUP BY o.oid, x.privilege_type),
     c AS (SELECT priv FROM p GROUP BY priv HAVING count(*) = (SELECT count(*) FROM o))
SELECT (SELECT oid FROM r) IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_namespace n, a WHERE n.nspname = a.sch),
       (SELECT count(*) FROM o)::int,
       coalesce((SELECT array_agg(DISTINCT name ORDER BY name) FROM o), '{}'),
       coalesce((SELECT array_agg(priv ORDER BY priv) FROM c), '{}'),
       coalesce((SELECT bool_and(grantable) FROM p WHERE priv IN (SELECT priv FROM c)), false),
       coalesce((SELECT bool_or(grantable) FROM p), false),
       coalesce((SELECT bool_or(x.grantor <> o.owner) FROM o CROSS JOIN LATERAL aclexplode(o.acl) x
                  WHERE x.grantee = (SELECT oid FROM r)), false),
       coalesce((SELECT array_agg(x.privilege_type ORDER BY x.privilege_type)
                   FROM aclexplode(acldefault($4::"char", 1::oid)) x WHERE x.grantee = 1), '{}')`
}

// ReadGrant reads what the server has for a target, in one statement.
// ErrNotFound when the role or the schema does not exist,
// ErrDatabaseMissing when the database does not (the grant is gone with it).
//
// Reads are answered from the process's snapshot of the target's
// (database, schema, object type) while it is valid (snapshot.go).
func (c *Client) ReadGrant(ctx context.Context, t GrantTarget) (Grant, error) {
	if g, err, ok := c.grantFromSnapshot(ctx, t); ok {
		return g, c.classify("reading "+t.what(), t.object(), err, nil)
	}
	return c.grantDirect(ctx, t)
}

// grantDirect reads a target from the server, never from a snapshot.
func (c *Client) grantDirect(ctx context.Context, t GrantTarget) (Grant, error) {
	op := "reading " + t.what()
	g, err := read(ctx, c, t.Database, op, func(q querier) (Grant, error) { return readGrant(ctx, q, t) })
	return g, c.classify(op, t.object(), err, nil)
}

func readGrant(ctx context.Context, q querier, t GrantTarget) (Grant, error) {
	if _, ok := grantSource[t.ObjectType]; !ok {
		return Grant{}, fmt.Errorf("pgaad: unknown object type %q", t.ObjectType)
	}
	return scanGrant(q.QueryRow(ctx, grantQuery(t.ObjectType), grantArgs(t)...), t)
}

// grantArgs are grantQuery's arguments.
func grantArgs(t GrantTarget) []any {
	return []any{t.Role, t.Schema, t.Objects, aclCode[t.ObjectType]}
}

// grantRow is grantQuery's row, as the server computes it or as a
// snapshot does (grantSnapshot.row): both end in grantFromRow, so that the
// two cannot differ in what they make of it.
type grantRow struct {
	roleExists, schemaExists       bool
	count                          int
	names, privileges              []string
	grantOptionAll, grantOptionAny bool
	otherGrantors                  bool
	full                           []string
}

// scanGrant reads grantQuery's row.
func scanGrant(row pgx.Row, t GrantTarget) (Grant, error) {
	var r grantRow
	err := row.Scan(&r.roleExists, &r.schemaExists, &r.count, &r.names, &r.privileges, &r.grantOptionAll, &r.grantOptionAny, &r.otherGrantors, &r.full)
	if err != nil {
		return Grant{}, err
	}
	return grantFromRow(r, t)
}

// grantFromRow is what a read of t returns for grantQuery's row.
func grantFromRow(r grantRow, t GrantTarget) (Grant, error) {
	switch {
	case !r.roleExists:
		return Grant{}, &Error{Op: "reading " + t.what(), Object: t.object(), Kind: ErrNotFound,
			Err: fmt.Errorf("role %q does not exist", t.Role)}
	case t.ObjectType != ObjectTypeDatabase && !r.schemaExists:
		return Grant{}, &Error{Op: "reading " + t.what(), Object: t.object(), Kind: ErrNotFound,
			Err: fmt.Errorf("schema %q does not exist", t.Schema)}
	}
	g := Grant{Objects: r.names, Count: r.count, Privileges: r.privileges, GrantOptionAll: r.grantOptionAll,
		GrantOptionAny: r.grantOptionAny, OtherGrantors: r.otherGrantors, Full: r.full}
	if t.Objects != nil {
		for _, o := range t.Objects {
			if !slices.Contains(g.Objects, o) {
				g.Missing = append(g.Missing, o)
			}
		}
		slices.Sort(g.Missing)
	}
	if g.Count == 0 || len(g.Missing) > 0 {
		// Nothing is held on every object when an object is missing (the
		// plan shows the difference and apply says which one).
		g.Privileges, g.GrantOptionAll = nil, false
	}
	return g, nil
}

// grantObject is one object a write acts on.
type grantObject struct {
	name, args string
	owner      string
	restricted bool // see restrictedRole
	direct     bool // the login owns it or has the owner's privileges (INHERIT): no SET ROLE needed
	canSet     bool // the login may SET ROLE to the owner
}

// canAct: the login can grant on the object, directly or as its owner.
func (o grantObject) canAct() bool { return o.direct || o.canSet }

func grantObjectsQuery(objectType string) string {
	return `WITH a AS (SELECT $1::text AS sch, $2::text[] AS objs),
     o AS (` + grantSource[objectType] + `)
SELECT o.name, o.args, r.rolname::text, ` + restrictedRole + `,
       ` + hasOwnerPrivileges + `, pg_has_role(current_user, r.oid, ` + canSetRole + `)
  FROM o JOIN pg_roles r ON r.oid = o.owner
 ORDER BY r.rolname, o.name, o.args`
}

// aclLockSpace is the high half of the advisory lock keys that serialize
// ACL writes ("azpg"); the low half is the object's oid.
const aclLockSpace = 0x617a7067

// grantLockQuery takes a transaction-level advisory lock per object of the
// target, in oid order (so that two writes never wait for each other
// crosswise), and says who the login is.
func grantLockQuery(objectType string) string {
	return fmt.Sprintf(`WITH a AS (SELECT $1::text AS sch, $2::text[] AS objs),
     o AS (%s)
SELECT current_user::text, count(pg_advisory_xact_lock(k)) FROM (SELECT (%d::bigint << 32) | o.oid::bigint AS k FROM o ORDER BY 1) s`,
		grantSource[objectType], aclLockSpace)
}

// sqlName is an object as GRANT names it.
func (t GrantTarget) sqlName(o grantObject) string {
	switch t.ObjectType {
	case ObjectTypeDatabase, ObjectTypeSchema:
		return pgx.Identifier{o.name}.Sanitize()
	case ObjectTypeFunction:
		// The identity arguments are the server's own rendering of the types.
		return pgx.Identifier{t.Schema, o.name}.Sanitize() + "(" + o.args + ")"
	default:
		return pgx.Identifier{t.Schema, o.name}.Sanitize()
	}
}

// ApplyGrant makes the role hold exactly privileges (with or without grant
// option) on every object of the target, in one transaction: for each
// owner of the objects in turn it acts as that owner (SET LOCAL ROLE, the
// way a non-superuser Entra admin may grant on what a role it belongs to
// owns), revokes what the role holds and grants the privileges. Any failure
// rolls everything back. The result is read back in the same transaction.
// Two round trips (see applyGrant), or, in the common case, one that other
// writes may share (grants_fast.go). Running it again is harmless, so a
// lost COMMIT needs no check.
func (c *Client) ApplyGrant(ctx context.Context, t GrantTarget, privileges []string, withGrantOption bool) (Grant, error) {
	return writePrivileges(ctx, c, t, false, privileges, withGrantOption, applyGrant, func(ctx context.Context, op string) (Grant, bool, error) {
		return c.grantInOneRoundTrip(ctx, op, t, privileges, withGrantOption)
	})
}

// RevokeGrant revokes every privilege the role holds on the target's
// objects (those that still exist), in two round trips. A role, schema or
// database that is gone took its privileges with it: not an error.
func (c *Client) RevokeGrant(ctx context.Context, t GrantTarget) error {
	_, err := writePrivileges(ctx, c, t, true, nil, false, applyGrant, func(ctx context.Context, op string) (Grant, bool, error) {
		return c.grantInOneRoundTrip(ctx, op, t, nil, false)
	})
	return err
}

// applyGrant is one attempt, in a transaction it opens on conn; no
// privileges revokes everything. Round trips:
//
//  1. BEGIN, the advisory locks, the read of what the role holds and the
//     objects with their owners, as one pipeline;
//  2. the REVOKE and GRANT as each owner, the read-back and COMMIT, as one
//     pipeline (sendPipeline): a failed statement skips the rest, COMMIT
//     included, and leaves the transaction open to explain the failure. A
//     revoke, with nothing to read back, ends with COMMIT. When another
//     grantor's grant may be left over, the COMMIT waits for the read-back:
//     a third round trip.
func applyGrant(ctx context.Context, conn *pgx.Conn, op string, t GrantTarget, privileges []string, withGrantOption bool) (Grant, error) {
	if _, ok := grantSource[t.ObjectType]; !ok {
		return Grant{}, fmt.Errorf("pgaad: unknown object type %q", t.ObjectType)
	}
	defer rollbackOpen(ctx, conn)
	login, before, objs, err := beginGrant(ctx, conn, t)
	if err != nil {
		return Grant{}, err
	}
	if len(before.Missing) > 0 && len(privileges) > 0 {
		return Grant{}, &Error{Op: op, Object: t.object(), Kind: ErrNotFound,
			Err:    fmt.Errorf("no %s named %q in schema %q", t.ObjectType, before.Missing, t.Schema),
			Advice: "Names are case-sensitive. Create the objects first, or leave them out of the grant. Nothing was changed.",
			Fact:   Fact{Topic: TopicObjectsMissing}}
	}
	s := grantScript(t, objs, before, privileges, withGrantOption)
	steps := make([]pipelineStep, 0, len(s.stmts)+2)
	for _, stmt := range s.stmts {
		steps = append(steps, pipelineStep{sql: stmt})
	}
	var after Grant
	var others []string
	if !s.committed {
		steps = append(steps, pipelineStep{sql: grantQuery(t.ObjectType), args: grantArgs(t),
			row: func(row pgx.Row) (err error) { after, err = scanGrant(row, t); return err }})
		if s.check {
			steps = append(steps, pipelineStep{sql: otherPrivilegesQuery(t.ObjectType), args: []any{t.Role, t.Schema, t.Objects},
				row: func(row pgx.Row) error { return row.Scan(&others) }})
		} else {
			// Nothing can be left over: COMMIT in the same round trip. (Should
			// the read-back fail on this side, the COMMIT has run all the same;
			// the write is whole, and running it again is harmless.)
			steps = append(steps, pipelineStep{sql: "commit"})
		}
	}
	if done, err := sendPipeline(ctx, conn, steps); err != nil {
		if done < len(s.stmts) {
			return Grant{}, aclWriteError(ctx, conn, op, t, login, objs, before, err)
		}
		return Grant{}, err
	}
	if s.committed {
		return Grant{}, nil // the owners' REVOKEs took everything
	}
	if s.check {
		if left := leftOver(others, after, privileges, withGrantOption); left != "" {
			// The owner's REVOKE takes back only the owner's grants: what a role
			// holding the grant option granted stays (PostgreSQL records one
			// grant per grantor). Say so rather than let the state differ from
			// the plan.
			return Grant{}, &Error{Op: op, Object: t.object(), Kind: ErrPermissionDenied,
				Err:    fmt.Errorf("after the owner's REVOKE the role still holds %s", left),
				Advice: otherGrantorsAdvice(ctx, conn, t)}
		}
		if _, err := conn.Exec(ctx, "commit"); err != nil {
			return Grant{}, err
		}
	}
	if len(privileges) == 0 {
		return Grant{}, nil
	}
	return after, nil
}

// beginGrant is the first round trip: BEGIN, the advisory locks, what the
// role holds and the objects with their owners, as one pipeline. The locks
// serialize writes to the same objects' ACLs: two transactions that grant
// on one object at once (two roles' grants applied in parallel) would
// otherwise fail with "tuple concurrently updated"; the reads that follow
// in the pipeline run after the locks are taken.
func beginGrant(ctx context.Context, conn *pgx.Conn, t GrantTarget) (login string, before Grant, objs []grantObject, err error) {
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(grantLockQuery(t.ObjectType), t.Schema, t.Objects)
	b.Queue(grantQuery(t.ObjectType), grantArgs(t)...)
	b.Queue(grantObjectsQuery(t.ObjectType), t.Schema, t.Objects)
	err = batchSteps(conn.SendBatch(ctx, b),
		func(br pgx.BatchResults) error { _, err := br.Exec(); return err },
		func(br pgx.BatchResults) error { return br.QueryRow().Scan(&login, new(int64)) },
		func(br pgx.BatchResults) (err error) { before, err = scanGrant(br.QueryRow(), t); return err },
		func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			objs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (grantObject, error) {
				var o grantObject
				return o, row.Scan(&o.name, &o.args, &o.owner, &o.restricted, &o.direct, &o.canSet)
			})
			return err
		})
	return login, before, objs, err
}

// grantWrite is the write of a grant, as grantScript builds it: the
// statements of the second round trip, before the read-back.
type grantWrite struct {
	stmts []string // in order; none when no object is covered
	// check: another grantor's grant may outlive the owners' REVOKEs, so
	// the read-back must look before COMMIT.
	check bool
	// committed: stmts end with COMMIT (a revoke with nothing to check).
	committed bool
}

// grantScript is the REVOKE and GRANT that make the role hold exactly
// privileges on objs, grouped by owner. It runs no SQL, so it is tested
// without a server. With the owner's privileges (its own objects, or an
// inheriting membership) the login grants directly, and PostgreSQL records
// the owner as grantor; otherwise it acts as the owner: SET ROLE, revoke,
// grant, and back.
func grantScript(t GrantTarget, objs []grantObject, before Grant, privileges []string, withGrantOption bool) grantWrite {
	kind := strings.ToUpper(t.ObjectType)
	role := quoteRole(t.Role)
	revokes := grantRevokes(t, before, privileges, withGrantOption)
	var stmts []string
	for i := 0; i < len(objs); {
		owner, asOwner := objs[i].owner, !objs[i].direct
		var names []string
		for ; i < len(objs) && objs[i].owner == owner; i++ {
			names = append(names, t.sqlName(objs[i]))
		}
		if asOwner {
			stmts = append(stmts, "SET LOCAL ROLE "+pgx.Identifier{owner}.Sanitize())
		}
		on := " ON " + kind + " " + strings.Join(names, ", ")
		for _, revoke := range revokes {
			stmts = append(stmts, revoke+on+" FROM "+role)
		}
		if len(privileges) > 0 {
			grant := "GRANT " + privilegeList(privileges) + on + " TO " + role
			if withGrantOption {
				grant += " WITH GRANT OPTION"
			}
			stmts = append(stmts, grant)
		}
		if asOwner {
			stmts = append(stmts, "RESET ROLE")
		}
	}
	w := grantWrite{check: before.OtherGrantors} // only another grantor's grant can outlive the owners' REVOKEs
	if len(stmts) == 0 {
		return w
	}
	if before.GrantOptionAny {
		// The REVOKE may find that the role passed its grant option on
		// (2BP01): a savepoint keeps the transaction usable to say to whom.
		stmts = append(append([]string{"SAVEPOINT azurepg_revoke"}, stmts...), "RELEASE SAVEPOINT azurepg_revoke")
	}
	if len(privileges) == 0 && !w.check {
		stmts = append(stmts, "COMMIT")
		w.committed = true
	}
	w.stmts = stmts
	return w
}

// grantRevokes are the REVOKEs (without ON and FROM) that, followed by the
// GRANT of privileges, leave the role exactly those: everything for a
// revoke; otherwise only the privileges not wanted, and the grant option of
// the wanted ones when it is not wanted. A privilege that stays is never
// revoked and granted again: a grant option the role has passed on would
// make that REVOKE fail (2BP01) although nothing changes for it.
//
// A REVOKE that the read before (under the advisory locks) shows to take
// nothing is left out: the grant option when the role holds none on any
// of the objects, and the unwanted privileges when the target is one
// object (the read then knows all the role holds) that has none of them.
// A first grant on one object is then the GRANT alone.
func grantRevokes(t GrantTarget, before Grant, privileges []string, withGrantOption bool) []string {
	if len(privileges) == 0 {
		return []string{"REVOKE ALL"}
	}
	var out []string
	unwanted := notWanted(before.Full, privileges)
	if len(unwanted) > 0 && (before.Count != 1 || slices.ContainsFunc(before.Privileges, func(p string) bool { return slices.Contains(unwanted, p) })) {
		out = append(out, "REVOKE "+privilegeList(unwanted))
	}
	if !withGrantOption && t.Role != PublicRole && before.GrantOptionAny { // PUBLIC never holds a grant option
		out = append(out, "REVOKE GRANT OPTION FOR "+privilegeList(privileges))
	}
	return out
}

// actOn is what a grant's op does to the objects, as cannotActAdvice's
// "it may <what> only by acting as the owner": op is "granting ..." or
// "revoking ...".
func actOn(op string) string {
	if strings.HasPrefix(op, "revoking") {
		return "revoke privileges on them"
	}
	return "grant privileges on them"
}

// aclWriteError explains a failure of the REVOKE / GRANT string.
func aclWriteError(ctx context.Context, conn *pgx.Conn, op string, t GrantTarget, login string, objs []grantObject, before Grant, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case pgErr.Code == "42501":
		// canAct() is true for what the login owns itself.
		if blocked := blockedOwners(t, objs); len(blocked) > 0 {
			return &Error{Op: op, Object: t.object(), Kind: ErrCannotActAsOwner, Err: err,
				Advice: cannotActAdvice(login, blocked, actOn(op))}
		}
	case pgErr.Code == "2BP01" && before.GrantOptionAny:
		if _, rbErr := conn.Exec(ctx, "ROLLBACK TO SAVEPOINT azurepg_revoke"); rbErr != nil {
			return err
		}
		return &Error{Op: op, Object: t.object(), Kind: ErrDependentObjects, Err: err,
			Advice: dependentGrantsAdvice(ctx, conn, t)}
	}
	return err
}

// leftOver says what the role still holds beyond privileges (with or
// without grant option) after a write, or "": others are the privileges
// other grantors gave it on any of the objects (otherPrivilegesQuery), as
// only their grants can outlive the owners' REVOKE.
func leftOver(others []string, after Grant, privileges []string, withGrantOption bool) string {
	switch extra := notWanted(others, privileges); {
	case len(extra) > 0:
		return strings.Join(extra, ", ")
	case !withGrantOption && after.GrantOptionAny:
		return "a grant option"
	}
	return ""
}

// notWanted is have without privileges (nothing when privileges is ALL).
func notWanted(have, privileges []string) []string {
	if slices.Contains(privileges, AllPrivileges) {
		return nil
	}
	var out []string
	for _, p := range have {
		if !slices.Contains(privileges, p) {
			out = append(out, p)
		}
	}
	return out
}

// otherPrivilegesQuery is the privileges that grantors other than each
// object's owner gave the role on any of the target's objects (sorted).
func otherPrivilegesQuery(objectType string) string {
	return grantTargetCTEs(objectType) + `
SELECT coalesce(array_agg(DISTINCT x.privilege_type ORDER BY x.privilege_type), '{}')
  FROM o CROSS JOIN LATERAL aclexplode(o.acl) x
 WHERE x.grantee = (SELECT oid FROM r) AND x.grantor <> o.owner`
}

// otherGrantorsQuery lists, for a target, who besides each object's owner
// granted the role something on it: grantor, object, privileges.
func otherGrantorsQuery(objectType string) string {
	return grantTargetCTEs(objectType) + `
SELECT g.rolname::text, o.name, string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type)
  FROM o CROSS JOIN LATERAL aclexplode(o.acl) x JOIN pg_roles g ON g.oid = x.grantor
 WHERE x.grantee = (SELECT oid FROM r) AND x.grantor <> o.owner
 GROUP BY g.rolname, o.name ORDER BY 1, 2`
}

// dependentGrantsQuery lists what the role, holding a grant option,
// granted others on the target's objects: grantee, object, privileges.
func dependentGrantsQuery(objectType string) string {
	return grantTargetCTEs(objectType) + `
SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE (SELECT rolname::text FROM pg_roles WHERE oid = x.grantee) END, o.name,
       string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type)
  FROM o CROSS JOIN LATERAL aclexplode(o.acl) x
 WHERE x.grantor = (SELECT oid FROM r) AND x.grantee <> x.grantor
 GROUP BY 1, 2 ORDER BY 1, 2`
}

// grantRows runs one of the two queries above for the advice of an error
// (in the transaction, which is rolled back after): "role: privileges on
// object" lines, at most 10.
func grantRows(ctx context.Context, q querier, query string, t GrantTarget) string {
	rows, err := q.Query(ctx, query, t.Role, t.Schema, t.Objects)
	if err != nil {
		return ""
	}
	defer rows.Close()
	var b strings.Builder
	n := 0
	for rows.Next() {
		var role, object, privs string
		if rows.Scan(&role, &object, &privs) != nil {
			break
		}
		if n++; n <= 10 {
			fmt.Fprintf(&b, "\n  %s: %s on %s %s", quoteRole(role), privs, t.ObjectType, pgx.Identifier{object}.Sanitize())
		}
	}
	if n > 10 {
		fmt.Fprintf(&b, "\n  and %d more", n-10)
	}
	return b.String()
}

// otherGrantorsAdvice explains privileges that another grantor's grant keeps.
func otherGrantorsAdvice(ctx context.Context, q querier, t GrantTarget) string {
	return "Another role, holding the grant option, granted these privileges too; PostgreSQL keeps one grant per grantor " +
		"and the owner's REVOKE takes back only the owner's. The grantors:" + grantRows(ctx, q, otherGrantorsQuery(t.ObjectType), t) +
		"\n\nAs each grantor (or a member of it), run REVOKE <privileges> ON <object> FROM " + quoteRole(t.Role) +
		"; then apply again. Nothing was changed."
}

// dependentGrantsAdvice explains a REVOKE refused because the role passed
// on, with its grant option, what it holds.
func dependentGrantsAdvice(ctx context.Context, q querier, t GrantTarget) string {
	return "The role holds these privileges with grant option and granted them on to others:" +
		grantRows(ctx, q, dependentGrantsQuery(t.ObjectType), t) +
		"\n\nThe provider never revokes with CASCADE, which would take them from those roles too. Revoke them first " +
		"(as " + quoteRole(t.Role) + ": REVOKE <privileges> ON <object> FROM <role>), or, to take them all, run the REVOKE ... FROM " +
		quoteRole(t.Role) + " CASCADE yourself; then apply again. Nothing was changed."
}

// blockedOwners groups the objects whose owner the login cannot act as.
func blockedOwners(t GrantTarget, objs []grantObject) []ownerInfo {
	var out []ownerInfo
	for _, o := range objs {
		if o.canAct() {
			continue
		}
		desc := t.ObjectType + " " + t.sqlName(o)
		if n := len(out); n > 0 && out[n-1].owner == o.owner {
			out[n-1].objects = append(out[n-1].objects, desc)
			continue
		}
		out = append(out, ownerInfo{owner: o.owner, restricted: o.restricted, objects: []string{desc}})
	}
	return out
}
