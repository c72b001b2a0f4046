package pgaad

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Roles that are not Entra principals: NOLOGIN group and owner roles, and
// local password logins for tools that cannot use Entra ID. The Entra admin
// has CREATEROLE but is not a superuser, so SUPERUSER, REPLICATION and
// BYPASSRLS are not offered.

// Role is a plain role as read from pg_roles.
type Role struct {
	Name            string
	Login           bool
	Inherit         bool
	CreateDatabase  bool
	CreateRole      bool
	ConnectionLimit int
	// ValidUntil is when the password stops being valid; the zero time
	// means never (NULL or 'infinity').
	ValidUntil time.Time
}

// Equal says whether two reads describe the same role.
func (r Role) Equal(o Role) bool {
	return r.Name == o.Name && r.Login == o.Login && r.Inherit == o.Inherit && r.CreateDatabase == o.CreateDatabase &&
		r.CreateRole == o.CreateRole && r.ConnectionLimit == o.ConnectionLimit && r.ValidUntil.Equal(o.ValidUntil)
}

// RoleChange is a role to create, or what an existing role becomes.
type RoleChange struct {
	Role
	// Password, when SetPassword, becomes the role's password: it is sent
	// as a SCRAM-SHA-256 verifier computed here, never in clear, so that
	// no server log or pg_stat_activity shows it. An empty Password with
	// SetPassword removes the password (PASSWORD NULL).
	Password    string
	SetPassword bool
}

func readRole(ctx context.Context, q querier, name string) (Role, error) {
	var r Role
	var entra bool
	var until *time.Time
	err := q.QueryRow(ctx, `
		SELECT r.rolcanlogin, r.rolinherit, r.rolcreatedb, r.rolcreaterole, r.rolconnlimit,
		       CASE WHEN r.rolvaliduntil = 'infinity' THEN NULL ELSE r.rolvaliduntil END,
		       EXISTS (SELECT 1 FROM pg_shseclabel s
		                WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider IN ('pgaadauth', 'pgaadauth-int'))
		  FROM pg_roles r WHERE r.rolname = $1`, name).
		Scan(&r.Login, &r.Inherit, &r.CreateDatabase, &r.CreateRole, &r.ConnectionLimit, &until, &entra)
	if errors.Is(err, pgx.ErrNoRows) {
		return Role{}, &Error{Op: "reading role", Object: plainRoleObject(name), Kind: ErrNotFound, Err: errors.New("role does not exist")}
	}
	if err != nil {
		return Role{}, err
	}
	if entra {
		return Role{}, &Error{Op: "reading role", Object: plainRoleObject(name), Kind: ErrEntraPrincipal,
			Advice: "The role carries a pgaadauth security label: it is a Microsoft Entra principal, created by " +
				"pgaadauth_create_principal, and is managed as one (its labels, its admin rights).",
			Fact: Fact{Topic: TopicEntraPrincipal, Role: name}}
	}
	r.Name = name
	if until != nil {
		r.ValidUntil = until.UTC()
	}
	return r, nil
}

// Role reads a plain role: ErrNotFound when no role has that name,
// ErrEntraPrincipal when it is an Entra principal.
func (c *Client) Role(ctx context.Context, name string) (Role, error) {
	const op = "reading role"
	r, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) (Role, error) { return readRole(ctx, q, name) })
	return r, c.classify(op, plainRoleObject(name), err, nil)
}

