package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

func q(s string) string { return pgx.Identifier{s}.Sanitize() }

// accessFixture is a database as an Entra admin would have it on Azure:
// created by the admin, a schema and tables owned by a role the admin is a
// member of, and a table owned by a role it is not a member of.
type accessFixture struct {
	db, schema, owner, stranger, grantee string
	mine, theirs                         string // tables
}

func newAccessFixture(t *testing.T) accessFixture {
	t.Helper()
	ctx := context.Background()
	f := accessFixture{
		db:       pgtest.Name(`grant/db "x"; é @`),
		schema:   pgtest.Name(`sales "s"; ü`),
		owner:    pgtest.Name(`a-owner "o"; @`),
		stranger: pgtest.Name(`z-stranger 'o'`),
		grantee:  pgtest.Name(`app@contoso.com "g"; ß`),
		mine:     pgtest.Name(`orders "t"; 表`),
		theirs:   pgtest.Name(`secrets; "t"`),
	}
	admin := pgtest.AdminConn(t, "postgres")
	for _, sql := range []string{
		"CREATE DATABASE " + q(f.db),
		"CREATE ROLE " + q(f.owner),
		"CREATE ROLE " + q(f.grantee),
		"GRANT " + q(f.owner) + " TO CURRENT_USER",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	pgtest.SuperExec(t, "postgres", "CREATE ROLE "+q(f.stranger))
	pgtest.SuperExec(t, f.db, "CREATE SCHEMA "+q(f.schema)+" AUTHORIZATION "+q(f.owner))
	pgtest.SuperExec(t, f.db, "GRANT CREATE, USAGE ON SCHEMA "+q(f.schema)+" TO "+q(f.stranger))
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(f.owner)+"; CREATE TABLE "+q(f.schema)+"."+q(f.mine)+" (id int)")
	return f
}

func tablePrivileges(t *testing.T, db, schema, table, role string) []string {
	t.Helper()
	var privs []string
	pgtest.SuperQueryRow(t, db, `SELECT coalesce(array_agg(x.privilege_type ORDER BY x.privilege_type), '{}')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) x
		WHERE n.nspname = $1 AND c.relname = $2 AND x.grantee = (SELECT oid FROM pg_roles WHERE rolname = $3)`,
		[]any{schema, table, role}, &privs)
	return privs
}

// tableGrantors are the roles that granted role its privileges on the table.
func tableGrantors(t *testing.T, db, schema, table, role string) []string {
	t.Helper()
	var grantors []string
	pgtest.SuperQueryRow(t, db, `SELECT coalesce(array_agg(DISTINCT g.rolname::text ORDER BY g.rolname::text), '{}')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) x JOIN pg_roles g ON g.oid = x.grantor
		WHERE n.nspname = $1 AND c.relname = $2 AND x.grantee = (SELECT oid FROM pg_roles WHERE rolname = $3)`,
		[]any{schema, table, role}, &grantors)
	return grantors
}

