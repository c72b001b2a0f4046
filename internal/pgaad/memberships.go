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
// the privileges of Role.
type Membership struct {
	Role        string
	Member      string
	AdminOption bool // Member may grant Role to others
}

// Kinds of failure of membership operations; test with errors.Is.
var (
	ErrMembershipNotFound = errors.New("the role is not granted to the member")
	ErrMembershipExists   = errors.New("the role is already granted to the member")
	ErrMembershipRole     = errors.New("a role does not exist")
	ErrMembershipCycle    = errors.New("the grant would make a role a member of itself")
)

// MembershipError is a failed operation on one membership.
type MembershipError struct {
	Op     string // e.g. "granting role"
	Role   string
	Member string
	Kind   error // one of the ErrMembership* values or ErrPermissionDenied (may be nil)
	Err    error // the server's error (may be nil)
	Advice string
}

func (e *MembershipError) Error() string {
	return message(fmt.Sprintf("%s %q to %q", e.Op, e.Role, e.Member), e.Kind, e.Err, describe, e.Advice)
}

// Unwrap lets errors.Is find the kind and errors.As find the server's error.
func (e *MembershipError) Unwrap() []error { return unwrap(e.Kind, e.Err) }

// membershipQuery reads a membership and whether both roles exist, in one
// statement. From PostgreSQL 16 a membership may be granted several times
// by different grantors: the member has the admin option when any grant
// gives it.
const membershipQuery = `
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),
       EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2),
       count(m.roleid),
       coalesce(bool_or(m.admin_option), false)
  FROM pg_auth_members m
  JOIN pg_roles r ON r.oid = m.roleid
  JOIN pg_roles u ON u.oid = m.member
 WHERE r.rolname = $1 AND u.rolname = $2`

// readMembership is one read: ErrMembershipRole when a role is missing,
// ErrMembershipNotFound when both exist but the grant does not.
func readMembership(ctx context.Context, q querier, op, role, member string) (Membership, error) {
	var roleExists, memberExists bool
	var grants int
	var admin bool
	if err := q.QueryRow(ctx, membershipQuery, role, member).Scan(&roleExists, &memberExists, &grants, &admin); err != nil {
		return Membership{}, err
	}
	switch {
	case !roleExists || !memberExists:
		missing := role
		if roleExists {
			missing = member
		}
		return Membership{}, &MembershipError{Op: op, Role: role, Member: member, Kind: ErrMembershipRole,
			Advice: missingRoleAdvice(missing)}
	case grants == 0:
		return Membership{}, &MembershipError{Op: op, Role: role, Member: member, Kind: ErrMembershipNotFound}
	}
	return Membership{Role: role, Member: member, AdminOption: admin}, nil
}

// Membership reads one membership in one statement.
func (c *Client) Membership(ctx context.Context, role, member string) (Membership, error) {
	const op = "reading membership of role"
	pool, err := c.Pool(PrincipalsDatabase)
	if err != nil {
		return Membership{}, err
	}
	m, err := retryOnConnLost(ctx, pool, func() (Membership, error) { return readMembership(ctx, pool, op, role, member) })
	return m, c.membershipError(op, role, member, err)
}

// GrantMembership grants role to member (WITH ADMIN OPTION when asked) and
// reads it back, in one transaction. A membership that already exists is
// ErrMembershipExists and is left as it is: deleting the resource later
// would revoke a grant that Terraform did not make.
func (c *Client) GrantMembership(ctx context.Context, m Membership) (Membership, error) {
	got, err := c.grantMembership(ctx, m, true)
	retried := false
	for retries := 0; retries < maxConnLostRetries && c.retryable(ctx, PrincipalsDatabase, err); retries++ {
		got, err = c.grantMembership(ctx, m, true)
		retried = true
	}
	if retried && errors.Is(err, ErrMembershipExists) {
		// The first attempt committed before its connection died.
		if now, rerr := c.Membership(ctx, m.Role, m.Member); rerr == nil && now.AdminOption == m.AdminOption {
			return now, nil
		}
	}
	return got, err
}

// SetMembershipAdminOption grants or revokes the admin option of an
// existing membership, and reads it back, in one transaction. Either is
// harmless when repeated, so it is retried when the connection is lost.
func (c *Client) SetMembershipAdminOption(ctx context.Context, m Membership) (Membership, error) {
	got, err := c.grantMembership(ctx, m, false)
	for retries := 0; retries < maxConnLostRetries && c.retryable(ctx, PrincipalsDatabase, err); retries++ {
		got, err = c.grantMembership(ctx, m, false)
	}
	return got, err
}