// CreateRole creates a role, in one round trip: the creation and the
// read-back as one pipeline segment, one implicit transaction, which other
// writes may share (writeSegment; the statements that name the role are
// not prepared first).
//
// The login must be able to act as the role afterwards (SET ROLE), to
// create a schema it owns or to grant on its objects: on PostgreSQL 16+ the
// creator of a role otherwise holds only ADMIN OPTION on it (unless
// createrole_self_grant says more), and on 15 nothing. So on 16+ the
// creation adds 'set' to createrole_self_grant for its transaction (PostgreSQL
// itself then grants the creator SET, not INHERIT), and on 15 the login
// becomes a member of the role (GRANT, which on 15 also inherits).
func (c *Client) CreateRole(ctx context.Context, rc RoleChange) (Role, error) {
	const op = "creating role"
	if err := checkRoleName(op, rc.Name); err != nil {
		return Role{}, err
	}
	verifier, err := passwordVerifier(rc)
	if err != nil {
		return Role{}, &Error{Op: op, Object: plainRoleObject(rc.Name), Err: err}
	}
	r, err := writeSegment(ctx, c, PrincipalsDatabase, op, func(conn *pgx.Conn) ([]pipelineStep, func(int, error) (Role, error)) {
		// One implicit transaction (no BEGIN: other writes may share the
		// round trip); set_config(..., true) ends with it.
		pg16 := serverMajor(conn.PgConn()) >= 16
		var steps []pipelineStep
		if pg16 {
			steps = append(steps, pipelineStep{sql: `SELECT set_config('createrole_self_grant',
				CASE WHEN current_setting('createrole_self_grant') ~* '\mset\M' THEN current_setting('createrole_self_grant')
				     ELSE concat_ws(', ', nullif(current_setting('createrole_self_grant'), ''), 'set') END, true)`})
		}
		steps = append(steps, pipelineStep{sql: "CREATE ROLE " + pgx.Identifier{rc.Name}.Sanitize() + roleOptions(rc.Role, nil, verifier)})
		if !pg16 {
			steps = append(steps, pipelineStep{sql: "GRANT " + pgx.Identifier{rc.Name}.Sanitize() + " TO CURRENT_USER"})
		}
		var got Role
		steps = append(steps, pipelineStep{sql: readRoleSQL, args: []any{rc.Name},
			row: func(row pgx.Row) (err error) { got, err = scanRole(rc.Name, row); return err }})
		return steps, func(_ int, err error) (Role, error) { return got, err }
	}, func(ctx context.Context) (Role, bool, error) {
		got, err := c.Role(ctx, rc.Name)
		if errors.Is(err, ErrNotFound) {
			return Role{}, false, nil
		}
		return got, err == nil && got.Equal(rc.Role), err
	})
	return r, c.classify(op, plainRoleObject(rc.Name), err, roleRule)
}

// UpdateRole changes an existing role's attributes (and password) to rc, in
// one statement: ALTER ROLE sets them all, so running it again after a lost
// COMMIT is harmless.
func (c *Client) UpdateRole(ctx context.Context, rc RoleChange, before Role) (Role, error) {
	const op = "changing role"
	if err := checkRoleName(op, rc.Name); err != nil {
		return Role{}, err
	}
	verifier, err := passwordVerifier(rc)
	if err != nil {
		return Role{}, &Error{Op: op, Object: plainRoleObject(rc.Name), Err: err}
	}
	r, err := writeSegment(ctx, c, PrincipalsDatabase, op, func(*pgx.Conn) ([]pipelineStep, func(int, error) (Role, error)) {
		var got Role
		var steps []pipelineStep
		if opts := roleOptions(rc.Role, &before, verifier); opts != "" {
			steps = append(steps, pipelineStep{sql: "ALTER ROLE " + pgx.Identifier{rc.Name}.Sanitize() + opts})
		}
		steps = append(steps, pipelineStep{sql: readRoleSQL, args: []any{rc.Name},
			row: func(row pgx.Row) (err error) { got, err = scanRole(rc.Name, row); return err }})
		return steps, func(_ int, err error) (Role, error) { return got, err }
	}, nil)
	return r, c.classify(op, plainRoleObject(rc.Name), err, roleRule)
}

// DropRole drops a plain role, leaving nothing of it behind (droprole.go).
func (c *Client) DropRole(ctx context.Context, d DropRole) error {
	return c.dropRole(ctx, "dropping role", ObjectPlainRole, d, roleRule)
}

func plainRoleObject(name string) Object { return Object{Type: ObjectPlainRole, Name: name} }

