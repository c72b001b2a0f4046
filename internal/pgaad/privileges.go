package pgaad

import (
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
// know no 'SET' mode: MEMBER is what SET ROLE checks there. (The emulator
// runs 15; the 16 branch is exercised by the live suite on Azure.)
const canSetRole = `CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END`

// cannotActAdvice is what to do when the login cannot act as an owner.
func cannotActAdvice(login string, owners []ownerInfo, what string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "On Azure the Entra admin %q is not a superuser: it may %s only by acting as the owner (SET ROLE), "+
		"which needs membership in the owning role. Nothing was changed.\n", login, what)
	for _, o := range owners {
		fmt.Fprintf(&b, "\n  %s is owned by %q", strings.Join(o.objects, ", "), o.owner)
		if o.super {
			b.WriteString(", a superuser (the login can never act for it)")
		}
	}
	// GUESS: that an admin can run this GRANT on Azure. On PostgreSQL 15 the
	// password admin's CREATEROLE suffices (the emulator); 16+ asks for ADMIN
	// OPTION on the owner, and no public source says who has it there.
	// TestLiveGrantOnPasswordAdminObjects settles it.
	b.WriteString("\n\nTo allow it, run as an admin (on PostgreSQL 16 and later, one with ADMIN OPTION on the owner):\n")
	for _, o := range owners {
		if !o.super {
			fmt.Fprintf(&b, "\n  GRANT %s TO %s;", pgx.Identifier{o.owner}.Sanitize(), pgx.Identifier{login}.Sanitize())
		}
	}
	b.WriteString("\n\nor give the objects an owner the login is a member of (ALTER ... OWNER TO), then apply again.")
	return b.String()
}

// ownerInfo is an owner the login cannot act as, and what it owns.
type ownerInfo struct {
	owner   string
	super   bool
	objects []string
}

// isPermissionDenied reports a 42501.
func isPermissionDenied(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42501"
}
