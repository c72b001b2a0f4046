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
	// Admin is whether the role really is an admin: by its rights, not only
	// its label (see adminFrom). A hand GRANT/REVOKE azure_pg_admin shows here.
	Admin bool
	MFA   bool
	// Rights as the server has them, read with the labels.
	LabelAdmin  bool // the labels say admin
	AdminMember bool // a direct member of azure_pg_admin
	CreateRole  bool // rolcreaterole
	CreateDB    bool // rolcreatedb
	// LabelConflict says how the two labels disagree (Labels.Conflict).
	LabelConflict string
}

// adminFrom is the admin a role really is. An admin (what
// pgaadauth_create_principal makes with isAdmin = true) is a member of
// azure_pg_admin with CREATEROLE and CREATEDB. A role labelled
// admin is one only with all three rights; a role labelled non-admin is one
// as soon as it is a member of azure_pg_admin (CREATEROLE or CREATEDB alone
// may be given to any role by hand and do not make an admin).
func adminFrom(labelAdmin, member, createRole, createDB bool) bool {
	if labelAdmin {
		return member && createRole && createDB
	}
	return member
}

// Disagreement says how the role's label and its rights disagree, or "" when
// they agree: what the label says and which rights the role has or lacks.
func (p Principal) Disagreement() string {
	if p.Admin == p.LabelAdmin {
		return ""
	}
	var has, lacks []string
	for _, r := range []struct {
		name string
		on   bool
	}{{"membership of azure_pg_admin", p.AdminMember}, {"CREATEROLE", p.CreateRole}, {"CREATEDB", p.CreateDB}} {
		if r.on {
			has = append(has, r.name)
		} else {
			lacks = append(lacks, r.name)
		}
	}
	if p.LabelAdmin {
		return "its pgaadauth label says admin, but it lacks " + strings.Join(lacks, ", ") +
			" (has: " + orNone(has) + "), so it is not an admin"
	}
	return "its pgaadauth label says not admin, but it has " + strings.Join(has, ", ") +
		" (membership of azure_pg_admin makes it an admin)"
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none of them"
	}
	return strings.Join(s, ", ")
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

// principalColumns reads one role: its name, its two labels, its direct
// membership of azure_pg_admin, CREATEROLE and CREATEDB, in one round trip
// (scanned by scanPrincipal, in this order). It is the only query that reads
// principals: every read (one, a list, a snapshot) uses it. pg_shseclabel,
// pg_roles and pg_auth_members are readable by every role (pg_authid is
// not), so the non-superuser Entra admin can run it.
const principalColumns = `
SELECT r.rolname,
       (SELECT s.label FROM pg_shseclabel s
         WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth'),
       (SELECT s.label FROM pg_shseclabel s
         WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth-int'),
       EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles a ON a.oid = m.roleid
                WHERE m.member = r.oid AND a.rolname = 'azure_pg_admin'),
       r.rolcreaterole,
       r.rolcreatedb
  FROM pg_roles r`

// scanPrincipal scans a row of principalColumns; ok is false for a role
// without the Entra marker.
func scanPrincipal(row pgx.Row) (p Principal, ok bool, err error) {
	var name string
	var label, labelInt *string
	var member, createRole, createDB bool
	if err := row.Scan(&name, &label, &labelInt, &member, &createRole, &createDB); err != nil {
		return Principal{}, false, err
	}
	l := ParseLabels(deref(label), deref(labelInt))
	if !l.Entra {
		return Principal{Name: name}, false, nil
	}
	return Principal{Name: name, Type: l.Type, ObjectID: l.ObjectID, TenantID: l.TenantID,
		Admin: adminFrom(l.Admin, member, createRole, createDB), MFA: l.MFA,
		LabelAdmin: l.Admin, AdminMember: member, CreateRole: createRole, CreateDB: createDB,
		LabelConflict: l.Conflict}, true, nil
}

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
				"pgaadauth_create_principal. Manage it as a plain role (azurepg_role), or drop it and create the Entra principal.",
			Fact: Fact{Topic: TopicNotEntraPrincipal}}
	}
	return p, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// entraPrincipalsQuery reads every role with a pgaadauth label whose name
// is LIKE $1 (” for all), ordered by name, in the columns of a single read.
const entraPrincipalsQuery = principalColumns + ` WHERE EXISTS (
		SELECT 1 FROM pg_shseclabel s
		 WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider IN ('pgaadauth', 'pgaadauth-int'))
		AND ($1 = '' OR r.rolname LIKE $1)
		ORDER BY r.rolname`

// ListPrincipals returns every Entra principal (only admins with
// adminsOnly), ordered by name, in one query.
func (c *Client) ListPrincipals(ctx context.Context, adminsOnly bool) ([]Principal, error) {
	const op = "listing principals"
	out, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) ([]Principal, error) { return listPrincipals(ctx, q, adminsOnly) })
	return out, c.classify(op, Object{}, err, nil)
}

