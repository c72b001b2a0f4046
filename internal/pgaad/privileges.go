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

// Object types of grants and default privileges.
const (
	ObjectTypeDatabase = "database"
	ObjectTypeSchema   = "schema"
	ObjectTypeTable    = "table"
	ObjectTypeSequence = "sequence"
	ObjectTypeFunction = "function"
	ObjectTypeType     = "type" // default privileges only
)

// PublicRole is the name that stands for PUBLIC, the pseudo-role of every
// role. PostgreSQL itself reads the identifier public (quoted or not) as
// PUBLIC and refuses to create a role of that name, so no real role can be
// meant by it.
const PublicRole = "public"

// privilegeTarget is what a privilege write is about: a GrantTarget or a
// DefaultPrivilegesTarget.
type privilegeTarget interface {
	what() string   // the target in messages
	object() Object // its Object, which names its database
}

// writePrivileges makes the role hold exactly privileges on t, or (revoke)
// none, with one attempt of apply (applyGrant or applyDefaultPrivileges)
// as one write on t's database, and classifies a failure. A revoke whose
// role, schema or database is gone is not an error: they took the
// privileges with them. Running apply again is harmless, so a lost COMMIT
// needs no check.
//
// fast, when not nil, is tried first: the write in one round trip that
// other writes may share, when the case is a common one (ok false: it is
// not, and apply runs).
func writePrivileges[T privilegeTarget, R any](ctx context.Context, c *Client, t T, revoke bool, privileges []string, withGrantOption bool,
	apply func(ctx context.Context, conn *pgx.Conn, op string, t T, privileges []string, withGrantOption bool) (R, error),
	fast func(ctx context.Context, op string) (r R, ok bool, err error),
) (R, error) {
	op := "granting " + t.what()
	if revoke {
		op = "revoking " + t.what()
	}
	var r R
	var err error
	ok := false
	if fast != nil {
		r, ok, err = fast(ctx, op)
	}
	if !ok {
		r, err = writeOne(ctx, c, t.object().Database, op, func(conn *pgx.Conn) (R, error) {
			return apply(ctx, conn, op, t, privileges, withGrantOption)
		}, nil)
	}
	err = c.classify(op, t.object(), err, nil)
	if revoke && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrDatabaseMissing)) {
		return r, nil
	}
	return r, err
}

