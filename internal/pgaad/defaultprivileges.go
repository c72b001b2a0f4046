package pgaad

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultPrivilegesTarget says which default privileges: those that
// objects of ObjectType created by Owner (in Schema, or anywhere when
// Schema is empty) give to Role.
type DefaultPrivilegesTarget struct {
	Role       string // PublicRole for PUBLIC
	Database   string
	Owner      string
	Schema     string // "" for the whole database
	ObjectType string // table, sequence, function, type, schema (the last only without Schema)
}

// what names the default privileges in messages; the Object adds the database.
func (t DefaultPrivilegesTarget) what() string {
	role := fmt.Sprintf("role %q", t.Role)
	if t.Role == PublicRole {
		role = "PUBLIC"
	}
	where := ""
	if t.Schema != "" {
		where = fmt.Sprintf(" in schema %q", t.Schema)
	}
	return fmt.Sprintf("default privileges of %s on %ss created by %q%s", role, t.ObjectType, t.Owner, where)
}

func (t DefaultPrivilegesTarget) object() Object {
	return Object{Type: ObjectDefaultPrivileges, Database: t.Database}
}

// DefaultPrivileges is what the server has for a target.
type DefaultPrivileges struct {
	Privileges      []string // sorted
	WithGrantOption bool     // every one of them with grant option
	Full            []string // what ALL means for the object type here
}

// defaclType is pg_default_acl.defaclobjtype, and the plural of ALTER
// DEFAULT PRIVILEGES, for each object type.
var (
	defaclType   = map[string]string{"table": "r", "sequence": "S", "function": "f", "type": "T", "schema": "n"}
	defaclPlural = map[string]string{"table": "TABLES", "sequence": "SEQUENCES", "function": "FUNCTIONS", "type": "TYPES", "schema": "SCHEMAS"}
)

// defaultPrivilegesQuery reads a target in one statement. Without a schema,
// no pg_default_acl row means the built-in defaults (acldefault: PUBLIC may
// execute functions and use types); in a schema, no row means nothing added.
const defaultPrivilegesQuery = `
WITH a AS (SELECT $1::text AS role, $2::text AS owner, $3::text AS sch, $4::"char" AS t, $5::"char" AS code),
     r AS (SELECT CASE WHEN a.role = 'public' THEN 0::oid ELSE (SELECT oid FROM pg_roles WHERE rolname = a.role) END AS oid FROM a),
     w AS (SELECT (SELECT oid FROM pg_roles, a WHERE rolname = a.owner) AS oid),
     n AS (SELECT CASE WHEN a.sch = '' THEN 0::oid ELSE (SELECT oid FROM pg_namespace WHERE nspname = a.sch) END AS oid FROM a),
     acl AS (SELECT coalesce(
                (SELECT d.defaclacl FROM pg_default_acl d, a
                  WHERE d.defaclrole = (SELECT oid FROM w) AND d.defaclnamespace = (SELECT oid FROM n) AND d.defaclobjtype = a.t),
                CASE WHEN (SELECT oid FROM n) = 0 THEN acldefault((SELECT code FROM a), (SELECT oid FROM w)) END) AS acl),
     p AS (SELECT x.privilege_type AS priv, bool_or(x.is_grantable) AS grantable
             FROM acl CROSS JOIN LATERAL aclexplode(acl.acl) x
            WHERE x.grantee = (SELECT oid FROM r)
            GROUP BY x.privilege_type)
SELECT (SELECT oid FROM r) IS NOT NULL, (SELECT oid FROM w) IS NOT NULL, (SELECT oid FROM n) IS NOT NULL,
       coalesce((SELECT array_agg(priv ORDER BY priv) FROM p), '{}'),
       coalesce((SELECT bool_and(grantable) FROM p), false),
       coalesce((SELECT array_agg(x.privilege_type ORDER BY x.privilege_type)
                   FROM a, aclexplode(acldefault(a.code, 1::oid)) x WHERE x.grantee = 1), '{}')`

