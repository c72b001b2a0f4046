package pgaad

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A membership's grant or revoke in one round trip, shared with other
// writes, as grants_fast.go does for privileges: in the common case (a
// grant of a membership that does not exist yet between two roles that
// do; a revoke that leaves no other grantor's membership behind) the
// write is the statements the general write would send, between two
// guards that fail (division by zero) unless the case is the common one,
// as one pipeline segment (one implicit transaction). Otherwise the
// segment rolls back alone and the general write (BEGIN, read, GRANT,
// read-back, COMMIT) runs and explains.

// membershipGuard fails unless membershipQuery's row ($1 role, $2 member)
// satisfies cond, written over its columns: r and m (the roles exist), n
// (the member's grants), adm, inh and st (its options).
func membershipGuard(cond string) string {
	return `SELECT 1 / (` + cond + `)::int FROM (` + membershipQuery + `) x(r, m, n, adm, inh, st)`
}

// grantMembershipInOneRoundTrip is the common-case grant of m; ok is false
// when it did not apply and the general write must run.
func (c *Client) grantMembershipInOneRoundTrip(ctx context.Context, op string, m Membership,
	confirm func(ctx context.Context) (Membership, bool, error)) (got Membership, ok bool, err error) {
	got, err = writeSegment(ctx, c, PrincipalsDatabase, op, func(conn *pgx.Conn) ([]pipelineStep, func(int, error) (Membership, error)) {
		pg16 := serverMajor(conn.PgConn()) >= 16
		if !pg16 && (m.Inherit != nil || m.Set != nil) {
			return nil, func(int, error) (Membership, error) { return Membership{}, errNotAsAssumed } // the general write refuses it
		}
		steps := []pipelineStep{{sql: membershipGuard("x.r AND x.m AND x.n = 0"), args: []any{m.Role, m.Member}}}
		for _, sql := range membershipStatements(m, Membership{}, true, pg16) {
			steps = append(steps, pipelineStep{sql: sql})
		}
		var after Membership
		steps = append(steps,
			pipelineStep{sql: membershipQuery, args: []any{m.Role, m.Member},
				row: func(row pgx.Row) (err error) { after, err = membershipFromRow(op, m.Role, m.Member, row); return err }},
			// What membershipDiffers checks, before COMMIT: another grantor's
			// grant (16+) may give more than was asked.
			pipelineStep{sql: membershipGuard("x.adm = $3 AND ($4::bool IS NULL OR x.inh = $4) AND ($5::bool IS NULL OR x.st = $5)"),
				args: []any{m.Role, m.Member, m.AdminOption, m.Inherit, m.Set}})
		return steps, func(_ int, err error) (Membership, error) { return after, fastOutcome(err) }
	}, confirm)
	if errors.Is(err, errNotAsAssumed) {
		c.log(ctx, "pgaad: the membership goes the general way", map[string]any{"op": op})
		return Membership{}, false, nil
	}
	return got, true, err
}

// revokeMembershipInOneRoundTrip is the common-case revoke; ok is false
// when it did not apply and the general write must run.
func (c *Client) revokeMembershipInOneRoundTrip(ctx context.Context, op, role, member string) (ok bool, err error) {
	_, err = writeSegment(ctx, c, PrincipalsDatabase, op, func(*pgx.Conn) ([]pipelineStep, func(int, error) (struct{}, error)) {
		return []pipelineStep{
				{sql: "REVOKE " + pgx.Identifier{role}.Sanitize() + " FROM " + pgx.Identifier{member}.Sanitize()},
				{sql: membershipGuard("x.n = 0"), args: []any{role, member}},
			}, func(_ int, err error) (struct{}, error) {
				return struct{}{}, fastOutcome(err)
			}
	}, nil)
	if errors.Is(err, errNotAsAssumed) {
		c.log(ctx, "pgaad: the membership goes the general way", map[string]any{"op": op})
		return false, nil
	}
	return true, err
}

// fastOutcome is a common-case segment's error: errNotAsAssumed when the
// server refused it (a guard or a statement: the segment rolled back),
// the error itself when the connection failed (the outcome is unknown).
func fastOutcome(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !isConnectionGone(pgErr) {
		return errNotAsAssumed
	}
	return err
}