func TestGrantAsOwnerAndRollback(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	f := newAccessFixture(t)
	target := pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: "table", Schema: f.schema}
	g, err := c.ApplyGrant(ctx, target, []string{"INSERT", "SELECT"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Privileges, []string{"INSERT", "SELECT"}) || g.Count != 1 {
		t.Fatalf("got %+v", g)
	}
	if got := tablePrivileges(t, f.db, f.schema, f.mine, f.grantee); !slices.Equal(got, []string{"INSERT", "SELECT"}) {
		t.Fatalf("server has %v", got)
	}

	// A table the admin cannot act for: the whole grant fails, the first
	// owner's table keeps what it had.
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(f.stranger)+"; CREATE TABLE "+q(f.schema)+"."+q(f.theirs)+" (id int)")
	_, err = c.ApplyGrant(ctx, target, []string{"DELETE", "SELECT"}, false)
	if !errors.Is(err, pgaad.ErrCannotActAsOwner) {
		t.Fatalf("got %v", err)
	}
	for _, s := range []string{f.stranger, "GRANT " + q(f.stranger) + " TO", "Nothing was changed", "permission denied",
		"it may grant privileges on them only by acting as the owner"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
	if got := tablePrivileges(t, f.db, f.schema, f.mine, f.grantee); !slices.Equal(got, []string{"INSERT", "SELECT"}) {
		t.Fatalf("after the failure the server has %v", got)
	}
	g, err = c.ReadGrant(ctx, target)
	if err != nil || len(g.Privileges) != 0 || g.Count != 2 {
		t.Fatalf("read %+v, %v", g, err)
	}

	// Default privileges for the owner reach a table it creates later.
	dt := pgaad.DefaultPrivilegesTarget{Role: f.grantee, Database: f.db, Owner: f.owner, Schema: f.schema, ObjectType: "table"}
	d, err := c.ApplyDefaultPrivileges(ctx, dt, []string{"SELECT", "UPDATE"}, false)
	if err != nil || !slices.Equal(d.Privileges, []string{"SELECT", "UPDATE"}) {
		t.Fatalf("default privileges %+v, %v", d, err)
	}
	later := pgtest.Name("later")
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(f.owner)+"; CREATE TABLE "+q(f.schema)+"."+q(later)+" (id int)")
	if got := tablePrivileges(t, f.db, f.schema, later, f.grantee); !slices.Equal(got, []string{"SELECT", "UPDATE"}) {
		t.Fatalf("the later table has %v", got)
	}
	_, err = c.ApplyDefaultPrivileges(ctx, pgaad.DefaultPrivilegesTarget{Role: f.grantee, Database: f.db, Owner: f.stranger, ObjectType: "table"}, []string{"SELECT"}, false)
	if !errors.Is(err, pgaad.ErrCannotActAsOwner) || !strings.Contains(err.Error(), "GRANT "+q(f.stranger)+" TO") {
		t.Fatalf("got %v", err)
	}
	if err := c.RevokeDefaultPrivileges(ctx, dt); err != nil {
		t.Fatal(err)
	}
	if d, err := c.ReadDefaultPrivileges(ctx, dt); err != nil || len(d.Privileges) != 0 {
		t.Fatalf("after revoke %+v, %v", d, err)
	}

	// PUBLIC: database CONNECT by default; revoking the role's never touches it.
	dbt := pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: "database"}
	if _, err := c.ApplyGrant(ctx, dbt, []string{"CONNECT"}, true); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeGrant(ctx, dbt); err != nil {
		t.Fatal(err)
	}
	pub, err := c.ReadGrant(ctx, pgaad.GrantTarget{Role: "public", Database: f.db, ObjectType: "database"})
	if err != nil || !slices.Equal(pub.Privileges, []string{"CONNECT", "TEMPORARY"}) {
		t.Fatalf("PUBLIC has %+v, %v", pub, err)
	}
}

// TestGrantRevokesWhatIsHeld: the REVOKEs a grant leaves out when the read
// before shows they would take nothing (a first grant on one table is the
// GRANT alone) still run when there is something to take: a privilege not
// wanted and a grant option not wanted, on the one table of a grant or on
// one of several.
func TestGrantRevokesWhatIsHeld(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	f := newAccessFixture(t)
	table := q(f.schema) + "." + q(f.mine)
	one := pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: "table", Schema: f.schema, Objects: []string{f.mine}}
	held := func(want ...string) {
		t.Helper()
		var got []string
		pgtest.SuperQueryRow(t, f.db, `SELECT coalesce(array_agg(x.privilege_type || CASE WHEN x.is_grantable THEN '+' ELSE '' END
			ORDER BY x.privilege_type), '{}')
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) x
			WHERE n.nspname = $1 AND c.relname = $2 AND x.grantee = (SELECT oid FROM pg_roles WHERE rolname = $3)`,
			[]any{f.schema, f.mine, f.grantee}, &got)
		if !slices.Equal(got, want) {
			t.Fatalf("the grantee holds %v on the table, want %v", got, want)
		}
	}
	if _, err := c.ApplyGrant(ctx, one, []string{"SELECT"}, false); err != nil {
		t.Fatal(err)
	}
	held("SELECT")
	// By hand, as the owner: an unwanted privilege, and the grant option.
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(f.owner)+"; GRANT DELETE, SELECT ON "+table+" TO "+q(f.grantee)+" WITH GRANT OPTION")
	held("DELETE+", "SELECT+")
	if _, err := c.ApplyGrant(ctx, one, []string{"INSERT", "SELECT"}, false); err != nil {
		t.Fatal(err)
	}
	held("INSERT", "SELECT")
	// The grant option, and a privilege not wanted, on one table of several
	// (the read before shows only what every table has).
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(f.owner)+"; GRANT DELETE, SELECT ON "+table+" TO "+q(f.grantee)+" WITH GRANT OPTION")
	all := pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: "table", Schema: f.schema}
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(f.owner)+"; CREATE TABLE "+q(f.schema)+"."+q(pgtest.Name("second"))+" (id int)")
	g, err := c.ApplyGrant(ctx, all, []string{"INSERT", "SELECT"}, false)
	if err != nil || g.Count != 2 || g.GrantOptionAny || !slices.Equal(g.Privileges, []string{"INSERT", "SELECT"}) {
		t.Fatalf("got %+v, %v", g, err)
	}
	held("INSERT", "SELECT")
}

