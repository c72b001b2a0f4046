package pgaad

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A grant in one round trip, shared with other writes.
//
// applyGrant needs two round trips because its second depends on the first:
// the owners of the objects (act directly or SET ROLE), what the role holds
// (which REVOKEs, a savepoint, a check of other grantors). In the common
// case the answer is known in advance: the login has the owners'
// privileges, or may SET ROLE to the one owner of the objects, and the
// role holds nothing on the objects yet (a create) or nothing that an
// owner's REVOKE ALL cannot take (a revoke). Then the write is one GRANT
// (or one REVOKE ALL), the same statement applyGrant would send, as the
// owner when it must. So it goes as one pipeline segment (writeSegment),
// which other writes may share: the advisory locks, a guard that fails
// (division by zero) unless the case is the common one and takes the
// owner's role when needed, the statement, and the read-back. The segment
// is one implicit transaction: a failing guard or statement rolls back the
// segment alone, and the write then runs the general way (applyGrant),
// which says what is wrong with its own words.

// errNotAsAssumed: the one-round-trip write did not apply (its guard, or a
// statement, failed); the general write decides.
var errNotAsAssumed = errors.New("pgaad: the grant is not the common case")

// fastGrantTarget: the target names its objects, so that one statement can
// name them too (a function needs its arguments, every object of a schema
// needs the read: those go the general way).
func fastGrantTarget(t GrantTarget) bool {
	switch t.ObjectType {
	case ObjectTypeDatabase, ObjectTypeSchema:
		return true
	case ObjectTypeTable, ObjectTypeSequence:
		return len(t.Objects) > 0
	}
	return false
}

// grantGuardQuery fails with division by zero unless the role (or PUBLIC)
// and the schema exist, every listed object exists, the login can act as
// the objects' owners in one go, and the role holds on them nothing at all
// (create), or no grant option and nothing granted by another role than
// the owner (revoke: the owner's REVOKE ALL then takes everything).
//
// Acting as the owners in one go: the login has the privileges of every
// owner (as hasOwnerPrivileges says), or the objects have one owner, whose
// privileges the login does not have but whom it may SET ROLE to. The
// second is the usual case from PostgreSQL 16 on, where the login holds
// the roles it creates (an azurepg_role that owns a schema) with SET but
// not INHERIT. The guard's second column then acts as that owner for the
// rest of the segment, as applyGrant's SET LOCAL ROLE does (set_config's
// is_local: until the segment's implicit COMMIT or ROLLBACK; it takes the
// name as it is, unquoted); otherwise it does nothing. The checks name the
// login as session_user, which the role set beside them does not change.
func grantGuardQuery(objectType string, revoke bool) string {
	held := "true"
	if revoke {
		held = "(x.is_grantable OR x.grantor <> o.owner)"
	}
	count := "1"
	if objectType == ObjectTypeTable || objectType == ObjectTypeSequence {
		count = "(SELECT count(DISTINCT x) FROM a, unnest(a.objs) x)"
	}
	return grantTargetCTEs(objectType) + `,
     w AS (SELECT w.oid, w.rolname, (w.rolname = session_user OR pg_has_role(session_user, w.oid, 'USAGE')) AS direct
             FROM pg_roles w WHERE w.oid IN (SELECT owner FROM o))
SELECT 1 / ((SELECT oid FROM r) IS NOT NULL
       AND (SELECT count(*) FROM o) = ` + count + `
       AND coalesce((SELECT bool_and(direct) FROM w)
                    OR ((SELECT count(*) FROM w) = 1
                        AND (SELECT bool_and(pg_has_role(session_user, w.oid, ` + canSetRole + `)) FROM w)), false)
       AND NOT EXISTS (SELECT 1 FROM o CROSS JOIN LATERAL aclexplode(o.acl) x
                        WHERE x.grantee = (SELECT oid FROM r) AND ` + held + `))::int,
       (SELECT count(set_config('role', w.rolname, true)) FROM w WHERE NOT w.direct)`
}

// fastGrantSQL is the one statement of a common-case write: what
// grantScript makes of it (one statement per owner; with the owners'
// privileges one statement for all of them does the same).
func fastGrantSQL(t GrantTarget, privileges []string, withGrantOption bool) string {
	var names []string
	switch t.ObjectType {
	case ObjectTypeDatabase:
		names = []string{pgx.Identifier{t.Database}.Sanitize()}
	case ObjectTypeSchema:
		names = []string{pgx.Identifier{t.Schema}.Sanitize()}
	default:
		for _, o := range t.Objects {
			names = append(names, pgx.Identifier{t.Schema, o}.Sanitize())
		}
	}
	on := " ON " + strings.ToUpper(t.ObjectType) + " " + strings.Join(names, ", ")
	if len(privileges) == 0 {
		return "REVOKE ALL" + on + " FROM " + quoteRole(t.Role)
	}
	grant := "GRANT " + privilegeList(privileges) + on + " TO " + quoteRole(t.Role)
	if withGrantOption {
		grant += " WITH GRANT OPTION"
	}
	return grant
}

// grantInOneRoundTrip is the common-case write of t (no privileges:
// revoke). ok is false when it did not apply and the general write must
// run; otherwise the outcome, as applyGrant's (unclassified).
func (c *Client) grantInOneRoundTrip(ctx context.Context, op string, t GrantTarget, privileges []string, withGrantOption bool) (g Grant, ok bool, err error) {
	if !fastGrantTarget(t) {
		return Grant{}, false, nil
	}
	revoke := len(privileges) == 0
	g, err = writeSegment(ctx, c, t.Database, op, func(*pgx.Conn) ([]pipelineStep, func(int, error) (Grant, error)) {
		var after Grant
		steps := []pipelineStep{
			{sql: grantLockQuery(t.ObjectType), args: []any{t.Schema, t.Objects}, row: func(row pgx.Row) error { return row.Scan(new(string), new(int64)) }},
			{sql: grantGuardQuery(t.ObjectType, revoke), args: grantArgs(t)[:3]},
			{sql: fastGrantSQL(t, privileges, withGrantOption)},
		}
		if !revoke {
			steps = append(steps, pipelineStep{sql: grantQuery(t.ObjectType), args: grantArgs(t),
				row: func(row pgx.Row) (err error) { after, err = scanGrant(row, t); return err }})
		}
		return steps, func(done int, err error) (Grant, error) {
			var pgErr *pgconn.PgError
			switch {
			case err == nil:
				return after, nil
			case done == len(steps)-1 && !revoke && !errors.As(err, &pgErr):
				// The read-back failed in Go: the server committed the write all
				// the same (as in applyGrant); the general write reads it again.
				return Grant{}, errNotAsAssumed
			case errors.As(err, &pgErr) && !isConnectionGone(pgErr):
				return Grant{}, errNotAsAssumed // rolled back: the guard or a statement refused
			}
			return Grant{}, err // the connection: writeSegment confirms or runs it again
		}
	}, nil)
	if errors.Is(err, errNotAsAssumed) {
		c.log(ctx, "pgaad: the grant goes the general way", map[string]any{"op": op, "database": t.Database})
		return Grant{}, false, nil
	}
	return g, true, err
}

// isConnectionGone: the server ended the session (57P01, 57P02, 57P03):
// an outcome to retry, not a refusal.
func isConnectionGone(pgErr *pgconn.PgError) bool {
	return strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "08")
}
