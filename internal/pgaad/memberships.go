package pgaad

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Membership is one role granted to another (pg_auth_members): Member has
// the privileges of Role. A read sets every field; a write leaves Inherit
// and Set nil to keep them as they are (the server's defaults on a grant).
type Membership struct {
	Role        string
	Member      string
	AdminOption bool // Member may grant Role to others
	// PostgreSQL 16+: whether Member uses Role's privileges without SET
	// ROLE (INHERIT), and whether it may SET ROLE to it (SET). On 15 and
	// older a membership always allows SET ROLE, and inherits when the
	// member has the INHERIT attribute; writes refuse them there.
	Inherit *bool
	Set     *bool
}

// ErrOptionsNeedPG16: INHERIT and SET options of a membership exist from
// PostgreSQL 16 on.
var ErrOptionsNeedPG16 = errors.New("membership INHERIT and SET options need PostgreSQL 16 or later")

// ErrMembershipCycle: the grant would make a role a member of itself,
// directly or through other roles. Other failures of membership operations
// have the shared kinds: ErrNotFound (the membership, or one of the roles,
// does not exist), ErrAlreadyExists, ErrPermissionDenied.
var ErrMembershipCycle = errors.New("the grant would make a role a member of itself")

// errNotGranted is the cause of an ErrNotFound when both roles exist but
// the grant does not.
var errNotGranted = errors.New("the role is not granted to the member")

func membershipObject(role, member string) Object {
	return Object{Type: ObjectRoleMembership, Name: role, Member: member}
}

// membershipQuery reads a membership and whether both roles exist, in one
// statement. From PostgreSQL 16 a membership may be granted several times
// by different grantors: the member has an option when any grant gives it.
// to_jsonb reads inherit_option and set_option where they exist (16+) and
// gives NULL on 15, where SET is always allowed and INHERIT is the
// member's attribute.
//
// The grant PostgreSQL 16+ gives a role's creator (CREATE ROLE by a
// non-superuser: recorded as granted by the bootstrap superuser, oid 10,
// with ADMIN and neither INHERIT nor SET) is not a membership anybody
// declared: it lets the creator manage the role, not use it, and it stays
// when the role is revoked from its creator. It is left out.
const membershipQuery = `
WITH g AS (
  SELECT m.admin_option AS adm,
         coalesce((to_jsonb(m) ->> 'inherit_option')::bool, u.rolinherit) AS inh,
         coalesce((to_jsonb(m) ->> 'set_option')::bool, true) AS st,
         m.grantor
    FROM pg_auth_members m
    JOIN pg_roles r ON r.oid = m.roleid
    JOIN pg_roles u ON u.oid = m.member
   WHERE r.rolname = $1 AND u.rolname = $2)
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),
       EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2),
       count(*), coalesce(bool_or(adm), false), coalesce(bool_or(inh), false), coalesce(bool_or(st), false)
  FROM g
 WHERE NOT (g.grantor = 10 AND g.adm AND NOT g.inh AND NOT g.st)`

// readMembership is one read: ErrNotFound when a role is missing (the
// advice names it) or when both exist but the grant does not.
func readMembership(ctx context.Context, q querier, op, role, member string) (Membership, error) {
	return membershipFromRow(op, role, member, q.QueryRow(ctx, membershipQuery, role, member))
}

// membershipFromRow is readMembership's answer from membershipQuery's row.
func membershipFromRow(op, role, member string, row pgx.Row) (Membership, error) {
	var roleExists, memberExists bool
	var grants int
	var admin, inherit, set bool
	if err := row.Scan(&roleExists, &memberExists, &grants, &admin, &inherit, &set); err != nil {
		return Membership{}, err
	}
	switch {
	case !roleExists || !memberExists:
		missing := role
		if roleExists {
			missing = member
		}
		return Membership{}, &Error{Op: op, Object: membershipObject(role, member), Kind: ErrNotFound,
			Err: &reason{what: fmt.Sprintf("role %q does not exist", missing), err: ErrNotFound}, Advice: missingRoleAdvice(missing),
			Fact: Fact{Topic: TopicRoleMissing, Role: missing}}
	case grants == 0:
		return Membership{}, &Error{Op: op, Object: membershipObject(role, member), Kind: ErrNotFound,
			Err: errNotGranted}
	}
	return Membership{Role: role, Member: member, AdminOption: admin, Inherit: &inherit, Set: &set}, nil
}

