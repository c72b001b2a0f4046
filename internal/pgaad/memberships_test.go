package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// plainRole creates a role as the bootstrap superuser and drops it after the test.
func plainRole(t *testing.T, name string) string {
	t.Helper()
	pgtest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() { pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize()) })
	return name
}

// serverMembership is what pg_auth_members says, as the superuser.
func serverMembership(t *testing.T, role, member string) (grants int, admin bool) {
	t.Helper()
	pgtest.SuperQueryRow(t, "postgres", `SELECT count(*), coalesce(bool_or(admin_option), false) FROM pg_auth_members
		WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND member = (SELECT oid FROM pg_roles WHERE rolname = $2)`,
		[]any{role, member}, &grants, &admin)
	return grants, admin
}

func wantMembershipKind(t *testing.T, err, kind error, texts ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got %v, want %v", err, kind)
	}
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
}

func TestMembershipLifecycle(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	// 63 bytes, non-ASCII, quotes, a semicolon, "@" and "/".
	role := plainRole(t, pgtest.LongName(`app "role"; ö/`, 63))
	member := plainRole(t, pgtest.LongName(`Zoë's grp @ x`, 63))
	if len(role) != 63 || len(member) != 63 {
		t.Fatalf("names of %d and %d bytes", len(role), len(member))
	}

	_, err := c.Membership(ctx, role, member)
	wantMembershipKind(t, err, pgaad.ErrNotFound, "reading role membership", "the role is not granted to the member")

	m, err := c.GrantMembership(ctx, pgaad.Membership{Role: role, Member: member})
	// The server's defaults: INHERIT (the member's attribute) and SET, on every version.
	yes := true
	if want := (pgaad.Membership{Role: role, Member: member, Inherit: &yes, Set: &yes}); err != nil || !reflect.DeepEqual(m, want) {
		t.Fatalf("granted %+v, %v; want %+v", m, err, want)
	}
	if n, admin := serverMembership(t, role, member); n != 1 || admin {
		t.Fatalf("server: %d grants, admin %v", n, admin)
	}
	_, err = c.GrantMembership(ctx, pgaad.Membership{Role: role, Member: member, AdminOption: true})
	wantMembershipKind(t, err, pgaad.ErrAlreadyExists, "granting role "+fmt.Sprintf("%q to %q", role, member), "already granted")
	if _, admin := serverMembership(t, role, member); admin {
		t.Fatal("a refused grant changed the admin option")
	}

	for _, want := range []bool{true, true, false, false} {
		m, err = c.SetMembershipOptions(ctx, pgaad.Membership{Role: role, Member: member, AdminOption: want})
		if err != nil || m.AdminOption != want {
			t.Fatalf("admin option %v: %+v, %v", want, m, err)
		}
		if n, admin := serverMembership(t, role, member); n != 1 || admin != want {
			t.Fatalf("server after admin option %v: %d grants, admin %v", want, n, admin)
		}
		if got, err := c.Membership(ctx, role, member); err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("read %+v, %v; want %+v", got, err, m)
		}
	}

	if err := c.RevokeMembership(ctx, role, member); err != nil {
		t.Fatal(err)
	}
	if n, _ := serverMembership(t, role, member); n != 0 {
		t.Fatal("still a member")
	}
	if err := c.RevokeMembership(ctx, role, member); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	_, err = c.SetMembershipOptions(ctx, pgaad.Membership{Role: role, Member: member, AdminOption: true})
	wantMembershipKind(t, err, pgaad.ErrNotFound)

	// Granted with the admin option from the start.
	if m, err := c.GrantMembership(ctx, pgaad.Membership{Role: role, Member: member, AdminOption: true}); err != nil || !m.AdminOption {
		t.Fatalf("granted %+v, %v", m, err)
	}
	if n, admin := serverMembership(t, role, member); n != 1 || !admin {
		t.Fatalf("server: %d grants, admin %v", n, admin)
	}
}