// ReadDefaultPrivileges reads what the server has, in one statement.
// ErrNotFound when the role, the owner or the schema does not exist,
// ErrDatabaseMissing when the database does not.
func (c *Client) ReadDefaultPrivileges(ctx context.Context, t DefaultPrivilegesTarget) (DefaultPrivileges, error) {
	op := "reading " + t.what()
	d, err := read(ctx, c, t.Database, op, func(q querier) (DefaultPrivileges, error) { return readDefaultPrivileges(ctx, q, t) })
	return d, c.classify(op, t.object(), err, nil)
}

func readDefaultPrivileges(ctx context.Context, q querier, t DefaultPrivilegesTarget) (DefaultPrivileges, error) {
	if _, ok := defaclType[t.ObjectType]; !ok {
		return DefaultPrivileges{}, fmt.Errorf("pgaad: unknown object type %q for default privileges", t.ObjectType)
	}
	return scanDefaultPrivileges(q.QueryRow(ctx, defaultPrivilegesQuery, defaultPrivilegesArgs(t)...), t)
}

// defaultPrivilegesArgs are defaultPrivilegesQuery's arguments.
func defaultPrivilegesArgs(t DefaultPrivilegesTarget) []any {
	return []any{t.Role, t.Owner, t.Schema, defaclType[t.ObjectType], aclCode[t.ObjectType]}
}

// scanDefaultPrivileges reads defaultPrivilegesQuery's row.
func scanDefaultPrivileges(row pgx.Row, t DefaultPrivilegesTarget) (DefaultPrivileges, error) {
	var d DefaultPrivileges
	var roleOK, ownerOK, schemaOK bool
	if err := row.Scan(&roleOK, &ownerOK, &schemaOK, &d.Privileges, &d.WithGrantOption, &d.Full); err != nil {
		return DefaultPrivileges{}, err
	}
	var missing error
	switch {
	case !roleOK:
		missing = fmt.Errorf("role %q does not exist", t.Role)
	case !ownerOK:
		missing = fmt.Errorf("the owner, role %q, does not exist", t.Owner)
	case !schemaOK:
		missing = fmt.Errorf("schema %q does not exist", t.Schema)
	}
	if missing != nil {
		return DefaultPrivileges{}, &Error{Op: "reading " + t.what(), Object: t.object(), Kind: ErrNotFound, Err: missing}
	}
	return d, nil
}

// ApplyDefaultPrivileges makes the default privileges exactly privileges,
// in one transaction: it acts as the owner (SET LOCAL ROLE; the Entra
// admin is not a superuser and may change the defaults of a role only as a
// member of it), revokes what the role has by default and grants the
// privileges, then reads the result back. Two round trips, as
// applyGrant, or, when the login has the owner's privileges, one that
// other writes may share (defaultPrivilegesInOneRoundTrip). Running it
// again is harmless.
func (c *Client) ApplyDefaultPrivileges(ctx context.Context, t DefaultPrivilegesTarget, privileges []string, withGrantOption bool) (DefaultPrivileges, error) {
	return writePrivileges(ctx, c, t, false, privileges, withGrantOption, applyDefaultPrivileges,
		func(ctx context.Context, op string) (DefaultPrivileges, bool, error) {
			return c.defaultPrivilegesInOneRoundTrip(ctx, op, t, privileges, withGrantOption)
		})
}

// RevokeDefaultPrivileges revokes the role's default privileges, in two
// round trips (one in the common case); a role, owner, schema or database that is gone is not an
// error.
func (c *Client) RevokeDefaultPrivileges(ctx context.Context, t DefaultPrivilegesTarget) error {
	_, err := writePrivileges(ctx, c, t, true, nil, false, applyDefaultPrivileges,
		func(ctx context.Context, op string) (DefaultPrivileges, bool, error) {
			return c.defaultPrivilegesInOneRoundTrip(ctx, op, t, nil, false)
		})
	return err
}