// Membership reads one membership in one statement.
func (c *Client) Membership(ctx context.Context, role, member string) (Membership, error) {
	const op = "reading role membership"
	m, err := read(ctx, c, PrincipalsDatabase, op, func(q querier) (Membership, error) {
		return readMembership(ctx, q, op, role, member)
	})
	return m, c.membershipError(op, role, member, err)
}

// GrantMembership grants role to member (WITH ADMIN OPTION when asked) and
// reads it back, in one transaction. A membership that already exists is
// ErrAlreadyExists and is left as it is: revoking it later would take back
// a grant that this client did not make. When COMMIT got no answer,
// the membership is looked up: there as asked, the grant succeeded.
func (c *Client) GrantMembership(ctx context.Context, m Membership) (Membership, error) {
	const op = "granting role"
	confirm := func(ctx context.Context) (Membership, bool, error) {
		now, err := c.Membership(ctx, m.Role, m.Member)
		switch {
		case errors.Is(err, ErrNotFound):
			return Membership{}, false, nil
		case err != nil:
			return Membership{}, false, err
		}
		return now, membershipDiffers(now, m) == "", nil
	}
	got, ok, err := c.grantMembershipInOneRoundTrip(ctx, op, m, confirm)
	if !ok {
		got, err = write(ctx, c, PrincipalsDatabase, op, func(tx pgx.Tx) (Membership, error) {
			return changeMembership(ctx, tx, op, m, true)
		}, confirm)
	}
	return got, c.membershipError(op, m.Role, m.Member, err)
}

// SetMembershipOptions changes the admin option (and on PostgreSQL 16+ the
// INHERIT and SET options) of an existing membership and reads it back, in
// one transaction. Repeating it is harmless.
func (c *Client) SetMembershipOptions(ctx context.Context, m Membership) (Membership, error) {
	const op = "changing the admin option of role"
	got, err := write(ctx, c, PrincipalsDatabase, op, func(tx pgx.Tx) (Membership, error) {
		return changeMembership(ctx, tx, op, m, false)
	}, nil)
	return got, c.membershipError(op, m.Role, m.Member, err)
}

// changeMembership is the transaction of a grant: with create, the
// membership must not exist yet; without, it must, and only its options
// change.
func changeMembership(ctx context.Context, tx pgx.Tx, op string, m Membership, create bool) (Membership, error) {
	before, err := readMembership(ctx, tx, op, m.Role, m.Member)
	switch {
	case create && err == nil:
		return Membership{}, &Error{Op: op, Object: membershipObject(m.Role, m.Member), Kind: ErrAlreadyExists,
			Err: &reason{what: "the role is already granted to the member", err: ErrAlreadyExists}}
	case create && isMembershipMissing(err), !create && err == nil:
	default:
		return Membership{}, err
	}
	pg16 := serverMajor(tx.Conn().PgConn()) >= 16
	if !pg16 && (optionChanges(m.Inherit, before.Inherit) || optionChanges(m.Set, before.Set)) {
		return Membership{}, &Error{Op: op, Object: membershipObject(m.Role, m.Member), Kind: ErrOptionsNeedPG16,
			Advice: "Leave the INHERIT and SET options to the server, or use a server on PostgreSQL 16 or later. Nothing was changed."}
	}
	for _, sql := range membershipStatements(m, before, create, pg16) {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return Membership{}, err
		}
	}
	got, err := readMembership(ctx, tx, op, m.Role, m.Member)
	if err != nil {
		return Membership{}, err
	}
	if what := membershipDiffers(got, m); what != "" {
		// PostgreSQL 16+: a GRANT or REVOKE changes only this login's own
		// grant; another grantor's stays.
		return Membership{}, &Error{Op: op, Object: membershipObject(m.Role, m.Member), Kind: ErrPermissionDenied,
			Advice: otherGrantorAdvice(m.Role, m.Member, what)}
	}
	return got, nil
}