// grantMembership is one attempt: with create, the membership must not
// exist yet; without, it must, and only its admin option changes.
func (c *Client) grantMembership(ctx context.Context, m Membership, create bool) (Membership, error) {
	op := "granting role"
	if !create {
		op = "changing the admin option of role"
	}
	pool, err := c.Pool(PrincipalsDatabase)
	if err != nil {
		return Membership{}, err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return Membership{}, c.membershipError(op, m.Role, m.Member, err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit

	before, err := readMembership(ctx, tx, op, m.Role, m.Member)
	switch {
	case create && err == nil:
		return Membership{}, &MembershipError{Op: op, Role: m.Role, Member: m.Member, Kind: ErrMembershipExists}
	case create && errors.Is(err, ErrMembershipNotFound), !create && err == nil:
	default:
		return Membership{}, c.membershipError(op, m.Role, m.Member, err)
	}
	role, member := pgx.Identifier{m.Role}.Sanitize(), pgx.Identifier{m.Member}.Sanitize()
	var sql string
	switch {
	case m.AdminOption:
		sql = "GRANT " + role + " TO " + member + " WITH ADMIN OPTION"
	case create:
		sql = "GRANT " + role + " TO " + member
	case before.AdminOption:
		sql = "REVOKE ADMIN OPTION FOR " + role + " FROM " + member
	}
	if sql != "" {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return Membership{}, c.membershipError(op, m.Role, m.Member, err)
		}
	}
	got, err := readMembership(ctx, tx, op, m.Role, m.Member)
	if err != nil {
		return Membership{}, c.membershipError(op, m.Role, m.Member, err)
	}
	if got.AdminOption != m.AdminOption {
		// PostgreSQL 16+: REVOKE takes back only this login's own grants;
		// another grantor's admin option stays.
		return Membership{}, &MembershipError{Op: op, Role: m.Role, Member: m.Member, Kind: ErrPermissionDenied,
			Advice: otherGrantorAdvice(m.Role, m.Member, "the member still has the admin option")}
	}
	if err := tx.Commit(ctx); err != nil {
		return Membership{}, c.membershipError(op, m.Role, m.Member, err)
	}
	return got, nil
}

// RevokeMembership revokes role from member and checks, in the same
// transaction, that the membership is gone. A membership or a role that is
// already gone is not an error.
func (c *Client) RevokeMembership(ctx context.Context, role, member string) error {
	err := c.revokeMembership(ctx, role, member)
	// Safe to run twice: revoking a missing membership is a warning only.
	for retries := 0; retries < maxConnLostRetries && c.retryable(ctx, PrincipalsDatabase, err); retries++ {
		err = c.revokeMembership(ctx, role, member)
	}
	if errors.Is(err, ErrMembershipRole) {
		return nil
	}
	return err
}

func (c *Client) revokeMembership(ctx context.Context, role, member string) error {
	const op = "revoking role"
	pool, err := c.Pool(PrincipalsDatabase)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return c.membershipError(op, role, member, err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit
	if _, err := tx.Exec(ctx, "REVOKE "+pgx.Identifier{role}.Sanitize()+" FROM "+pgx.Identifier{member}.Sanitize()); err != nil {
		return c.membershipError(op, role, member, err)
	}
	_, err = readMembership(ctx, tx, op, role, member)
	switch {
	case err == nil:
		// PostgreSQL 16+: REVOKE takes back only this login's own grant.
		return &MembershipError{Op: op, Role: role, Member: member, Kind: ErrPermissionDenied,
			Advice: otherGrantorAdvice(role, member, "the member still has the role")}
	case !errors.Is(err, ErrMembershipNotFound):
		return c.membershipError(op, role, member, err)
	}
	return c.membershipError(op, role, member, tx.Commit(ctx))
}

// otherGrantorAdvice explains a membership that another grantor's grant keeps.
func otherGrantorAdvice(role, member, what string) string {
	r, m := pgx.Identifier{role}.Sanitize(), pgx.Identifier{member}.Sanitize()
	return fmt.Sprintf("The statement succeeded but %s: another role granted it too (PostgreSQL 16 and later keep one "+
		"grant per grantor, and a REVOKE takes back only the login's own). "+
		"SELECT grantor::regrole FROM pg_auth_members WHERE roleid = %s::regrole AND member = %s::regrole "+
		"shows the grantors; that role can run REVOKE ... GRANTED BY. Nothing was changed.", what, quoteLiteral(r), quoteLiteral(m))
}

// membershipError classifies a failure: connection failures get pgaad's
// ConnectionError explanation, server errors a MembershipError with its
// kind and advice.
func (c *Client) membershipError(op, role, member string, err error) error {
	if err == nil {
		return nil
	}
	var me *MembershipError
	if errors.As(err, &me) {
		return err
	}
	var ce *ConnectionError
	if explained := c.explain(err, PrincipalsDatabase); errors.As(explained, &ce) {
		return explained
	}
	me = &MembershipError{Op: op, Role: role, Member: member, Err: err}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return me
	}
	msg := strings.ToLower(pgErr.Message)
	switch {
	case pgErr.Code == "42704":
		me.Kind = ErrMembershipRole
		missing := role
		if strings.Contains(pgErr.Message, `"`+member+`"`) {
			missing = member
		}
		me.Advice = missingRoleAdvice(missing)
	case pgErr.Code == "0LP01" && strings.Contains(msg, "is a member of role"):
		me.Kind = ErrMembershipCycle
		me.Advice = fmt.Sprintf("Role %q is already, directly or through other roles, a member of %q; "+
			"PostgreSQL refuses memberships that go round in a circle. Remove one of the memberships.", role, member)
	case pgErr.Code == "42501":
		me.Kind = ErrPermissionDenied
		me.Advice = adminOptionAdvice(role, c.cfg.Username)
	}
	return me
}

// missingRoleAdvice says what to do about a role that does not exist.
func missingRoleAdvice(name string) string {
	return fmt.Sprintf("The server has no role %q (names are case-sensitive). Create it first: azurepg_principal for a "+
		"Microsoft Entra principal, or CREATE ROLE for an application role; when Terraform creates it, refer to that "+
		"resource's name so that this one waits for it.", name)
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

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
