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

// ErrReadReplica: the server is a read replica (pg_is_in_recovery()), where
// nothing can be changed.
var ErrReadReplica = errors.New("the server is a read replica")

// ActionError is a failed one-off operation on a role, in one database
// when Database is set.
type ActionError struct {
	Op       string // e.g. "reassigning objects owned by"
	Role     string
	Database string
	Kind     error // ErrReadReplica, ErrNotFound, ErrPermissionDenied (may be nil)
	Err      error // the underlying error, e.g. *pgconn.PgError (may be nil)
	Advice   string
}

func (e *ActionError) Error() string {
	subject := fmt.Sprintf("%s %q", e.Op, e.Role)
	if e.Database != "" {
		subject += fmt.Sprintf(" in database %q", e.Database)
	}
	return message(subject, e.Kind, e.Err, describeWithHint, e.Advice)
}

// Unwrap lets errors.Is find the kind and errors.As find the server's error.
func (e *ActionError) Unwrap() []error { return unwrap(e.Kind, e.Err) }

// checkWritable refuses a read replica before anything runs.
func (c *Client) checkWritable(ctx context.Context, q querier, op, role, database string) error {
	var inRecovery bool
	if err := q.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil {
		return c.actionError(op, role, database, err)
	}
	if inRecovery {
		return &ActionError{Op: op, Role: role, Database: database, Kind: ErrReadReplica,
			Advice: "pg_is_in_recovery() is true: this server (or the host the provider connects to) is a read replica, which " +
				"accepts no changes. Point the provider at the primary server and run the action again."}
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
		return &ActionError{Op: op, Role: r.Role, Database: database, Err: errors.New("a role name cannot contain a NUL character")}
	}
	pool, err := c.Pool(database)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return c.actionError(op, r.Role, database, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := c.checkWritable(ctx, tx, op, r.Role, database); err != nil {
		return err
	}
	for _, name := range []string{r.Role, r.NewOwner} {
		if name == "" {
			continue
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists); err != nil {
			return c.actionError(op, r.Role, database, err)
		}
		if !exists {
			return &ActionError{Op: op, Role: r.Role, Database: database, Kind: ErrNotFound,
				Advice: fmt.Sprintf("The server has no role %q (names are case-sensitive).", name)}
		}
	}
	if r.NewOwner != "" {
		if _, err := tx.Exec(ctx, "REASSIGN OWNED BY "+pgx.Identifier{r.Role}.Sanitize()+" TO "+pgx.Identifier{r.NewOwner}.Sanitize()); err != nil {
			return c.actionError(op, r.Role, database, err)
		}
	}
	if r.DropOwned {
		if _, err := tx.Exec(ctx, "DROP OWNED BY "+pgx.Identifier{r.Role}.Sanitize()); err != nil {
			return c.actionError("dropping what is owned by", r.Role, database, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return c.actionError(op, r.Role, database, err)
	}
	return nil
}

// TerminateSessions ends every session of role on the server (all
// databases) except the caller's own, with pg_terminate_backend, and
// returns how many it ended. A role without sessions is 0, not an error.
func (c *Client) TerminateSessions(ctx context.Context, role string) (int, error) {
	const op = "terminating the sessions of"
	pool, err := c.Pool(PrincipalsDatabase)
	if err != nil {
		return 0, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, c.actionError(op, role, "", err)
	}
	defer conn.Release()
	if err := c.checkWritable(ctx, conn, op, role, ""); err != nil {
		return 0, err
	}
	var ended, failed int
	err = conn.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE t), count(*) FILTER (WHERE NOT t)
  FROM (SELECT pg_terminate_backend(pid) AS t
          FROM pg_stat_activity
         WHERE usename = $1 AND pid <> pg_backend_pid()) s`, role).Scan(&ended, &failed)
	if err != nil {
		return 0, c.actionError(op, role, "", err)
	}
	if failed > 0 {
		return ended, &ActionError{Op: op, Role: role, Kind: ErrPermissionDenied,
			Err:    fmt.Errorf("%d session(s) ended, %d could not be (they were gone already or are not signalable)", ended, failed),
			Advice: "Run the action again to see whether sessions remain. Sessions of a superuser or of Azure's own roles cannot be ended by an Entra admin."}
	}
	return ended, nil
}

// actionError classifies a failure: connection failures get pgaad's
// ConnectionError explanation, server errors an ActionError with advice.
func (c *Client) actionError(op, role, database string, err error) error {
	var ae *ActionError
	if errors.As(err, &ae) {
		return err
	}
	var ce *ConnectionError
	if explained := c.explain(err, or(database, PrincipalsDatabase)); errors.As(explained, &ce) {
		return explained
	}
	ae = &ActionError{Op: op, Role: role, Database: database, Err: err}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		ae.Kind = ErrPermissionDenied
		ae.Advice = fmt.Sprintf("The login must have the privileges of both roles (be a member of each) to reassign or drop "+
			"what one owns, and be a member of pg_signal_backend (Azure grants it to azure_pg_admin) or of the role to end its sessions. "+
			"As an Entra admin: GRANT %s TO <your login>; then run the action again.", pgx.Identifier{role}.Sanitize())
	}
	return ae
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