// membershipStatements are the GRANT and REVOKE that take a membership from
// before (nothing, with create) to m. PostgreSQL 16+ names every option
// (GRANT ... WITH ADMIN TRUE, INHERIT FALSE, SET TRUE; a GRANT of an
// existing membership changes the options named); 15 knows ADMIN OPTION
// only.
func membershipStatements(m, before Membership, create, pg16 bool) []string {
	role, member := pgx.Identifier{m.Role}.Sanitize(), pgx.Identifier{m.Member}.Sanitize()
	grant := "GRANT " + role + " TO " + member
	var opts, sqls []string
	if m.AdminOption && (create || !before.AdminOption) {
		opts = append(opts, "ADMIN OPTION")
	}
	if pg16 {
		opts = append(opts, changedOption("INHERIT", m.Inherit, before.Inherit)...)
		opts = append(opts, changedOption("SET", m.Set, before.Set)...)
	}
	if create || len(opts) > 0 {
		if len(opts) > 0 {
			grant += " WITH " + strings.Join(opts, ", ")
		}
		sqls = append(sqls, grant)
	}
	if !create && !m.AdminOption && before.AdminOption {
		sqls = append(sqls, "REVOKE ADMIN OPTION FOR "+role+" FROM "+member)
	}
	return sqls
}

// optionChanges: an option is asked for and differs from what is there
// (or nothing is there yet).
func optionChanges(want, before *bool) bool {
	return want != nil && (before == nil || *want != *before)
}

// changedOption is "NAME TRUE|FALSE" when the option is asked for and
// differs from before (nil before a new grant).
func changedOption(name string, want, before *bool) []string {
	if !optionChanges(want, before) {
		return nil
	}
	if *want {
		return []string{name + " TRUE"}
	}
	return []string{name + " FALSE"}
}

// membershipDiffers says what of the asked-for membership the server does
// not show, or "".
func membershipDiffers(got, want Membership) string {
	switch {
	case got.AdminOption != want.AdminOption && want.AdminOption:
		return "the member still lacks the admin option"
	case got.AdminOption != want.AdminOption:
		return "the member still has the admin option"
	case want.Inherit != nil && *got.Inherit != *want.Inherit:
		return fmt.Sprintf("the membership's INHERIT option is still %t", *got.Inherit)
	case want.Set != nil && *got.Set != *want.Set:
		return fmt.Sprintf("the membership's SET option is still %t", *got.Set)
	}
	return ""
}

