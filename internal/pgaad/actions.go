package pgaad

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// One-off operations behind the provider's actions: handing over what a
// role owns before it is dropped, and ending its sessions.

func actionObject(role, database string) Object {
	return Object{Type: ObjectRole, Name: role, Database: database}
}

// checkWritable refuses a read replica before anything runs.
func (c *Client) checkWritable(ctx context.Context, q querier, op, role, database string) error {
	var inRecovery bool
	if err := q.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil {
		return err
	}
	if inRecovery {
		return &Error{Op: op, Object: actionObject(role, database), Kind: ErrReadReplica,
			Advice: "pg_is_in_recovery() is true: this server is a read replica, which accepts no changes. " +
				"Connect to the primary server and run it again.",
			Fact: Fact{Topic: TopicReadReplica}}
	}
	return nil
}

// Reassign describes one REASSIGN OWNED / DROP OWNED run.
type Reassign struct {
	Role     string // whose objects are handed over
	NewOwner string // who receives them; "" skips REASSIGN OWNED (DropOwned must then be true)
	// DropOwned runs DROP OWNED BY afterwards: it revokes the role's
	// remaining privileges and default privileges (and drops what it still
	// owns, which after REASSIGN OWNED is nothing) so that it can be dropped.
	DropOwned bool
}

// ReassignOwned runs REASSIGN OWNED BY (and DROP OWNED BY) in one database,
// in one transaction: either both happen or nothing. The role must exist.
func (c *Client) ReassignOwned(ctx context.Context, database string, r Reassign) error {
	const op = "reassigning objects owned by"
	if strings.ContainsRune(r.Role, 0) || strings.ContainsRune(r.NewOwner, 0) {
		return &Error{Op: op, Object: actionObject(r.Role, database), Err: errors.New("a role name cannot contain a NUL character")}
	}
	// Running it again after a lost COMMIT is harmless: what was handed
	// over is no longer owned by the role.
	_, err := write(ctx, c, database, op, func(tx pgx.Tx) (struct{}, error) {
		if err := c.checkWritable(ctx, tx, op, r.Role, database); err != nil {
			return struct{}{}, err
		}
		for _, name := range []string{r.Role, r.NewOwner} {
			if name == "" {
				continue
			}
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil {
				return struct{}{}, err
			}
			if !exists {
				return struct{}{}, &Error{Op: op, Object: actionObject(r.Role, database), Kind: ErrNotFound,
					Advice: fmt.Sprintf("The server has no role %q (names are case-sensitive).", name)}
			}
		}
		if r.NewOwner != "" {
			if _, err := tx.Exec(ctx, "REASSIGN OWNED BY "+pgx.Identifier{r.Role}.Sanitize()+" TO "+pgx.Identifier{r.NewOwner}.Sanitize()); err != nil {
				return struct{}{}, err
			}
		}
		if r.DropOwned {
			if _, err := tx.Exec(ctx, "DROP OWNED BY "+pgx.Identifier{r.Role}.Sanitize()); err != nil {
				return struct{}{}, c.actionError("dropping what is owned by", r.Role, database, err)
			}
		}
		return struct{}{}, nil
	}, nil)
	return c.actionError(op, r.Role, database, err)
}

// TerminateSessions ends every session of role on the server (all
// databases) except the caller's own, with pg_terminate_backend, and
// returns how many it ended. A role without sessions is 0, not an error.
func (c *Client) TerminateSessions(ctx context.Context, role string) (int, error) {
	const op = "terminating the sessions of"
	type result struct{ ended, failed int }
	// Safe to run again: sessions already ended are not counted twice.
	r, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) (result, error) {
		if err := c.checkWritable(ctx, q, op, role, ""); err != nil {
			return result{}, err
		}
		var r result
		err := q.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE t), count(*) FILTER (WHERE NOT t)
  FROM (SELECT pg_terminate_backend(pid) AS t
          FROM pg_stat_activity
         WHERE usename = $1 AND pid <> pg_backend_pid()) s`, role).Scan(&r.ended, &r.failed)
		return r, err
	})
	if err != nil {
		return 0, c.actionError(op, role, "", err)
	}
	if r.failed > 0 {
		return r.ended, &Error{Op: op, Object: actionObject(role, ""), Kind: ErrPermissionDenied,
			Err:    fmt.Errorf("%d session(s) ended, %d could not be (they were gone already or are not signalable)", r.ended, r.failed),
			Advice: "Run the action again to see whether sessions remain. Sessions of a superuser or of Azure's own roles cannot be ended by an Entra admin."}
	}
	return r.ended, nil
}

// actionError classifies a failure of an action on a role.
func (c *Client) actionError(op, role, database string, err error) error {
	return c.classify(op, actionObject(role, database), err, actionRule)
}

// actionRule is what actions add to the common classification.
func actionRule(e *Error, pgErr *pgconn.PgError) {
	if pgErr.Code == "42501" {
		e.Kind = ErrPermissionDenied
		e.Advice = fmt.Sprintf("The login must have the privileges of both roles (be a member of each) to reassign or drop "+
			"what one owns, and be a member of pg_signal_backend (Azure grants it to azure_pg_admin) or of the role to end its sessions. "+
			"As an Entra admin: GRANT %s TO <your login>; then run the action again.", pgx.Identifier{e.Object.Name}.Sanitize())
	}
}