func listPrincipals(ctx context.Context, pool querier, adminsOnly bool) ([]Principal, error) {
	rows, err := pool.Query(ctx, entraPrincipalsQuery, "")
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
	confirm := func(ctx context.Context) (Principal, bool, error) { return c.confirmPrincipal(ctx, np) }
	var p Principal
	var err error
	if np.Type == "" {
		p, err = writeSegment(ctx, c, PrincipalsDatabase, op, func(*pgx.Conn) ([]pipelineStep, func(int, error) (Principal, error)) {
			return createPrincipalSegment(np)
		}, confirm)
	} else {
		p, err = writeOne(ctx, c, PrincipalsDatabase, op,
			func(conn *pgx.Conn) (Principal, error) { return createPrincipalBatch(ctx, conn, np) }, confirm)
	}
	rule := principalRule
	if np.ObjectID != "" {
		rule = principalByObjectIDRule
	}
	return p, c.classify(op, roleObject(np.Name), err, rule)
}

// createPrincipalSQL is the statement that creates the role and its arguments.
func createPrincipalSQL(np NewPrincipal) (string, []any) {
	if np.ObjectID != "" {
		return "SELECT pgaadauth_create_principal_with_oid($1, $2, $3, $4, $5)", []any{np.Name, np.ObjectID, np.Type, np.Admin, np.MFA}
	}
	return "SELECT pgaadauth_create_principal($1, $2, $3)", []any{np.Name, np.Admin, np.MFA}
}

// createPrincipalSegment is a creation without a type to check: the
// creation and the read-back, one implicit transaction (a failed creation
// leaves nothing behind), in a round trip that other writes may share.
func createPrincipalSegment(np NewPrincipal) ([]pipelineStep, func(int, error) (Principal, error)) {
	sql, args := createPrincipalSQL(np)
	var p Principal
	return []pipelineStep{{sql: sql, args: args},
			{sql: principalColumns + " WHERE r.rolname = $1", args: []any{np.Name},
				row: func(row pgx.Row) (err error) { p, err = principalFromScan(np.Name, row); return err }}},
		func(_ int, err error) (Principal, error) {
			if err != nil {
				return Principal{}, err
			}
			return p, nil
		}
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
			Advice: "The tenant says this name is a " + p.Type + ", but the type asked for is \"" + np.Type + "\". " +
				"Nothing was created. Ask for \"" + p.Type + "\", or leave the type out to take it from the tenant.",
			Fact: Fact{Topic: TopicTypeMismatch, TenantType: p.Type, AskedType: np.Type}}
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

// PrincipalChange says how to change an existing principal in place.
type PrincipalChange struct {
	Name  string
	Admin bool
	MFA   bool
}

// UpdatePrincipal changes admin and mfa of an existing principal in place,
// in one transaction: it rewrites both pgaadauth labels in the form they
// have (see Relabel), sets the admin rights where they differ from admin
// (which also puts right a hand GRANT or REVOKE of azure_pg_admin), and
// reads the role back. The
// role keeps its oid, what it owns and its grants (replacing it would fail
// with 2BP01 as soon as it owns anything). Every statement is idempotent,
// so a lost COMMIT is simply run again. A refused relabel is
// ErrRelabelRefused, with the server's words.
func (c *Client) UpdatePrincipal(ctx context.Context, ch PrincipalChange) (Principal, error) {
	const op = "changing principal"
	if err := checkRoleName(op, ch.Name); err != nil {
		return Principal{}, err
	}
	p, err := write(ctx, c, PrincipalsDatabase, op,
		func(tx pgx.Tx) (Principal, error) { return updatePrincipal(ctx, tx, ch) }, nil)
	return p, c.classify(op, roleObject(ch.Name), err, principalRule)
}

