package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// schemaFixture is a database the Entra admin created (so it owns it and
// has CREATE on it), a role it is a member of (owner) and one it is not
// (stranger, made by the superuser). Every name is hostile and 63 bytes.
type schemaFixture struct {
	db, owner, stranger string
}

func newSchemaFixture(t *testing.T) schemaFixture {
	t.Helper()
	ctx := context.Background()
	f := schemaFixture{
		db:       pgtest.LongName(`schema/db "x"; é @`, 63),
		owner:    pgtest.LongName(`a-owner "o"; ñ @`, 63),
		stranger: pgtest.LongName(`z-stranger 'o'; ü`, 63),
	}
	admin := pgtest.AdminConn(t, "postgres")
	for _, sql := range []string{
		"CREATE DATABASE " + q(f.db),
		"CREATE ROLE " + q(f.owner),
		"GRANT " + q(f.owner) + " TO CURRENT_USER",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	pgtest.SuperExec(t, "postgres", "CREATE ROLE "+q(f.stranger))
	return f
}

// schemaOwner is the schema's owner as the superuser reads it ("" when
// there is no such schema).
func schemaOwner(t *testing.T, db, schema string) string {
	t.Helper()
	var owner string
	pgtest.SuperQueryRow(t, db, `SELECT coalesce((SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1), '')`,
		[]any{schema}, &owner)
	return owner
}

func errorSays(t *testing.T, err error, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not say %q:\n%v", s, err)
		}
	}
}

// TestSchemaCreateReadOwnerDrop: a schema with hostile 63-byte names made
// by the admin (its own, then owned by a role it is a member of), read,
// refused when it exists, given another owner in place, dropped; reads of
// what is not there say so.
func TestSchemaCreateReadOwnerDrop(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	e := pgtest.Emulator(t)
	f := newSchemaFixture(t)
	mine := pgtest.LongName(`mine "s"; 表 @`, 63)
	theirs := pgtest.LongName(`sales/"s"; 'q' ö`, 63)

	s, err := c.CreateSchema(ctx, f.db, mine, "")
	if want := (pgaad.Schema{Database: f.db, Name: mine, Owner: e.AdminName()}); err != nil || s != want {
		t.Fatalf("created %+v, %v; want %+v", s, err, want)
	}
	s, err = c.CreateSchema(ctx, f.db, theirs, f.owner)
	if want := (pgaad.Schema{Database: f.db, Name: theirs, Owner: f.owner}); err != nil || s != want {
		t.Fatalf("created %+v, %v; want %+v", s, err, want)
	}
	if got := schemaOwner(t, f.db, theirs); got != q(f.owner) {
		t.Fatalf("the server says %s owns it", got)
	}
	if got, err := c.Schema(ctx, f.db, theirs); err != nil || got != s {
		t.Fatalf("read %+v, %v", got, err)
	}

	_, err = c.CreateSchema(ctx, f.db, theirs, "")
	if !errors.Is(err, pgaad.ErrAlreadyExists) {
		t.Fatalf("creating it again: %v", err)
	}
	errorSays(t, err, fmt.Sprintf("creating schema %q in database %q", theirs, f.db), "already has a schema")

	// In place, both ways; the same owner again changes nothing.
	for _, owner := range []string{e.AdminName(), f.owner, f.owner} {
		s, err = c.SetSchemaOwner(ctx, f.db, theirs, owner)
		if err != nil || s.Owner != owner {
			t.Fatalf("owner %q: %+v, %v", owner, s, err)
		}
		if got := schemaOwner(t, f.db, theirs); got != q(owner) {
			t.Fatalf("the server says %s owns it, want %q", got, owner)
		}
	}

	_, err = c.CreateSchema(ctx, f.db, pgtest.Name("nobody's"), "no such role")
	if !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("unknown owner: %v", err)
	}
	var pe *pgaad.Error
	if !errors.As(err, &pe) || pe.Object.Type != pgaad.ObjectRole || pe.Fact.Topic != pgaad.TopicRoleMissing || pe.Fact.Role != "no such role" {
		t.Fatalf("unknown owner: %#v", pe)
	}
	if _, err := c.SetSchemaOwner(ctx, f.db, theirs, "no such role"); !errors.Is(err, pgaad.ErrNotFound) || schemaOwner(t, f.db, theirs) != q(f.owner) {
		t.Fatalf("unknown new owner: %v", err)
	}

	for _, name := range []string{mine, theirs} {
		if err := c.DropSchema(ctx, f.db, name, false); err != nil {
			t.Fatalf("dropping %q: %v", name, err)
		}
		if got := schemaOwner(t, f.db, name); got != "" {
			t.Fatalf("%q is still there, owned by %s", name, got)
		}
	}
	// Gone: reads say so, a drop again is no error.
	if _, err := c.Schema(ctx, f.db, mine); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("read after drop: %v", err)
	}
	if _, err := c.SetSchemaOwner(ctx, f.db, mine, f.owner); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("owner of a dropped schema: %v", err)
	}
	if err := c.DropSchema(ctx, f.db, mine, false); err != nil {
		t.Fatalf("dropping again: %v", err)
	}
	nodb := pgtest.Name("no db")
	if _, err := c.Schema(ctx, nodb, mine); !errors.Is(err, pgaad.ErrDatabaseMissing) {
		t.Fatalf("read in a missing database: %v", err)
	}
	if err := c.DropSchema(ctx, nodb, mine, true); err != nil {
		t.Fatalf("drop in a missing database: %v", err)
	}
}

