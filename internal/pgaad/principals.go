package pgaad

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Principal is an Entra principal: a role with pgaadauth labels.
type Principal struct {
	Name     string
	Type     string // user, group or service
	ObjectID string
	TenantID string
	Admin    bool
	MFA      bool
}

// NewPrincipal says what to create.
type NewPrincipal struct {
	Name string
	// ObjectID, when set, creates the role for that object without a name
	// lookup (pgaadauth_create_principal_with_oid); Type is then required.
	ObjectID string
	// Type, when set without ObjectID, is checked against what the tenant
	// says the name is; a mismatch rolls the creation back.
	Type  string
	Admin bool
	MFA   bool
}

// principalColumns reads one role and its two labels in one round trip.
// pg_shseclabel is readable by every role (pg_authid is not), so the
// non-superuser Entra admin can run it.
const principalColumns = `
SELECT r.rolname,
       (SELECT s.label FROM pg_shseclabel s
         WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth'),
       (SELECT s.label FROM pg_shseclabel s
         WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth-int')
  FROM pg_roles r`

// Principal reads one principal: ErrNotFound when no role has that name,
// ErrNotEntraPrincipal when the role has no Entra labels.
// Reads are answered from the process's snapshot of every role while it is
// valid (snapshot.go).
func (c *Client) Principal(ctx context.Context, name string) (Principal, error) {
	const op = "reading principal"
	if r, found, ok := c.principalFromSnapshot(ctx, name); ok {
		p, err := principalFromRow(name, r, found)
		return p, c.classify(op, roleObject(name), err, nil)
	}
	return c.principalDirect(ctx, name)
}

// principalDirect reads one principal from the server, never from a snapshot.
func (c *Client) principalDirect(ctx context.Context, name string) (Principal, error) {
	const op = "reading principal"
	p, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) (Principal, error) { return readPrincipal(ctx, q, name) })
	return p, c.classify(op, roleObject(name), err, nil)
}

func roleObject(name string) Object { return Object{Type: ObjectRole, Name: name} }

func readPrincipal(ctx context.Context, q querier, name string) (Principal, error) {
	return principalFromScan(name, q.QueryRow(ctx, principalColumns+" WHERE r.rolname = $1", name))
}

// principalFromScan is a single read's answer from its row.
func principalFromScan(name string, row pgx.Row) (Principal, error) {
	p, entra, err := scanPrincipal(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return principalFromRow(name, roleRow{}, false)
	}
	if err != nil {
		return Principal{}, err
	}
	return principalFromRow(name, roleRow{p: p, entra: entra}, true)
}

// scanPrincipal reads one row of principalColumns: the one place that knows
// its columns (a single read and the snapshot both use it). entra is false
// for a role without pgaadauth labels.
func scanPrincipal(row pgx.Row) (p Principal, entra bool, err error) {
	var rolname string
	var label, labelInt *string
	if err := row.Scan(&rolname, &label, &labelInt); err != nil {
		return Principal{}, false, err
	}
	p, entra = fromLabels(rolname, label, labelInt)
	if !entra {
		p.Name = rolname
	}
	return p, entra, nil
}

// principalFromRow is what a read of name returns for a role as read
// (found false: no role has that name).
func principalFromRow(name string, r roleRow, found bool) (Principal, error) {
	if !found {
		return Principal{}, &Error{Op: "reading principal", Object: roleObject(name), Kind: ErrNotFound, Err: errors.New("role does not exist")}
	}
	p, ok := r.p, r.entra
	if !ok {
		return Principal{}, &Error{Op: "reading principal", Object: roleObject(name), Kind: ErrNotEntraPrincipal,
			Advice: "The role exists but carries no pgaadauth security label: it is a plain PostgreSQL role, not one created by " +
				"pgaadauth_create_principal. Manage it with a general PostgreSQL tool, or drop it and let Terraform create the Entra principal."}
	}
	return p, nil
}

func fromLabels(name string, label, labelInt *string) (Principal, bool) {
	l := ParseLabels(deref(label), deref(labelInt))
	if !l.Entra {
		return Principal{}, false
	}
	return Principal{Name: name, Type: l.Type, ObjectID: l.ObjectID, TenantID: l.TenantID, Admin: l.Admin, MFA: l.MFA}, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ListPrincipals returns every Entra principal (only admins with
// adminsOnly), ordered by name, in one query.
func (c *Client) ListPrincipals(ctx context.Context, adminsOnly bool) ([]Principal, error) {
	const op = "listing principals"
	out, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) ([]Principal, error) { return listPrincipals(ctx, q, adminsOnly) })
	return out, c.classify(op, Object{}, err, nil)
}