// defaultPrivilegesStatements revoke what the role has by default and
// grant it privileges (none: revoke only), for a login with the owner's
// privileges.
func defaultPrivilegesStatements(t DefaultPrivilegesTarget, privileges []string, withGrantOption bool) []string {
	head := "ALTER DEFAULT PRIVILEGES FOR ROLE " + pgx.Identifier{t.Owner}.Sanitize()
	if t.Schema != "" {
		head += " IN SCHEMA " + pgx.Identifier{t.Schema}.Sanitize()
	}
	role := quoteRole(t.Role)
	plural := defaclPlural[t.ObjectType]
	stmts := []string{head + " REVOKE ALL ON " + plural + " FROM " + role}
	if len(privileges) > 0 {
		grant := head + " GRANT " + privilegeList(privileges) + " ON " + plural + " TO " + role
		if withGrantOption {
			grant += " WITH GRANT OPTION"
		}
		stmts = append(stmts, grant)
	}
	return stmts
}

// defaultPrivilegesGuard fails (division by zero) unless the role (or
// PUBLIC) and the schema (when named) exist and the login has the owner's
// privileges or may SET ROLE to it: then defaultPrivilegesStatements
// alone are the write. When the login does not have the owner's ($1)
// privileges (PostgreSQL 16+: a role the login created is held with SET,
// not INHERIT), the second column acts as the owner for the rest of the
// segment, as applyDefaultPrivileges' SET LOCAL ROLE (see grantGuardQuery).
const defaultPrivilegesGuard = `WITH w AS (SELECT r.rolname, (r.rolname = session_user OR pg_has_role(session_user, r.oid, 'USAGE')) AS direct,
                  pg_has_role(session_user, r.oid, ` + canSetRole + `) AS can_set
             FROM pg_roles r WHERE r.rolname = $1)
SELECT 1 / (
       coalesce((SELECT direct OR can_set FROM w), false)
       AND ($2 = 'public' OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2))
       AND ($3 = '' OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $3)))::int,
       (SELECT count(set_config('role', w.rolname, true)) FROM w WHERE NOT w.direct)`

// defaultPrivilegesInOneRoundTrip is the common-case write (no
// privileges: revoke) in one round trip that other writes may share, as
// grantInOneRoundTrip: the lock, the guard, the statements and the
// read-back as one pipeline segment. ok is false when it did not apply
// and the general write must run.
func (c *Client) defaultPrivilegesInOneRoundTrip(ctx context.Context, op string, t DefaultPrivilegesTarget, privileges []string,
	withGrantOption bool) (d DefaultPrivileges, ok bool, err error) {
	if _, known := defaclType[t.ObjectType]; !known {
		return DefaultPrivileges{}, false, nil
	}
	revoke := len(privileges) == 0
	d, err = writeSegment(ctx, c, t.Database, op, func(*pgx.Conn) ([]pipelineStep, func(int, error) (DefaultPrivileges, error)) {
		steps := []pipelineStep{
			{sql: defaultPrivilegesLockQuery, args: []any{t.Owner, t.Schema, t.ObjectType},
				row: func(row pgx.Row) error { return row.Scan(new(string), new(bool), new(bool), new(bool), new(bool)) }},
			{sql: defaultPrivilegesGuard, args: []any{t.Owner, t.Role, t.Schema}},
		}
		for _, stmt := range defaultPrivilegesStatements(t, privileges, withGrantOption) {
			steps = append(steps, pipelineStep{sql: stmt})
		}
		var after DefaultPrivileges
		if !revoke {
			steps = append(steps, pipelineStep{sql: defaultPrivilegesQuery, args: defaultPrivilegesArgs(t),
				row: func(row pgx.Row) (err error) { after, err = scanDefaultPrivileges(row, t); return err }})
		}
		return steps, func(done int, err error) (DefaultPrivileges, error) {
			var pgErr *pgconn.PgError
			if err != nil && done == len(steps)-1 && !revoke && !errors.As(err, &pgErr) {
				return DefaultPrivileges{}, errNotAsAssumed // read in Go: the general write (idempotent) reads it again
			}
			return after, fastOutcome(err)
		}
	}, nil)
	if errors.Is(err, errNotAsAssumed) {
		c.log(ctx, "pgaad: the default privileges go the general way", map[string]any{"op": op, "database": t.Database})
		return DefaultPrivileges{}, false, nil
	}
	return d, true, err
}