// TestSchemaCannotActAsOwner: Azure's Entra admin is not a superuser. For a
// role it is not a member of, creating a schema for it, giving a schema to
// it, and changing or dropping a schema it owns all fail naming the role
// and the GRANT that allows them, and change nothing; the GRANT, run by
// the admin itself, does. Likewise for CREATE on a database the password
// admin owns. On PostgreSQL 16+ a role the admin created is no exception:
// its creator's grant has neither INHERIT nor SET (unless
// createrole_self_grant gives them, a GUESS about Azure tried both ways).
func TestSchemaCannotActAsOwner(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	e := pgtest.Emulator(t)
	f := newSchemaFixture(t)
	admin := q(e.AdminName())
	s := pgtest.LongName(`s "x"; ß @`, 63)
	created := pgtest.Name(`created "c"`)
	if _, err := pgtest.AdminConn(t, "postgres").Exec(ctx, "CREATE ROLE "+q(created)); err != nil {
		t.Fatal(err)
	}
	blocked := []string{f.stranger, created}
	if e.PGMajor() >= 16 {
		var selfGrant string
		pgtest.SuperQueryRow(t, "postgres", "SHOW createrole_self_grant", nil, &selfGrant)
		if strings.Contains(selfGrant, "set") {
			blocked = blocked[:1] // the creator is a member with SET of what it creates
		}
	}
	for _, owner := range blocked {
		_, err := c.CreateSchema(ctx, f.db, s, owner)
		if !errors.Is(err, pgaad.ErrCannotActAsOwner) {
			t.Fatalf("for %q: %v", owner, err)
		}
		errorSays(t, err, "is not a superuser", "Nothing was changed", fmt.Sprintf("the new owner %q", owner),
			"GRANT "+q(owner)+" TO "+admin+";", "SQLSTATE 42501")
		if got := schemaOwner(t, f.db, s); got != "" {
			t.Fatalf("the failed create left a schema owned by %s", got)
		}
	}

	// The admin's own schema cannot be given to the stranger either.
	if _, err := c.CreateSchema(ctx, f.db, s, f.owner); err != nil {
		t.Fatal(err)
	}
	_, err := c.SetSchemaOwner(ctx, f.db, s, f.stranger)
	if !errors.Is(err, pgaad.ErrCannotActAsOwner) || schemaOwner(t, f.db, s) != q(f.owner) {
		t.Fatalf("got %v; owner %s", err, schemaOwner(t, f.db, s))
	}
	errorSays(t, err, fmt.Sprintf("the new owner %q", f.stranger), "GRANT "+q(f.stranger)+" TO "+admin+";")
	if strings.Contains(err.Error(), "GRANT "+q(f.owner)) {
		t.Errorf("the error proposes a GRANT of the owner the admin can act as:\n%v", err)
	}

	// A schema the stranger owns (made by the superuser) can be neither
	// given away nor dropped, with or without CASCADE.
	theirs := pgtest.LongName(`theirs "t"; ø`, 63)
	pgtest.SuperExec(t, f.db, "CREATE SCHEMA "+q(theirs)+" AUTHORIZATION "+q(f.stranger))
	_, err = c.SetSchemaOwner(ctx, f.db, theirs, f.owner)
	if !errors.Is(err, pgaad.ErrCannotActAsOwner) {
		t.Fatal(err)
	}
	errorSays(t, err, fmt.Sprintf("its owner %q", f.stranger), "owner's privileges", "GRANT "+q(f.stranger)+" TO "+admin+";")
	for _, cascade := range []bool{false, true} {
		err = c.DropSchema(ctx, f.db, theirs, cascade)
		if !errors.Is(err, pgaad.ErrCannotActAsOwner) {
			t.Fatalf("cascade %t: %v", cascade, err)
		}
		errorSays(t, err, "drop the schema", fmt.Sprintf("its owner %q", f.stranger), "GRANT "+q(f.stranger)+" TO "+admin+";")
	}
	if got := schemaOwner(t, f.db, theirs); got != q(f.stranger) {
		t.Fatalf("after the failures the schema is owned by %q", got)
	}

	// What the error says to run, the admin can run itself; then all works.
	for _, r := range blocked {
		if _, err := pgtest.AdminConn(t, "postgres").Exec(ctx, "GRANT "+q(r)+" TO "+admin); err != nil {
			t.Fatalf("the advised GRANT of %q: %v", r, err)
		}
	}
	if _, err := c.SetSchemaOwner(ctx, f.db, theirs, f.owner); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetSchemaOwner(ctx, f.db, s, f.stranger); err != nil {
		t.Fatal(err)
	}
	if got, err := c.CreateSchema(ctx, f.db, pgtest.Name("for created"), created); err != nil || got.Owner != created {
		t.Fatalf("created %+v, %v", got, err)
	}
	if err := c.DropSchema(ctx, f.db, s, false); err != nil {
		t.Fatal(err)
	}

	// A database the password admin owns: no CREATE for the Entra admin.
	other := pgtest.Name(`pw db "d"`)
	if err := e.CreateDatabase(ctx, other); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateSchema(ctx, other, s, "")
	if !errors.Is(err, pgaad.ErrPermissionDenied) || errors.Is(err, pgaad.ErrCannotActAsOwner) {
		t.Fatalf("got %v", err)
	}
	errorSays(t, err, fmt.Sprintf("may not create schemas in database %q", other), "Nothing was changed", "lacks the CREATE privilege",
		"GRANT CREATE ON DATABASE "+q(other)+" TO "+admin+";")
	if strings.Contains(err.Error(), "acting as the owner") {
		t.Errorf("the error speaks of an owner, although none was asked for:\n%v", err)
	}
}