func updatePrincipal(ctx context.Context, tx pgx.Tx, ch PrincipalChange) (Principal, error) {
	cur, err := readPrincipal(ctx, tx, ch.Name)
	if err != nil {
		return Principal{}, err // not there, or not an Entra principal
	}
	var label, labelInt string
	if err := tx.QueryRow(ctx, `SELECT
	       coalesce((SELECT s.label FROM pg_shseclabel s
	                  WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth'), ''),
	       coalesce((SELECT s.label FROM pg_shseclabel s
	                  WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth-int'), '')
	  FROM pg_roles r WHERE r.rolname = $1`, ch.Name).Scan(&label, &labelInt); err != nil {
		return Principal{}, err
	}
	newLabel, newLabelInt := Relabel(label, labelInt, ch.Admin, ch.MFA)
	// SECURITY LABEL takes no bind parameters: the server quotes the
	// name and the label itself (format's %I and %L).
	var stmts []string
	var relabel string
	var relabelInt *string
	if err := tx.QueryRow(ctx, `SELECT format('SECURITY LABEL FOR "pgaadauth" ON ROLE %I IS %L', $1::text, $2::text),
	       CASE WHEN $3::text <> '' THEN format('SECURITY LABEL FOR "pgaadauth-int" ON ROLE %I IS %L', $1::text, $3::text) END`,
		ch.Name, newLabel, newLabelInt).Scan(&relabel, &relabelInt); err != nil {
		return Principal{}, err
	}
	stmts = append(stmts, relabel)
	if relabelInt != nil {
		stmts = append(stmts, *relabelInt)
	}
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return Principal{}, &Error{Op: "changing principal", Object: roleObject(ch.Name), Kind: ErrRelabelRefused, Err: err,
				Advice: "The server did not let the login rewrite the role's pgaadauth security labels, which is how its admin and MFA " +
					"flags change in place (Microsoft's troubleshooting guidance relabels roles as the Entra admin). Nothing was changed. " +
					"Log in as a Microsoft Entra admin of the server, or drop the principal and create it again, " +
					"which fails while the role owns objects or holds privileges and loses its grants.",
				Fact: Fact{Topic: TopicRelabelRefused}}
		}
	}
	// The admin rights, where they differ from what admin asks: an admin
	// gets azure_pg_admin, CREATEROLE and CREATEDB; a role that was labelled
	// admin or is a member of azure_pg_admin loses all three. A non-admin's
	// CREATEDB given by hand (without membership) is left alone.
	role := pgx.Identifier{ch.Name}.Sanitize()
	var rights []string
	switch {
	case ch.Admin && (!cur.AdminMember || !cur.CreateRole || !cur.CreateDB):
		rights = []string{"GRANT azure_pg_admin TO " + role, "ALTER ROLE " + role + " CREATEROLE CREATEDB"}
	case !ch.Admin && (cur.AdminMember || cur.LabelAdmin):
		rights = []string{"REVOKE azure_pg_admin FROM " + role, "ALTER ROLE " + role + " NOCREATEROLE NOCREATEDB"}
	}
	for _, stmt := range rights {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return Principal{}, err
		}
	}
	return readPrincipal(ctx, tx, ch.Name)
}