// TestGrantOtherGrantors: what the owner's REVOKE cannot take back. A role
// that holds the grant option granted the grantee SELECT too: changing the
// grant to INSERT, or revoking it, fails with an error that names that
// grantor, and nothing changes (no state that differs from the plan). The
// grantee, holding the grant option, passed SELECT on: taking the grant
// option fails (2BP01) naming who got it, and the provider never cascades.
func TestGrantOtherGrantors(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	f := newAccessFixture(t)
	middle, other := pgtest.Name(`middle "m"; ñ`), pgtest.Name(`other 'o' @`)
	pgtest.SuperExec(t, "postgres", "CREATE ROLE "+q(middle)+"; CREATE ROLE "+q(other))
	table := q(f.schema) + "." + q(f.mine)
	pgtest.SuperExec(t, f.db, "GRANT USAGE ON SCHEMA "+q(f.schema)+" TO "+q(middle)+", "+q(f.grantee)+"; "+
		"SET ROLE "+q(f.owner)+"; GRANT SELECT ON "+table+" TO "+q(middle)+" WITH GRANT OPTION; "+
		"SET ROLE "+q(middle)+"; GRANT SELECT ON "+table+" TO "+q(f.grantee))
	target := pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: "table", Schema: f.schema, Objects: []string{f.mine}}

	g, err := c.ReadGrant(ctx, target)
	if err != nil || !g.OtherGrantors || !slices.Equal(g.Privileges, []string{"SELECT"}) {
		t.Fatalf("read %+v, %v", g, err)
	}
	for name, apply := range map[string]func() error{
		"update": func() error { _, err := c.ApplyGrant(ctx, target, []string{"INSERT"}, false); return err },
		"revoke": func() error { return c.RevokeGrant(ctx, target) },
	} {
		err := apply()
		if !errors.Is(err, pgaad.ErrPermissionDenied) {
			t.Fatalf("%s: got %v", name, err)
		}
		for _, s := range []string{"still holds SELECT", q(middle) + ": SELECT on table " + q(f.mine), "REVOKE <privileges> ON <object> FROM " + q(f.grantee), "Nothing was changed"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error does not say %q:\n%v", name, s, err)
			}
		}
		if got := tablePrivileges(t, f.db, f.schema, f.mine, f.grantee); !slices.Equal(got, []string{"SELECT"}) {
			t.Fatalf("%s: after the failure the server has %v", name, got)
		}
	}

	// Without the other grantor's grant: with grant option, passed on.
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(middle)+"; REVOKE SELECT ON "+table+" FROM "+q(f.grantee))
	if _, err := c.ApplyGrant(ctx, target, []string{"SELECT"}, true); err != nil {
		t.Fatal(err)
	}
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(f.grantee)+"; GRANT SELECT ON "+table+" TO "+q(other))
	// Adding a privilege keeps what was passed on: SELECT and its grant
	// option are not revoked and granted again.
	if _, err := c.ApplyGrant(ctx, target, []string{"INSERT", "SELECT"}, true); err != nil {
		t.Fatalf("adding INSERT while SELECT's grant option was passed on: %v", err)
	}
	if got := tablePrivileges(t, f.db, f.schema, f.mine, f.grantee); !slices.Equal(got, []string{"INSERT", "SELECT"}) {
		t.Fatalf("after adding INSERT the server has %v", got)
	}
	_, err = c.ApplyGrant(ctx, target, []string{"SELECT"}, false)
	if !errors.Is(err, pgaad.ErrDependentObjects) {
		t.Fatalf("taking the grant option: got %v", err)
	}
	for _, s := range []string{"2BP01", q(other) + ": SELECT on table " + q(f.mine), "never revokes with CASCADE", "Nothing was changed"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not say %q:\n%v", s, err)
		}
	}
	if got := tablePrivileges(t, f.db, f.schema, f.mine, other); !slices.Equal(got, []string{"SELECT"}) {
		t.Fatalf("the role it was passed on to has %v", got)
	}
	g, err = c.ReadGrant(ctx, target)
	if err != nil || !g.GrantOptionAll || g.OtherGrantors {
		t.Fatalf("after the failure: %+v, %v", g, err)
	}
}