// serverMajor is the server's major version, from the parameter every
// server reports at login (no round trip); 0 when unknown.
func serverMajor(conn *pgconn.PgConn) int {
	v := conn.ParameterStatus("server_version")
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// isMembershipMissing: both roles exist but the grant does not (a missing
// role is ErrNotFound too, with another cause).
func isMembershipMissing(err error) bool { return errors.Is(err, errNotGranted) }

// RevokeMembership revokes role from member and checks, in the same
// transaction, that the membership is gone. A membership or a role that is
// already gone is not an error; revoking again is harmless.
func (c *Client) RevokeMembership(ctx context.Context, role, member string) error {
	const op = "revoking role"
	ok, err := c.revokeMembershipInOneRoundTrip(ctx, op, role, member)
	if !ok {
		err = c.revokeMembership(ctx, op, role, member)
	}
	err = c.membershipError(op, role, member, err)
	if errors.Is(err, ErrNotFound) {
		return nil // a role is gone, and the membership with it
	}
	return err
}

// revokeMembership is RevokeMembership's general write (unclassified).
func (c *Client) revokeMembership(ctx context.Context, op, role, member string) error {
	_, err := write(ctx, c, PrincipalsDatabase, op, func(tx pgx.Tx) (struct{}, error) {
		if _, err := tx.Exec(ctx, "REVOKE "+pgx.Identifier{role}.Sanitize()+" FROM "+pgx.Identifier{member}.Sanitize()); err != nil {
			return struct{}{}, err
		}
		_, err := readMembership(ctx, tx, op, role, member)
		switch {
		case err == nil:
			// PostgreSQL 16+: REVOKE takes back only this login's own grant.
			return struct{}{}, &Error{Op: op, Object: membershipObject(role, member), Kind: ErrPermissionDenied,
				Advice: otherGrantorAdvice(role, member, "the member still has the role")}
		case isMembershipMissing(err):
			return struct{}{}, nil
		}
		return struct{}{}, err
	}, nil)
	return err
}

// membershipError classifies a failure with the membership's own rules
// before the common ones.
func (c *Client) membershipError(op, role, member string, err error) error {
	return c.classify(op, membershipObject(role, member), err, func(e *Error, pgErr *pgconn.PgError) {
		switch {
		case pgErr.Code == "42704":
			e.Kind = ErrNotFound
			missing := role
			if strings.Contains(pgErr.Message, `"`+member+`"`) {
				missing = member
			}
			e.Advice, e.Fact = missingRoleAdvice(missing), Fact{Topic: TopicRoleMissing, Role: missing}
		case pgErr.Code == "0LP01" && strings.Contains(strings.ToLower(pgErr.Message), "is a member of role"):
			e.Kind = ErrMembershipCycle
			e.Advice = fmt.Sprintf("Role %q is already, directly or through other roles, a member of %q; "+
				"PostgreSQL refuses memberships that go round in a circle. Remove one of the memberships.", role, member)
		case pgErr.Code == "42501":
			e.Kind = ErrPermissionDenied
			e.Advice, e.Fact = membershipDeniedAdvice(pgErr.Message, role, member, c.cfg.Username)
		}
	})
}

// missingRoleAdvice says what to do about a role that does not exist.
func missingRoleAdvice(name string) string {
	return fmt.Sprintf("The server has no role %q (names are case-sensitive). Create it first: with "+
		"pgaadauth_create_principal for a Microsoft Entra principal, or CREATE ROLE for an application role.", name)
}

// membershipDeniedAdvice says why a membership was refused and what can
// work: Azure's restricted roles never take one, whoever asks.
func membershipDeniedAdvice(msg, role, member, login string) (string, Fact) {
	switch {
	case strings.Contains(msg, "restricted role"):
		return fmt.Sprintf("Azure restricts azure_pg_admin: no role can be made a member of it or changed by a customer, "+
			"whatever the login (%q here). To let a principal administer the server, make it an Entra admin "+
			"(pgaadauth_create_principal with isAdmin). Nothing was changed.", member), Fact{Topic: TopicRestrictedRole, Member: member}
	case strings.Contains(msg, "pg_write_all_data"):
		return "Azure never grants pg_write_all_data, to any role. Grant the privileges the role needs on the schemas " +
			"and tables it writes to (GRANT, and ALTER DEFAULT PRIVILEGES for tables created later). Nothing was changed.", Fact{Topic: TopicWriteAllData}
	case strings.HasPrefix(role, "pg_"):
		return fmt.Sprintf("%q is a predefined PostgreSQL role. From PostgreSQL 16 on only a role with ADMIN OPTION on it "+
			"may grant it, and Azure's azure_pg_admin members do not get that for predefined roles (GUESS, not documented). "+
			"Grant the privileges the member needs on the objects instead (GRANT). Nothing was changed.", role), Fact{Topic: TopicPredefinedRole, Role: role}
	}
	return adminOptionAdvice(role, login), Fact{}
}

// adminOptionAdvice says who may grant a role and how to get there.
func adminOptionAdvice(role, login string) string {
	r := pgx.Identifier{role}.Sanitize()
	l := "<login>"
	if login != "" {
		l = pgx.Identifier{login}.Sanitize()
	}
	return fmt.Sprintf("To grant or revoke membership in %q, the login %q needs the ADMIN OPTION on that role. "+
		"On PostgreSQL 15 and older the CREATEROLE attribute (every Entra admin has it) suffices for roles that are not "+
		"superusers; PostgreSQL 16 and later require the ADMIN OPTION, which a role's creator receives automatically. "+
		"A role that has it (the role's creator, or the server admin) can run:\n\n"+
		"  GRANT %s TO %s WITH ADMIN OPTION;\n\nthen apply again. Nothing was changed.", role, login, r, l)
}

// otherGrantorAdvice explains a membership that another grantor's grant keeps.
func otherGrantorAdvice(role, member, what string) string {
	r, m := pgx.Identifier{role}.Sanitize(), pgx.Identifier{member}.Sanitize()
	return fmt.Sprintf("The statement succeeded but %s: another role granted it too (PostgreSQL 16 and later keep one "+
		"grant per grantor, and a REVOKE takes back only the login's own). "+
		"SELECT grantor::regrole FROM pg_auth_members WHERE roleid = %s::regrole AND member = %s::regrole "+
		"shows the grantors; that role can run REVOKE ... GRANTED BY. Nothing was changed.", what, quoteLiteral(r), quoteLiteral(m))
}

// quoteLiteral quotes a string constant (standard_conforming_strings is on
// on every supported server).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