// DropPrincipal drops the principal, leaving nothing of it behind (see
// droprole.go): what it owns goes to reassignTo, or the drop fails naming
// it. A role that is already gone is not an error, so running the drop
// again after a lost connection is safe.
func (c *Client) DropPrincipal(ctx context.Context, name, reassignTo string) error {
	return c.dropRole(ctx, "dropping principal", ObjectRole, DropRole{Name: name, ReassignTo: reassignTo}, func(e *Error, pgErr *pgconn.PgError) {
		principalRule(e, pgErr)
		if errors.Is(e.Kind, ErrDependentObjects) && c.cfg.Username != "" {
			login := pgx.Identifier{c.cfg.Username}.Sanitize()
			e.Advice, e.Fact = dependentObjectsAdvice(name, login), Fact{Topic: TopicRoleOwnsObjects, Role: name, Login: login,
				Steps: dependentObjectsSteps(name, login)}
		}
	})
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
// pgaadauth functions' own failures, and advice for the shared kinds. Its
// advice for a creation assumes a lookup by name (no object_id);
// principalByObjectIDRule is the one for a creation by object id.
func principalRule(e *Error, pgErr *pgconn.PgError) {
	msg := strings.ToLower(pgErr.Message)
	switch {
	case strings.Contains(msg, "not found in the tenant"):
		e.Kind = ErrNotInTenant
		e.Advice = "Check the spelling and case: a user is named by UPN, a group, service principal or managed identity by display name. " +
			"For an object that the tenant cannot find by name (e.g. one created moments ago), give its object id and type " +
			"(pgaadauth_create_principal_with_oid)."
		e.Fact = Fact{Topic: TopicNotInTenant}
	case strings.Contains(msg, "more than one"):
		e.Kind = ErrAmbiguous
		e.Advice = "Several Entra objects share this name. Give the object id (and type) to say which one is meant."
		e.Fact = Fact{Topic: TopicAmbiguousName}
	case pgErr.Code == "0LP01":
		e.Kind = ErrValidation
		e.Advice = "Azure could not validate the name against Microsoft Entra ID. Retry later. If it keeps failing, check that the " +
			"server can reach Microsoft Entra ID (a server with private access needs outbound access to the AzureActiveDirectory " +
			"service tag). Giving the object id and type would skip the name lookup, not this check: Azure validates the object in " +
			"Entra ID either way."
		e.Fact = Fact{Topic: TopicValidation}
	case pgErr.Code == "42883": // undefined_function
		e.Kind = ErrWrongDatabase
		e.Advice, e.Fact = wrongDatabaseAdvice, Fact{Topic: TopicWrongDatabase}
	case pgErr.Code == "42501":
		e.Kind = ErrPermissionDenied
		e.Advice, e.Fact = notAdminAdvice, Fact{Topic: TopicNotEntraAdmin}
	case pgErr.Code == "2BP01":
		e.Kind = ErrDependentObjects
		e.Advice = dependentObjectsAdvice(e.Object.Name, "<your login>")
		e.Fact = Fact{Topic: TopicRoleOwnsObjects, Role: e.Object.Name, Login: "<your login>",
			Steps: dependentObjectsSteps(e.Object.Name, "<your login>")}
	}
}

// principalByObjectIDRule is principalRule for a creation by object id
// (pgaadauth_create_principal_with_oid): no name was looked up, so the
// advice does not propose an object id and type, which were given.
func principalByObjectIDRule(e *Error, pgErr *pgconn.PgError) {
	principalRule(e, pgErr)
	e.Fact.ByObjectID = true
	switch {
	case errors.Is(e.Kind, ErrNotInTenant):
		e.Advice = "Check the object id: it must be the object id (for a managed identity or service principal, its principal id, not " +
			"its client id) of an object in the server's tenant. An identity created seconds earlier may not be visible to Azure yet " +
			"(directory replication): try again in a minute."
	case errors.Is(e.Kind, ErrValidation):
		e.Advice = "Azure could not validate the object id against Microsoft Entra ID; an object id and type skip only the name lookup, " +
			"not this check. Retry later. If it keeps failing, check that the server can reach Microsoft Entra ID (a server with " +
			"private access needs outbound access to the AzureActiveDirectory service tag)."
	}
}

// dependentObjectsAdvice is what to do when a role cannot be dropped
// (2BP01). REASSIGN OWNED and DROP OWNED need the privileges of the role,
// which the Entra admin (not a superuser) has only as a member of it: the
// GRANT comes first. login is the quoted login, or a placeholder.
func dependentObjectsAdvice(name, login string) string {
	return roleOwnsObjects + " As the Entra admin, " + dependentObjectsSteps(name, login)
}

// roleOwnsObjects begins the advice for a role that cannot be dropped.
const roleOwnsObjects = "The role still owns objects or holds privileges (listed above; \"N objects in database X\" means look there). " +
	"Hand them over, then drop the role again."

// dependentObjectsSteps is how to hand over what a role owns, in SQL
// (Fact.Steps): it follows "as the Entra admin, ".
func dependentObjectsSteps(name, login string) string {
	role := pgx.Identifier{name}.Sanitize()
	return "first make the login a member of the role " +
		"(the Entra admin is not a superuser, and handing over a role's objects needs its privileges):\n" +
		"  GRANT " + role + " TO " + login + ";\n" +
		"then in each database the message names (and in postgres):\n" +
		"  REASSIGN OWNED BY " + role + " TO <new owner>;\n" +
		"  DROP OWNED BY " + role + ";\n" +
		"where <new owner> is the login itself or another role it is a member of."
}

const (
	wrongDatabaseAdvice = "The pgaadauth_* functions exist only in the postgres database of an Azure Database for PostgreSQL flexible server " +
		"with Microsoft Entra authentication enabled. Check that the client connects to such a server and that Entra authentication is enabled on it."
	// Azure: only Entra administrators may create or drop Entra principals;
	// the password server admin, though in azure_pg_admin, creates only
	// local password-based users (the emulator's require_entra_admin, a
	// GUESS that TestLiveCreatePrincipalAsPasswordAdmin checks on Azure).
	notAdminAdvice = "Only Microsoft Entra admins of the server (roles created with isAdmin = true, labelled admin) may create or drop " +
		"Entra principals. The password-based server admin is a member of azure_pg_admin too, but Azure lets it create only local " +
		"password-based users. Log in as an Entra admin, with the admin's name and an Entra token (not a password)."
)

// PrincipalsFolded returns the Entra principals whose name equals name but
// for case (lower() on both sides), ordered: what an import of a name that
// does not exist may have meant.
func (c *Client) PrincipalsFolded(ctx context.Context, name string) ([]string, error) {
	const op = "looking up principals named alike"
	out, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) ([]string, error) {
		rows, err := q.Query(ctx, `SELECT r.rolname FROM pg_roles r
			WHERE lower(r.rolname) = lower($1) AND r.rolname <> $1
			  AND EXISTS (SELECT 1 FROM pg_shseclabel s
			               WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth')
			ORDER BY r.rolname`, name)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	})
	return out, c.classify(op, roleObject(name), err, nil)
}