func listPrincipals(ctx context.Context, pool querier, adminsOnly bool) ([]Principal, error) {
	rows, err := pool.Query(ctx, principalColumns+` WHERE EXISTS (
		SELECT 1 FROM pg_shseclabel s
		 WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider IN ('pgaadauth', 'pgaadauth-int'))
		ORDER BY r.rolname`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Principal
	for rows.Next() {
		p, ok, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		if ok && (!adminsOnly || p.Admin) {
			out = append(out, p)
		}
	}
	return out, rows.Err()
}

// CreatePrincipal creates the role with Azure's pgaadauth functions and reads
// it back, in one transaction: a failed check leaves nothing behind. A role
// that already exists is ErrAlreadyExists and is left as it is. When the
// connection died during COMMIT, the role is looked up: if it is there as
// asked, the creation succeeded (reporting a failure would leave a role
// that Terraform does not know about and that the next apply could not
// create).
//
// Without a type to check, the creation and the read-back go in one round
// trip (createPrincipalBatch); with one, BEGIN, the creation and the
// read-back go in one, and COMMIT or ROLLBACK, as the check decides, in a
// second.
func (c *Client) CreatePrincipal(ctx context.Context, np NewPrincipal) (Principal, error) {
	const op = "creating principal"
	p, err := writeOne(ctx, c, PrincipalsDatabase, op,
		func(conn *pgx.Conn) (Principal, error) { return createPrincipalBatch(ctx, conn, np) },
		func(ctx context.Context) (Principal, bool, error) { return c.confirmPrincipal(ctx, np) })
	return p, c.classify(op, roleObject(np.Name), err, principalRule)
}

// createPrincipalSQL is the statement that creates the role and its arguments.
func createPrincipalSQL(np NewPrincipal) (string, []any) {
	if np.ObjectID != "" {
		return "SELECT pgaadauth_create_principal_with_oid($1, $2, $3, $4, $5)", []any{np.Name, np.ObjectID, np.Type, np.Admin, np.MFA}
	}
	return "SELECT pgaadauth_create_principal($1, $2, $3)", []any{np.Name, np.Admin, np.MFA}
}

// createPrincipalBatch sends the creation and the read-back as one batch:
// one round trip. Without a type to check, the batch is one implicit
// transaction (one Sync): a failed creation runs nothing after it and leaves
// nothing behind. With a type, the batch opens a transaction, and the check
// of the read-back sends COMMIT or ROLLBACK.
func createPrincipalBatch(ctx context.Context, conn *pgx.Conn, np NewPrincipal) (Principal, error) {
	typed := np.Type != ""
	b := &pgx.Batch{}
	if typed {
		b.Queue("begin")
	}
	sql, args := createPrincipalSQL(np)
	b.Queue(sql, args...)
	b.Queue(principalColumns+" WHERE r.rolname = $1", np.Name)
	br := conn.SendBatch(ctx, b)
	var err error
	if typed {
		_, err = br.Exec()
	}
	if err == nil {
		_, err = br.Exec()
	}
	var p Principal
	if err == nil {
		p, err = principalFromScan(np.Name, br.QueryRow())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && typed {
		err = checkCreatedType(np, p)
	}
	if typed && conn.PgConn().TxStatus() != 'I' {
		end := "commit"
		if err != nil {
			end = "rollback"
		}
		if _, eerr := conn.Exec(ctx, end); err == nil {
			err = eerr
		}
	}
	if err != nil {
		return Principal{}, err
	}
	return p, nil
}

// checkCreatedType refuses a created role whose type is not the one asked for.
func checkCreatedType(np NewPrincipal, p Principal) error {
	if np.Type != "" && !strings.EqualFold(p.Type, np.Type) {
		return &Error{Op: "creating principal", Object: roleObject(np.Name), Kind: ErrTypeMismatch,
			Advice: "The tenant says this name is a " + p.Type + ", but type is \"" + np.Type + "\". " +
				"Nothing was created. Set type = \"" + p.Type + "\", or leave type out to take it from the tenant."}
	}
	return nil
}

// confirmPrincipal says whether a creation whose COMMIT got no answer was
// applied: the role exists with the labels asked for. A role that is not
// there (or is another one) was not created by us: the creation runs again
// (and then reports ErrAlreadyExists for another role of that name).
func (c *Client) confirmPrincipal(ctx context.Context, np NewPrincipal) (Principal, bool, error) {
	p, err := c.principalDirect(ctx, np.Name)
	switch {
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotEntraPrincipal):
		return Principal{}, false, nil
	case err != nil:
		return Principal{}, false, err
	}
	applied := (np.ObjectID == "" || strings.EqualFold(p.ObjectID, np.ObjectID)) &&
		(np.Type == "" || strings.EqualFold(p.Type, np.Type)) && p.Admin == np.Admin && p.MFA == np.MFA
	return p, applied, nil
}

// DropPrincipal drops the role. A role that is already gone is not an error,
// so running the drop again after a lost connection is safe.
func (c *Client) DropPrincipal(ctx context.Context, name string) error {
	const op = "dropping principal"
	if err := checkRoleName(op, name); err != nil {
		return err
	}
	// One statement, one round trip (no BEGIN and COMMIT around it).
	_, err := writeOne(ctx, c, PrincipalsDatabase, op, func(conn *pgx.Conn) (pgconn.CommandTag, error) {
		return conn.Exec(ctx, dropRoleSQL(name))
	}, nil)
	err = c.classify(op, roleObject(name), err, principalRule)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// dropRoleSQL is the statement that drops a role, the name quoted by pgx.
func dropRoleSQL(name string) string { return "DROP ROLE " + pgx.Identifier{name}.Sanitize() }

// checkRoleName refuses a name that cannot be quoted faithfully: pgx drops
// NUL bytes while quoting, so "a\x00b" would name the role "ab".
func checkRoleName(op, name string) error {
	if strings.ContainsRune(name, 0) {
		return &Error{Op: op, Object: roleObject(name), Err: errors.New("a role name cannot contain a NUL character")}
	}
	return nil
}

// principalRule is what principals add to the common classification: the
// pgaadauth functions' own failures, and advice for the shared kinds.
func principalRule(e *Error, pgErr *pgconn.PgError) {
	msg := strings.ToLower(pgErr.Message)
	switch {
	case strings.Contains(msg, "not found in the tenant"):
		e.Kind = ErrNotInTenant
		e.Advice = "Check the spelling and case: a user is named by UPN, a group, service principal or managed identity by display name. " +
			"For an object that the tenant cannot find by name (e.g. one created in the same apply), set object_id and type."
	case strings.Contains(msg, "more than one"):
		e.Kind = ErrAmbiguous
		e.Advice = "Several Entra objects share this name. Set object_id (and type) to say which one is meant."
	case pgErr.Code == "0LP01":
		e.Kind = ErrValidation
		e.Advice = "Azure could not validate the name against Microsoft Entra ID. Retry later, or set object_id and type to create the principal without a name lookup."
	case pgErr.Code == "42883": // undefined_function
		e.Kind = ErrWrongDatabase
		e.Advice = wrongDatabaseAdvice
	case pgErr.Code == "42501":
		e.Kind = ErrPermissionDenied
		e.Advice = notAdminAdvice
	case pgErr.Code == "2BP01":
		e.Kind = ErrDependentObjects
		role := pgx.Identifier{e.Object.Name}.Sanitize()
		e.Advice = "The role still owns objects or holds privileges (listed above; \"N objects in database X\" means look there). " +
			"Connected as an admin, run in each database it names (and in postgres):\n" +
			"  REASSIGN OWNED BY " + role + " TO <new owner>;\n" +
			"  DROP OWNED BY " + role + ";\n" +
			"then delete the principal again."
	}
}

const (
	wrongDatabaseAdvice = "The pgaadauth_* functions exist only in the postgres database of an Azure Database for PostgreSQL flexible server " +
		"with Microsoft Entra authentication enabled. Check that host points at such a server and that Entra authentication is enabled on it."
	// Azure: only Entra administrators may create or drop Entra principals;
	// the password server admin, though in azure_pg_admin, creates only
	// local password-based users (spec sections 1 and 5).
	notAdminAdvice = "Only Microsoft Entra admins of the server (roles created with isAdmin = true, labelled admin) may create or drop " +
		"Entra principals. The password-based server admin is a member of azure_pg_admin too, but Azure lets it create only local " +
		"password-based users. Log in as an Entra admin: set username to the admin's name and an Entra auth_method (not \"password\")."
)