func TestMembershipErrors(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	a := plainRole(t, pgtest.Name(`cyc "a"`))
	b := plainRole(t, pgtest.Name(`cyc "b"`))
	missing := pgtest.Name(`no "such" röle`)

	_, err := c.GrantMembership(ctx, pgaad.Membership{Role: missing, Member: a})
	wantMembershipKind(t, err, pgaad.ErrNotFound, "role "+fmt.Sprintf("%q", missing)+" does not exist", "The server has no role "+fmt.Sprintf("%q", missing), "pgaadauth_create_principal")
	var pe *pgaad.Error
	if !errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicRoleMissing || pe.Fact.Role != missing {
		t.Fatalf("want the missing role as a fact, got %+v", pe)
	}
	_, err = c.GrantMembership(ctx, pgaad.Membership{Role: a, Member: missing})
	wantMembershipKind(t, err, pgaad.ErrNotFound, "no role "+fmt.Sprintf("%q", missing))
	_, err = c.Membership(ctx, a, missing)
	wantMembershipKind(t, err, pgaad.ErrNotFound)
	if err := c.RevokeMembership(ctx, missing, a); err != nil {
		t.Fatalf("revoking a missing role: %v", err)
	}

	if _, err := c.GrantMembership(ctx, pgaad.Membership{Role: a, Member: b}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GrantMembership(ctx, pgaad.Membership{Role: b, Member: a})
	wantMembershipKind(t, err, pgaad.ErrMembershipCycle, "0LP01", "go round in a circle")
	if n, _ := serverMembership(t, b, a); n != 0 {
		t.Fatal("the circular grant was made")
	}

	// A login that is neither an admin (no CREATEROLE) nor has the admin
	// option: the error names the GRANT that would let it.
	mi := pgtest.NewObject(t, "managed_identity", `not admin "mi"`)
	pgtest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", mi.Name, mi.ObjectID)
	t.Cleanup(func() { pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{mi.Name}.Sanitize()) })
	src, err := entratoken.New(entratoken.Settings{Method: "managed_identity", ClientID: mi.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	e := pgtest.Emulator(t)
	nc := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: mi.Name, SSLMode: "require", Password: src.Password, Entra: true})
	t.Cleanup(nc.Close)
	_, err = nc.GrantMembership(ctx, pgaad.Membership{Role: a, Member: mi.Name})
	wantMembershipKind(t, err, pgaad.ErrPermissionDenied, "42501", "ADMIN OPTION",
		"GRANT "+pgx.Identifier{a}.Sanitize()+" TO "+pgx.Identifier{mi.Name}.Sanitize()+" WITH ADMIN OPTION", "PostgreSQL 16")
	if n, _ := serverMembership(t, a, mi.Name); n != 0 {
		t.Fatal("granted without the right to")
	}
	err = nc.RevokeMembership(ctx, a, b)
	wantMembershipKind(t, err, pgaad.ErrPermissionDenied, "ADMIN OPTION")
	if n, _ := serverMembership(t, a, b); n != 1 {
		t.Fatal("revoked without the right to")
	}
}

// TestMembershipRestrictedRoles: Azure refuses, on every version, a member
// added to azure_pg_admin and any grant of pg_write_all_data (Learn,
// *Access management*). The error says why and proposes no GRANT, since
// none can work.
func TestMembershipRestrictedRoles(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	role := plainRole(t, pgtest.LongName(`restricted "r"; ö@`, 63))
	for _, tc := range []struct {
		role, member, says string
	}{
		{role, "azure_pg_admin", "Azure restricts azure_pg_admin"},
		{"pg_write_all_data", role, "Azure never grants pg_write_all_data"},
	} {
		_, err := c.GrantMembership(ctx, pgaad.Membership{Role: tc.role, Member: tc.member})
		wantMembershipKind(t, err, pgaad.ErrPermissionDenied, tc.says, "Nothing was changed")
		if strings.Contains(err.Error(), "GRANT ") {
			t.Errorf("the advice proposes a GRANT, which cannot work here:\n%v", err)
		}
		if n, _ := serverMembership(t, tc.role, tc.member); n != 0 {
			t.Errorf("%d grants of %q to %q on the server", n, tc.role, tc.member)
		}
	}
}