// Privileges lists, for each object type, the privileges PostgreSQL accepts
// on it, as aclexplode spells them. MAINTAIN exists on tables from
// PostgreSQL 17 on; an older server rejects it when it is granted.
var Privileges = map[string][]string{
	ObjectTypeDatabase: {"CONNECT", "CREATE", "TEMPORARY"},
	ObjectTypeSchema:   {"CREATE", "USAGE"},
	ObjectTypeTable:    {"DELETE", "INSERT", "MAINTAIN", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE"},
	ObjectTypeSequence: {"SELECT", "UPDATE", "USAGE"},
	ObjectTypeFunction: {"EXECUTE"},
	ObjectTypeType:     {"USAGE"},
}

// AllPrivileges is the keyword that grants every privilege of the type.
const AllPrivileges = "ALL"

// aclCode is acldefault's code for an object type (its full privilege set
// on this server's version comes from acldefault itself).
var aclCode = map[string]string{
	ObjectTypeDatabase: "d",
	ObjectTypeSchema:   "n",
	ObjectTypeTable:    "r",
	ObjectTypeSequence: "s",
	ObjectTypeFunction: "f",
	ObjectTypeType:     "T",
}

// Object types of grants and default privileges (see Object). Their
// operation names the role and the objects, the Object the database.
const (
	ObjectGrant             = "grant"
	ObjectDefaultPrivileges = "default privileges"
)

// ErrCannotActAsOwner: the login is neither the owner of an object nor a
// member of the owning role, so it may not grant on it (Azure's Entra admin
// is not a superuser). The server's error is a 42501; this kind says which
// one, so that the advice can name the GRANT that would allow it.
var ErrCannotActAsOwner = errors.New("the login cannot act as the owner")

// quoteRole is a role in a GRANT or REVOKE: PUBLIC for "public".
func quoteRole(role string) string {
	if role == PublicRole {
		return "PUBLIC"
	}
	return pgx.Identifier{role}.Sanitize()
}

// privilegeList is the privileges part of GRANT / REVOKE.
func privilegeList(privs []string) string {
	if slices.Contains(privs, AllPrivileges) {
		return "ALL"
	}
	for _, p := range privs {
		// Privilege names are keywords, never quoted: accept only ours.
		if !isPrivilegeWord(p) {
			panic(fmt.Sprintf("pgaad: %q is not a privilege", p))
		}
	}
	return strings.Join(privs, ", ")
}

func isPrivilegeWord(p string) bool {
	for _, list := range Privileges {
		if slices.Contains(list, p) {
			return true
		}
	}
	return false
}

// canSetRole is the pg_has_role privilege that SET ROLE needs: from
// PostgreSQL 16 on, a membership may lack the SET option (the ADMIN-only
// membership a CREATEROLE role gets in the roles it creates), and MEMBER
// would wrongly say the login can act as the owner. PostgreSQL 15 and older
// know no 'SET' mode: MEMBER is what SET ROLE checks there.
const canSetRole = `CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END`

// hasOwnerPrivileges is the SQL test that the login has the privileges of
// role r (it is r, or an inheriting member): it may then grant on r's
// objects directly, and PostgreSQL records r as the grantor.
const hasOwnerPrivileges = `(r.rolname = current_user OR pg_has_role(current_user, r.oid, 'USAGE'))`

// restrictedRole is the SQL test for a role no login can be made a member
// of on Azure: a superuser, azure_pg_admin (Learn: "permission denied to
// alter restricted role"), or a predefined role (oid below 16384; GUESS,
// see pgaadauth_emulator.c). r is the pg_roles row.
const restrictedRole = `(r.rolsuper OR r.oid < 16384 OR r.rolname = 'azure_pg_admin')`

// cannotActAdvice is what to do when the login cannot act as an owner.
// It proposes GRANT <owner> TO <login> only for an owner that is not
// restricted: on PostgreSQL 15 the login's CREATEROLE lets it run that
// GRANT itself, and on 16+ Azure's azure_pg_admin enhancement does (Learn:
// its members "can manage roles ... owned by any nonrestricted role"). For
// a restricted owner no GRANT can work, so none is proposed.
func cannotActAdvice(login string, owners []ownerInfo, what string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "On Azure the Entra admin %q is not a superuser: it may %s only by acting as the owner (SET ROLE), "+
		"which needs membership in the owning role. Nothing was changed.\n", login, what)
	var grants []string
	for _, o := range owners {
		fmt.Fprintf(&b, "\n  %s is owned by %q", strings.Join(o.objects, ", "), o.owner)
		if o.restricted {
			b.WriteString(", a role Azure restricts (a superuser, azure_pg_admin or a predefined role): no login can act for it")
			continue
		}
		grants = append(grants, fmt.Sprintf("\n  GRANT %s TO %s;", pgx.Identifier{o.owner}.Sanitize(), pgx.Identifier{login}.Sanitize()))
	}
	if len(grants) > 0 {
		// GUESS (TestLiveGrantOnPasswordAdminObjects): that the Entra admin
		// may run it on 16+, by the enhancement.
		b.WriteString("\n\nTo allow it, the login can run itself (CREATEROLE on PostgreSQL 15; on 16 and later, " +
			"Azure lets azure_pg_admin members manage every role that is not restricted):\n")
		b.WriteString(strings.Join(grants, ""))
		b.WriteString("\n\nor give the objects an owner the login is a member of (ALTER ... OWNER TO), then apply again.")
	} else {
		b.WriteString("\n\nGive the objects an owner the login is a member of (ALTER ... OWNER TO, run by their owner), then apply again.")
	}
	return b.String()
}

// ownerInfo is an owner the login cannot act as, and what it owns.
type ownerInfo struct {
	owner      string
	restricted bool
	objects    []string
}

// isPermissionDenied reports a 42501.
func isPermissionDenied(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}
