package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

func TestRoleLifecycle(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	name := pgtest.LongName(`owner "x"; DROP ROLE y; --é @`, 63)
	until := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	want := pgaad.Role{Name: name, Login: true, Inherit: false, CreateDatabase: true, ConnectionLimit: 7, ValidUntil: until}
	got, err := c.CreateRole(ctx, pgaad.RoleChange{Role: want, Password: "s3cret 'pw'", SetPassword: true})
	t.Cleanup(func() { pgtest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize()) })
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Fatalf("created %+v, want %+v", got, want)
	}
	// The server holds a SCRAM verifier, not the password.
	var stored string
	var canSet bool
	pgtest.SuperQueryRow(t, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = $1", []any{name}, &stored)
	if !strings.HasPrefix(stored, "SCRAM-SHA-256$4096:") || strings.Contains(stored, "s3cret") {
		t.Fatalf("stored password %q", stored)
	}
	// The login can act as the role it created (SET ROLE).
	admin := pgtest.AdminConn(t, "postgres")
	if err := admin.QueryRow(ctx, "SELECT pg_has_role(current_user, $1, 'MEMBER')", name).Scan(&canSet); err != nil || !canSet {
		t.Fatalf("the creator cannot act as the role: %v %v", canSet, err)
	}
	if _, err := admin.Exec(ctx, "SET ROLE "+pgx.Identifier{name}.Sanitize()+"; RESET ROLE"); err != nil {
		t.Fatalf("SET ROLE to the created role: %v", err)
	}

	// A change by hand is read back; the update sets only what differs.
	pgtest.SuperExec(t, "postgres", "ALTER ROLE "+pgx.Identifier{name}.Sanitize()+" NOLOGIN CONNECTION LIMIT 3 VALID UNTIL 'infinity'")
	read, err := c.Role(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if read.Login || read.ConnectionLimit != 3 || !read.ValidUntil.IsZero() {
		t.Fatalf("read %+v after the hand change", read)
	}
	want2 := want
	want2.Inherit, want2.CreateDatabase, want2.ValidUntil = true, false, time.Time{}
	got, err = c.UpdateRole(ctx, pgaad.RoleChange{Role: want2, SetPassword: true}, read)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want2) {
		t.Fatalf("updated %+v, want %+v", got, want2)
	}
	var pw *string
	pgtest.SuperQueryRow(t, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = $1", []any{name}, &pw)
	if pw != nil {
		t.Fatalf("the password was not removed: %q", *pw)
	}

	if err := c.DropRole(ctx, pgaad.DropRole{Name: name}); err != nil {
		t.Fatal(err)
	}
	if pgtest.RoleExists(t, name) {
		t.Fatal("the role is still there")
	}
	if err := c.DropRole(ctx, pgaad.DropRole{Name: name}); err != nil {
		t.Fatalf("dropping a role that is gone: %v", err)
	}
	if _, err := c.Role(ctx, name); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("reading a dropped role: %v", err)
	}
}

func TestRoleReadRefusesEntraPrincipal(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	o := pgtest.NewObject(t, "user", "role-entra")
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(ctx, o.Name, "") })
	_, err := c.Role(ctx, o.Name)
	if !errors.Is(err, pgaad.ErrEntraPrincipal) || !strings.Contains(err.Error(), "pgaadauth security label") {
		t.Fatalf("got %v", err)
	}
}

// dropFixture: a principal that holds privileges in two databases, some
// given by default privileges of an owner role on a table created later,
// and (when owning) a table and a schema of its own in the second database.
type dropFixture struct {
	principal, owner string
	db1, db2         string
}

func newDropFixture(t *testing.T, c *pgaad.Client, owning bool) dropFixture {
	t.Helper()
	ctx := context.Background()
	o := pgtest.NewObject(t, "user", `drop "me"; é`)
	f := dropFixture{principal: o.Name, owner: pgtest.Name(`tables owner "o"`),
		db1: pgtest.Name("drop db1 é"), db2: pgtest.Name(`drop "db2"`)}
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: f.principal}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(ctx, f.principal, "") })
	if _, err := c.CreateRole(ctx, pgaad.RoleChange{Role: pgaad.Role{Name: f.owner, Inherit: true, ConnectionLimit: -1}}); err != nil {
		t.Fatal(err)
	}
	q := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	admin := pgtest.AdminConn(t, "postgres")
	for _, db := range []string{f.db1, f.db2} {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+q(db)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pgtest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+q(db)+" WITH (FORCE)") })
		conn := pgtest.AdminConn(t, db)
		script := "GRANT CONNECT ON DATABASE " + q(db) + " TO " + q(f.principal) + ";\n" +
			"CREATE SCHEMA sales AUTHORIZATION " + q(f.owner) + ";\n" +
			"SET ROLE " + q(f.owner) + ";\n" +
			"GRANT USAGE ON SCHEMA sales TO " + q(f.principal) + ";\n" +
			"ALTER DEFAULT PRIVILEGES IN SCHEMA sales GRANT SELECT ON TABLES TO " + q(f.principal) + ";\n" +
			"CREATE TABLE sales.orders (id int);\n" + // the default privileges give the principal SELECT
			"RESET ROLE;\n"
		if _, err := conn.Exec(ctx, script); err != nil {
			t.Fatalf("fixture in %s: %v", db, err)
		}
	}
	if owning {
		// What the principal made itself, as a superuser would let it.
		pgtest.SuperExec(t, f.db2, "CREATE SCHEMA "+q(`pat's "work"`)+" AUTHORIZATION "+q(f.principal)+
			"; SET ROLE "+q(f.principal)+"; CREATE TABLE "+q(`pat's "work"`)+".t (x int); RESET ROLE")
		pgtest.SuperExec(t, f.db2, "GRANT CREATE ON SCHEMA sales TO "+q(f.principal)+"; SET ROLE "+q(f.principal)+
			"; CREATE TABLE sales.scratch (x int); RESET ROLE")
	}
	return f
}