// TestMembershipOptions: INHERIT and SET are granted as asked and changed
// in place on PostgreSQL 16+; on 15 asking for either changes nothing.
func TestMembershipOptions(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	role := plainRole(t, pgtest.LongName(`opt role "x"; ö`, 63))
	member := plainRole(t, pgtest.LongName(`opt member @ é`, 63))
	no, yes := false, true
	m, err := c.GrantMembership(ctx, pgaad.Membership{Role: role, Member: member, Inherit: &no, Set: &yes})
	if pgtest.Emulator(t).PGMajor() < 16 {
		wantMembershipKind(t, err, pgaad.ErrOptionsNeedPG16, "PostgreSQL 16")
		if n, _ := serverMembership(t, role, member); n != 0 {
			t.Fatalf("%d grants after a refused one", n)
		}
		return
	}
	if err != nil || *m.Inherit || !*m.Set {
		t.Fatalf("granted %+v, %v", m, err)
	}
	for _, want := range []struct{ inherit, set bool }{{true, true}, {true, false}, {false, false}} {
		m, err = c.SetMembershipOptions(ctx, pgaad.Membership{Role: role, Member: member, Inherit: &want.inherit, Set: &want.set})
		if err != nil {
			t.Fatal(err)
		}
		var inh, set bool
		var n int
		pgtest.SuperQueryRow(t, "postgres", `SELECT count(*), bool_or(inherit_option), bool_or(set_option) FROM pg_auth_members
			WHERE roleid = $1::regrole AND member = $2::regrole`,
			[]any{pgx.Identifier{role}.Sanitize(), pgx.Identifier{member}.Sanitize()}, &n, &inh, &set)
		if n != 1 || inh != want.inherit || set != want.set || *m.Inherit != inh || *m.Set != set {
			t.Fatalf("want inherit %v set %v; server %d grants inherit %v set %v; read %+v", want.inherit, want.set, n, inh, set, m)
		}
	}
}

// TestMembershipOfCreator: on PostgreSQL 16+ the admin that creates a role
// gets an implicit grant of it (ADMIN, neither INHERIT nor SET). It is not
// a membership: reading finds none, granting the role to the admin works,
// and revoking it leaves the implicit grant, read as no membership again.
// With createrole_self_grant set (AZUREPG_EMULATOR_CREATEROLE_SELF_GRANT,
// Azure's reported 'set, inherit'), the creator also gets a grant with
// those options: that one is a membership, read as such, and a grant is
// then ErrAlreadyExists (import it); revoking it leaves the implicit grant.
func TestMembershipOfCreator(t *testing.T) {
	t.Parallel()
	if pgtest.Emulator(t).PGMajor() < 16 {
		t.Skip("PostgreSQL 15: a role's creator gets no grant")
	}
	c := adminClient(t)
	ctx := context.Background()
	admin := pgtest.Emulator(t).AdminName()
	role := pgtest.LongName(`made by admin "o"; ö@`, 63)
	q := pgx.Identifier{role}.Sanitize()
	conn := pgtest.AdminConn(t, "postgres")
	if _, err := conn.Exec(ctx, "CREATE ROLE "+q); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+q) })
	if n, admin := serverMembership(t, role, admin); n < 1 || !admin {
		t.Fatalf("no implicit grant to the creator (%d grants, admin %v): the premise does not hold", n, admin)
	}
	var selfGrant string
	pgtest.SuperQueryRow(t, "postgres", "SHOW createrole_self_grant", nil, &selfGrant)
	if selfGrant != "" {
		m, err := c.Membership(ctx, role, admin)
		if err != nil || m.AdminOption || !*m.Set || !*m.Inherit {
			t.Fatalf("createrole_self_grant %q: read %+v, %v; want a membership with SET and INHERIT, no admin option", selfGrant, m, err)
		}
		_, err = c.GrantMembership(ctx, pgaad.Membership{Role: role, Member: admin})
		wantMembershipKind(t, err, pgaad.ErrAlreadyExists)
	} else {
		_, err := c.Membership(ctx, role, admin)
		wantMembershipKind(t, err, pgaad.ErrNotFound, "the role is not granted to the member")
		m, err := c.GrantMembership(ctx, pgaad.Membership{Role: role, Member: admin})
		if err != nil || m.AdminOption || !*m.Set {
			t.Fatalf("granted %+v, %v", m, err)
		}
	}
	var canSet bool
	pgtest.SuperQueryRow(t, "postgres", "SELECT pg_has_role($1, $2, 'SET')", []any{admin, role}, &canSet)
	if !canSet {
		t.Fatal("the admin cannot SET ROLE after the grant")
	}
	if err := c.RevokeMembership(ctx, role, admin); err != nil {
		t.Fatal(err)
	}
	_, err := c.Membership(ctx, role, admin)
	wantMembershipKind(t, err, pgaad.ErrNotFound)
	if n, _ := serverMembership(t, role, admin); n != 1 {
		t.Fatalf("%d grants left, want the implicit one", n)
	}
}