// TestSchemaSetOnlyMembership (PostgreSQL 16+): with a membership that
// has SET but not INHERIT (what the admin holds in the roles azurepg_role
// creates), the admin gives the owner's schema another owner, taking the
// owner's privileges for that transaction only: afterwards its membership
// is as it was. It drops such a schema by acting as the owner (SET ROLE),
// as grants do.
func TestSchemaSetOnlyMembership(t *testing.T) {
	t.Parallel()
	if pgtest.Emulator(t).PGMajor() < 16 {
		t.Skip("PostgreSQL 15 memberships have no INHERIT or SET option")
	}
	c := adminClient(t)
	ctx := context.Background()
	e := pgtest.Emulator(t)
	f := newSchemaFixture(t)
	s := pgtest.Name(`set-only "s"`)
	moved := pgtest.LongName(`set-only moved "s"; ü`, 63)
	pgtest.SuperExec(t, f.db, "CREATE SCHEMA "+q(s)+" AUTHORIZATION "+q(f.stranger))
	pgtest.SuperExec(t, "postgres", "GRANT "+q(f.stranger)+" TO "+q(e.AdminName())+" WITH INHERIT FALSE, SET TRUE")

	// A role the admin made as azurepg_role makes it (SET, not INHERIT,
	// unless createrole_self_grant gives INHERIT too) owns a schema, which
	// is given to another role and back.
	made := pgtest.LongName(`set-only made "r"; ü @`, 63)
	if _, err := c.CreateRole(ctx, pgaad.RoleChange{Role: pgaad.Role{Name: made, Inherit: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSchema(ctx, f.db, moved, made); err != nil {
		t.Fatal(err)
	}
	before := loginMemberships(t, made)
	for _, owner := range []string{f.owner, made, f.owner} {
		if got, err := c.SetSchemaOwner(ctx, f.db, moved, owner); err != nil || got.Owner != owner {
			t.Fatalf("owner change to %q: %+v, %v", owner, got, err)
		}
		if got := schemaOwner(t, f.db, moved); got != q(owner) {
			t.Fatalf("the server says the owner is %s, want %q", got, owner)
		}
		if after := loginMemberships(t, made); after != before {
			t.Fatalf("the admin's memberships in the role changed:\nbefore %s\nafter  %s", before, after)
		}
	}
	if err := c.DropSchema(ctx, f.db, s, false); err != nil {
		t.Fatal(err)
	}
	if got := schemaOwner(t, f.db, s); got != "" {
		t.Fatalf("still there, owned by %s", got)
	}
}

// TestSchemaDropNotEmpty: without CASCADE a schema that holds objects is
// refused, naming each object by type and schema-qualified name (the first
// 20 and how many more), and the schema and its tables stay; extension
// members are stood for by their extension. With CASCADE it goes, tables
// and all.
func TestSchemaDropNotEmpty(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	f := newSchemaFixture(t)
	s := pgtest.LongName(`full "s"; ö @`, 63)
	table := pgtest.LongName(`orders "t"; 表`, 63)
	if _, err := c.CreateSchema(ctx, f.db, s, f.owner); err != nil {
		t.Fatal(err)
	}
	pgtest.SuperExec(t, f.db, fmt.Sprintf("SET ROLE %s; CREATE TABLE %s.%s (id serial PRIMARY KEY); CREATE VIEW %s.v AS SELECT 1 AS one",
		q(f.owner), q(s), q(table), q(s)))

	err := c.DropSchema(ctx, f.db, s, false)
	if !errors.Is(err, pgaad.ErrDependentObjects) {
		t.Fatalf("got %v", err)
	}
	var pe *pgaad.Error
	if !errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicSchemaNotEmpty {
		t.Fatalf("fact: %#v", pe)
	}
	// pg_identify_object quotes as PostgreSQL does; these names always need quotes.
	errorSays(t, err, fmt.Sprintf("dropping schema %q in database %q", s, f.db), "holds 3 objects:",
		"\n  sequence "+q(s)+".", // the serial's, named after the table (cut to fit)
		"\n  table "+q(s)+"."+q(table), "\n  view "+q(s)+".v", "Nothing was changed")
	var tables int
	pgtest.SuperQueryRow(t, f.db, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", []any{s}, &tables)
	if tables != 1 || schemaOwner(t, f.db, s) != q(f.owner) {
		t.Fatalf("after the refusal: %d tables, owner %q", tables, schemaOwner(t, f.db, s))
	}

	// Many objects: the first 20, and how many more.
	var many strings.Builder
	for i := range 23 {
		fmt.Fprintf(&many, "CREATE TABLE %s.%s (id int);", q(s), q(fmt.Sprintf("t%02d", i)))
	}
	pgtest.SuperExec(t, f.db, "SET ROLE "+q(f.owner)+"; "+many.String())
	err = c.DropSchema(ctx, f.db, s, false)
	errorSays(t, err, "holds 26 objects (the first 20 by type and name):", "table "+q(s)+".t00", "\n  and 6 more")

	if err := c.DropSchema(ctx, f.db, s, true); err != nil {
		t.Fatal(err)
	}
	pgtest.SuperQueryRow(t, f.db, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", []any{s}, &tables)
	if tables != 0 || schemaOwner(t, f.db, s) != "" {
		t.Fatalf("after CASCADE: %d tables, owner %q", tables, schemaOwner(t, f.db, s))
	}
}