// leftOf is what the server still has of a role, as the superuser: its
// shared dependencies and whether it exists.
func leftOf(t *testing.T, role string) (deps int, exists bool) {
	t.Helper()
	pgtest.SuperQueryRow(t, "postgres", `SELECT (SELECT count(*) FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid WHERE r.rolname = $1),
		EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, []any{role}, &deps, &exists)
	return deps, exists
}

func tableOwner(t *testing.T, db, table string) string {
	t.Helper()
	var owner string
	pgtest.SuperQueryRow(t, db, "SELECT relowner::regrole::text FROM pg_class WHERE oid = $1::regclass", []any{table}, &owner)
	return owner
}

func TestDropPrincipalRevokesEverywhere(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	f := newDropFixture(t, c, false)
	memberships := loginMemberships(t, f.owner)
	if deps, _ := leftOf(t, f.principal); deps < 6 {
		t.Fatalf("premise: the principal holds %d privileges, want at least 6", deps)
	}
	if err := c.DropPrincipal(context.Background(), f.principal, ""); err != nil {
		t.Fatal(err)
	}
	if deps, exists := leftOf(t, f.principal); deps != 0 || exists {
		t.Fatalf("left: %d dependencies, role exists %v", deps, exists)
	}
	owner := pgx.Identifier{f.owner}.Sanitize()
	for _, db := range []string{f.db1, f.db2} {
		if got := tableOwner(t, db, "sales.orders"); got != owner {
			t.Errorf("%s: sales.orders owned by %s", db, got)
		}
	}
	// The login's temporary memberships are gone too.
	if got := loginMemberships(t, f.owner); got != memberships {
		t.Fatalf("the login's memberships of %q were %s, are %s", f.owner, memberships, got)
	}
}

// loginMemberships is the Entra admin's memberships of role, as the superuser.
func loginMemberships(t *testing.T, role string) string {
	t.Helper()
	var s string
	pgtest.SuperQueryRow(t, "postgres", `SELECT coalesce(string_agg(format('%s %s', grantor::regrole, to_jsonb(m) - 'oid' - 'roleid' - 'member' - 'grantor'), '; '
		ORDER BY grantor), '') FROM pg_auth_members m WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
		AND member = (SELECT oid FROM pg_roles WHERE rolname = $2)`, []any{role, pgtest.Emulator(t).AdminName()}, &s)
	return s
}

func TestDropPrincipalOwningFailsAndChangesNothing(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	f := newDropFixture(t, c, true)
	before, _ := leftOf(t, f.principal)
	err := c.DropPrincipal(context.Background(), f.principal, "")
	if !errors.Is(err, pgaad.ErrOwnsObjects) {
		t.Fatalf("got %v", err)
	}
	for _, s := range []string{`schema pat's "work"`, `table "pat's ""work""".t`, "table sales.scratch", fmt.Sprintf("(database %q)", f.db2), "Nothing was changed"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not say %q:\n%v", s, err)
		}
	}
	if strings.Contains(err.Error(), f.db1) {
		t.Errorf("the error names %s, where the principal owns nothing:\n%v", f.db1, err)
	}
	if after, exists := leftOf(t, f.principal); after != before || !exists {
		t.Fatalf("changed: %d dependencies before, %d after, exists %v", before, after, exists)
	}
}

func TestDropPrincipalReassignsAcrossDatabases(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	f := newDropFixture(t, c, true)
	// The principal also owns things in the first database.
	pgtest.SuperExec(t, f.db1, "GRANT CREATE ON SCHEMA sales TO "+pgx.Identifier{f.principal}.Sanitize()+"; SET ROLE "+
		pgx.Identifier{f.principal}.Sanitize()+"; CREATE TABLE sales.mine (x int); RESET ROLE")
	if err := c.DropPrincipal(context.Background(), f.principal, f.owner); err != nil {
		t.Fatal(err)
	}
	if deps, exists := leftOf(t, f.principal); deps != 0 || exists {
		t.Fatalf("left: %d dependencies, role exists %v", deps, exists)
	}
	owner := pgx.Identifier{f.owner}.Sanitize()
	for db, tables := range map[string][]string{f.db1: {"sales.mine", "sales.orders"}, f.db2: {`"pat's ""work""".t`, "sales.scratch"}} {
		for _, table := range tables {
			if got := tableOwner(t, db, table); got != owner {
				t.Errorf("%s: %s owned by %s, want %s", db, table, got, owner)
			}
		}
	}
}

func TestDropPrincipalReassignToMissingRole(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	f := newDropFixture(t, c, true)
	before, _ := leftOf(t, f.principal)
	err := c.DropPrincipal(context.Background(), f.principal, "no such role é")
	if !errors.Is(err, pgaad.ErrNotFound) || !strings.Contains(err.Error(), `"no such role é"`) {
		t.Fatalf("got %v", err)
	}
	if after, exists := leftOf(t, f.principal); after != before || !exists {
		t.Fatalf("changed: %d dependencies before, %d after, exists %v", before, after, exists)
	}
}