// readRoleSQL is readRole's query for a pipeline (scanRole reads it).
const readRoleSQL = `
	SELECT r.rolcanlogin, r.rolinherit, r.rolcreatedb, r.rolcreaterole, r.rolconnlimit,
	       CASE WHEN r.rolvaliduntil = 'infinity' THEN NULL ELSE r.rolvaliduntil END
	  FROM pg_roles r WHERE r.rolname = $1`

func scanRole(name string, row pgx.Row) (Role, error) {
	r := Role{Name: name}
	var until *time.Time
	if err := row.Scan(&r.Login, &r.Inherit, &r.CreateDatabase, &r.CreateRole, &r.ConnectionLimit, &until); err != nil {
		return Role{}, err
	}
	if until != nil {
		r.ValidUntil = until.UTC()
	}
	return r, nil
}

// roleOptions is the option list of CREATE ROLE (before nil) or ALTER ROLE
// (only what differs from before; "" when nothing does). Values are
// literals, as the grammar wants: numbers, a timestamp formatted here and
// a SCRAM verifier (base64 and punctuation), each quoted.
func roleOptions(r Role, before *Role, verifier *string) string {
	var opts []string
	flag := func(on bool, yes, no string, was bool) {
		if before == nil || on != was {
			if on {
				opts = append(opts, yes)
			} else {
				opts = append(opts, no)
			}
		}
	}
	var b Role
	if before != nil {
		b = *before
	}
	flag(r.Login, "LOGIN", "NOLOGIN", b.Login)
	flag(r.Inherit, "INHERIT", "NOINHERIT", b.Inherit)
	flag(r.CreateDatabase, "CREATEDB", "NOCREATEDB", b.CreateDatabase)
	flag(r.CreateRole, "CREATEROLE", "NOCREATEROLE", b.CreateRole)
	if before == nil || r.ConnectionLimit != b.ConnectionLimit {
		opts = append(opts, "CONNECTION LIMIT "+strconv.Itoa(r.ConnectionLimit))
	}
	if before == nil && !r.ValidUntil.IsZero() || before != nil && !r.ValidUntil.Equal(b.ValidUntil) {
		until := "infinity"
		if !r.ValidUntil.IsZero() {
			until = r.ValidUntil.UTC().Format("2006-01-02 15:04:05.999999Z07:00")
		}
		opts = append(opts, "VALID UNTIL "+quoteLiteral(until))
	}
	if verifier != nil {
		if *verifier == "" {
			opts = append(opts, "PASSWORD NULL")
		} else {
			opts = append(opts, "PASSWORD "+quoteLiteral(*verifier))
		}
	}
	if len(opts) == 0 {
		return ""
	}
	return " " + strings.Join(opts, " ")
}

// passwordVerifier is the PASSWORD to send: nil for none, "" for NULL, or
// a SCRAM-SHA-256 verifier of the password.
func passwordVerifier(rc RoleChange) (*string, error) {
	if !rc.SetPassword {
		return nil, nil
	}
	if rc.Password == "" {
		v := ""
		return &v, nil
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	v, err := scramVerifier(rc.Password, salt, 4096)
	return &v, err
}

// scramVerifier is the verifier PostgreSQL stores for a SCRAM-SHA-256
// password (RFC 5802, RFC 7677): SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
// The server stores a verifier given as PASSWORD as it is (it does not hash
// it again); psql's \password sends one the same way.
func scramVerifier(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	hmacOf := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	clientKey := hmacOf(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	serverKey := hmacOf(salted, "Server Key")
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, enc(salt), enc(stored[:]), enc(serverKey)), nil
}

// roleRule is what roles add to the common classification.
func roleRule(e *Error, pgErr *pgconn.PgError) {
	if pgErr.Code == "42501" {
		e.Kind = ErrPermissionDenied
		e.Advice = "Creating or changing a role needs CREATEROLE (every Entra admin has it), and on PostgreSQL 16+ ADMIN OPTION on " +
			"the role, which its creator has. CREATEROLE and CREATEDB can only be given by a role that has them itself. " +
			"Log in as a Microsoft Entra admin of the server."
	}
}