// defaultPrivilegesLockQuery serializes writes to one pg_default_acl row
// (owner, schema, type): parallel applies for two roles would otherwise
// fail with "tuple concurrently updated". It also says who the login is
// and whether it can act as the owner.
const defaultPrivilegesLockQuery = `SELECT current_user::text,
       pg_advisory_xact_lock(hashtextextended(format('azurepg defacl %s %s %s', $1::text, $2::text, $3::text), 0)) IS NULL,
       coalesce((SELECT ` + restrictedRole + ` FROM pg_roles r WHERE r.rolname = $1), false),
       coalesce((SELECT ` + hasOwnerPrivileges + ` FROM pg_roles r WHERE r.rolname = $1), false),
       coalesce((SELECT pg_has_role(current_user, r.oid, ` + canSetRole + `) FROM pg_roles r WHERE r.rolname = $1), false)`

// applyDefaultPrivileges is one attempt, in a transaction it opens on
// conn; no privileges revokes everything. Round trips: BEGIN, the lock and
// the read (what is missing) as one pipeline; the ALTER DEFAULT PRIVILEGES
// as the owner, the read-back and COMMIT (COMMIT alone for a destroy), as
// one pipeline (sendPipeline: a failed statement skips the rest).
func applyDefaultPrivileges(ctx context.Context, conn *pgx.Conn, op string, t DefaultPrivilegesTarget, privileges []string, withGrantOption bool) (DefaultPrivileges, error) {
	if _, ok := defaclType[t.ObjectType]; !ok {
		return DefaultPrivileges{}, fmt.Errorf("pgaad: unknown object type %q for default privileges", t.ObjectType)
	}
	defer rollbackOpen(ctx, conn)
	var login string
	var restricted, direct, canSet bool
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(defaultPrivilegesLockQuery, t.Owner, t.Schema, t.ObjectType)
	b.Queue(defaultPrivilegesQuery, defaultPrivilegesArgs(t)...)
	err := batchSteps(conn.SendBatch(ctx, b),
		func(br pgx.BatchResults) error { _, err := br.Exec(); return err },
		func(br pgx.BatchResults) error {
			return br.QueryRow().Scan(&login, new(bool), &restricted, &direct, &canSet)
		},
		func(br pgx.BatchResults) error { _, err := scanDefaultPrivileges(br.QueryRow(), t); return err })
	if err != nil {
		return DefaultPrivileges{}, err
	}
	owner := pgx.Identifier{t.Owner}.Sanitize()
	stmts := defaultPrivilegesStatements(t, privileges, withGrantOption)
	// FOR ROLE needs the owner's privileges: an inheriting membership has
	// them; otherwise act as the owner (SET ROLE).
	if !direct {
		stmts = append(append([]string{"SET LOCAL ROLE " + owner}, stmts...), "RESET ROLE")
	}
	steps := make([]pipelineStep, 0, len(stmts)+2)
	for _, stmt := range stmts {
		steps = append(steps, pipelineStep{sql: stmt})
	}
	destroy := len(privileges) == 0
	var d DefaultPrivileges
	if !destroy {
		steps = append(steps, pipelineStep{sql: defaultPrivilegesQuery, args: defaultPrivilegesArgs(t),
			row: func(row pgx.Row) (err error) { d, err = scanDefaultPrivileges(row, t); return err }})
	}
	steps = append(steps, pipelineStep{sql: "commit"})
	if done, err := sendPipeline(ctx, conn, steps); err != nil {
		if done < len(stmts) && t.Owner != login && isPermissionDenied(err) && !direct && !canSet {
			what := "objects of type " + t.ObjectType + " it creates"
			if t.Schema != "" {
				what += " in schema " + pgx.Identifier{t.Schema}.Sanitize()
			}
			return DefaultPrivileges{}, &Error{Op: op, Object: t.object(), Kind: ErrCannotActAsOwner, Err: err,
				Advice: cannotActAdvice(login, []ownerInfo{{owner: t.Owner, restricted: restricted, objects: []string{"the default privileges of " + what}}},
					"change a role's default privileges")}
		}
		return DefaultPrivileges{}, err
	}
	return d, nil
}