// TestGrantEmptySchema: "all tables" of a schema that has none grants and
// revokes nothing, and says so (no object, no privilege), without error.
func TestGrantEmptySchema(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	f := newAccessFixture(t)
	for _, kind := range []string{"sequence", "function"} {
		target := pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: kind, Schema: f.schema}
		g, err := c.ApplyGrant(ctx, target, []string{pgaad.AllPrivileges}, true)
		if err != nil || g.Count != 0 || len(g.Privileges) != 0 || len(g.Objects) != 0 {
			t.Fatalf("%s: %+v, %v", kind, g, err)
		}
		if err := c.RevokeGrant(ctx, target); err != nil {
			t.Fatalf("%s: revoke: %v", kind, err)
		}
	}
}

// TestGrantMissingObject: a listed table that does not exist fails the
// grant with ErrNotFound and the objects-missing fact, naming the table, and
// changes nothing on the table that exists.
func TestGrantMissingObject(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	f := newAccessFixture(t)
	missing := pgtest.Name(`no "such"; table`)
	target := pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: "table", Schema: f.schema, Objects: []string{f.mine, missing}}
	_, err := c.ApplyGrant(ctx, target, []string{"SELECT"}, false)
	if !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	if f := factOf(t, err); f.Topic != pgaad.TopicObjectsMissing {
		t.Errorf("fact %+v, want %q", f, pgaad.TopicObjectsMissing)
	}
	for _, s := range []string{"no table named", fmt.Sprintf("%q", missing), "Create the objects first, or leave them out of the grant", "Nothing was changed"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
	noTerraformWords(t, err)
	if got := tablePrivileges(t, f.db, f.schema, f.mine, f.grantee); len(got) != 0 {
		t.Errorf("the existing table got %v", got)
	}
}

// TestGrantOtherGrantorOnSomeObjects: another grantor's privilege on one of
// the objects, not all (so not in what "every object" reads), still fails a
// change or a revoke that would have to take it, naming the grantor; nothing
// changes.
func TestGrantOtherGrantorOnSomeObjects(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	f := newAccessFixture(t)
	middle, second := pgtest.Name(`middle "m"`), pgtest.Name(`second "t"`)
	pgtest.SuperExec(t, "postgres", "CREATE ROLE "+q(middle))
	mine := q(f.schema) + "." + q(f.mine)
	pgtest.SuperExec(t, f.db, "GRANT USAGE ON SCHEMA "+q(f.schema)+" TO "+q(middle)+"; "+
		"SET ROLE "+q(f.owner)+"; CREATE TABLE "+q(f.schema)+"."+q(second)+" (id int); "+
		"GRANT UPDATE ON "+mine+" TO "+q(middle)+" WITH GRANT OPTION; "+
		"SET ROLE "+q(middle)+"; GRANT UPDATE ON "+mine+" TO "+q(f.grantee))
	target := pgaad.GrantTarget{Role: f.grantee, Database: f.db, ObjectType: "table", Schema: f.schema}
	g, err := c.ReadGrant(ctx, target)
	if err != nil || len(g.Privileges) != 0 || !g.OtherGrantors {
		t.Fatalf("read %+v, %v", g, err)
	}
	for name, apply := range map[string]func() error{
		"grant":  func() error { _, err := c.ApplyGrant(ctx, target, []string{"SELECT"}, false); return err },
		"revoke": func() error { return c.RevokeGrant(ctx, target) },
	} {
		err := apply()
		if !errors.Is(err, pgaad.ErrPermissionDenied) {
			t.Fatalf("%s: got %v", name, err)
		}
		for _, s := range []string{"still holds UPDATE", q(middle) + ": UPDATE on table " + q(f.mine), "Nothing was changed"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error does not say %q:\n%v", name, s, err)
			}
		}
		if got := tablePrivileges(t, f.db, f.schema, f.mine, f.grantee); !slices.Equal(got, []string{"UPDATE"}) {
			t.Fatalf("%s: after the failure the server has %v on %s", name, got, f.mine)
		}
		if got := tablePrivileges(t, f.db, f.schema, second, f.grantee); len(got) != 0 {
			t.Fatalf("%s: after the failure the server has %v on %s", name, got, second)
		}
	}
}
