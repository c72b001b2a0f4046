package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// grantSnapshotFixture is a database whose ACLs have every shape a grant
// read must tell apart, with hostile names.
type grantSnapshotFixture struct {
	db, schema                string
	owner, a, b, middle, idle string // roles; idle holds nothing
	t1, t2, bare, empty       string // tables: bare has no grant, empty an empty ACL
	s1, s2                    string // sequences
	f, g                      string // functions: f is overloaded
}

func newGrantSnapshotFixture(t *testing.T) grantSnapshotFixture {
	t.Helper()
	f := grantSnapshotFixture{
		db:     pgtest.Name(`gsnap/db "x"; é @`),
		schema: pgtest.LongName(`sch/"s" 'q'; ü @ `, 63),
		owner:  pgtest.Name(`gsnap owner "o"; @`),
		a:      pgtest.LongName(`app@contoso.com "a"; ß 'x' `, 63),
		b:      pgtest.Name(`b 'b'; 表`),
		middle: pgtest.Name(`middle "m"; ñ`),
		idle:   pgtest.Name(`idle "i"`),
		t1:     pgtest.Name(`orders "t"; 表 @`),
		t2:     pgtest.LongName(`Lines 'l'; "x" `, 63),
		bare:   pgtest.Name(`bare; "t"`),
		empty:  pgtest.Name(`empty acl`),
		s1:     pgtest.Name(`seq "s"; é`),
		s2:     pgtest.Name(`Seq 2 @`),
		f:      pgtest.Name(`fn "f"; ø`),
		g:      pgtest.Name(`g 'g' @`),
	}
	pgtest.SuperExec(t, "postgres", "CREATE DATABASE "+q(f.db))
	for _, r := range []string{f.owner, f.a, f.b, f.middle, f.idle} {
		pgtest.SuperExec(t, "postgres", "CREATE ROLE "+q(r))
	}
	pgtest.SuperExec(t, "postgres", "GRANT "+q(f.owner)+" TO "+q(pgtest.Emulator(t).AdminName()))
	s := q(f.schema) + "."
	pgtest.SuperExec(t, f.db, "CREATE SCHEMA "+q(f.schema)+" AUTHORIZATION "+q(f.owner)+";"+
		"GRANT CONNECT ON DATABASE "+q(f.db)+" TO "+q(f.a)+";"+
		"GRANT CREATE ON DATABASE "+q(f.db)+" TO "+q(f.b)+" WITH GRANT OPTION;"+
		"SET ROLE "+q(f.owner)+";"+
		"CREATE TABLE "+s+q(f.t1)+" (id int); CREATE VIEW "+s+q(f.t2)+" AS SELECT 1 AS x;"+
		"CREATE TABLE "+s+q(f.bare)+" (id int); CREATE TABLE "+s+q(f.empty)+" (id int);"+
		"CREATE SEQUENCE "+s+q(f.s1)+"; CREATE SEQUENCE "+s+q(f.s2)+";"+
		"CREATE FUNCTION "+s+q(f.f)+"(int) RETURNS int LANGUAGE sql AS 'SELECT 1';"+
		"CREATE FUNCTION "+s+q(f.f)+"(text, int[]) RETURNS int LANGUAGE sql AS 'SELECT 2';"+
		"CREATE FUNCTION "+s+q(f.g)+"() RETURNS int LANGUAGE sql AS 'SELECT 3';"+
		"GRANT USAGE ON SCHEMA "+q(f.schema)+" TO "+q(f.a)+", "+q(f.middle)+";"+
		"GRANT CREATE ON SCHEMA "+q(f.schema)+" TO "+q(f.b)+" WITH GRANT OPTION;"+
		"GRANT SELECT, INSERT ON "+s+q(f.t1)+" TO "+q(f.a)+" WITH GRANT OPTION;"+
		"GRANT SELECT ON "+s+q(f.t2)+" TO "+q(f.a)+", "+q(f.b)+", PUBLIC;"+
		"GRANT SELECT ON "+s+q(f.t1)+" TO "+q(f.b)+";"+
		"GRANT UPDATE ON "+s+q(f.t2)+" TO "+q(f.b)+" WITH GRANT OPTION;"+
		"GRANT SELECT ON "+s+q(f.t1)+", "+s+q(f.t2)+" TO "+q(f.middle)+" WITH GRANT OPTION;"+
		"REVOKE ALL ON "+s+q(f.empty)+" FROM "+q(f.owner)+";"+
		"GRANT USAGE ON SEQUENCE "+s+q(f.s1)+" TO "+q(f.a)+" WITH GRANT OPTION;"+
		"GRANT SELECT ON SEQUENCE "+s+q(f.s1)+", "+s+q(f.s2)+" TO "+q(f.a)+";"+
		"GRANT EXECUTE ON FUNCTION "+s+q(f.f)+"(int) TO "+q(f.a)+" WITH GRANT OPTION;"+
		"GRANT EXECUTE ON FUNCTION "+s+q(f.f)+"(text, int[]) TO "+q(f.a)+";"+
		"REVOKE EXECUTE ON FUNCTION "+s+q(f.g)+"() FROM PUBLIC;"+
		// Another grantor: middle, holding the grant option, grants too.
		"SET ROLE "+q(f.middle)+";"+
		"GRANT SELECT ON "+s+q(f.t1)+" TO "+q(f.a)+";"+
		"GRANT SELECT ON "+s+q(f.t2)+" TO "+q(f.b)+" WITH GRANT OPTION")
	return f
}

// TestGrantSnapshotEquivalence: for every kind of target, the answer from
// the snapshot of (database, schema, object type) is exactly the answer of
// the single statement, error kind and text included; one fetch per key
// answers them all; a write of the client sends the next read to the
// server, and a new walk (ForgetSnapshots) sees drift made by another.
func TestGrantSnapshotEquivalence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := adminClient(t)
	f := newGrantSnapshotFixture(t)
	missingSchema := pgtest.Name(`no schema "x"`)
	missingRole := pgtest.Name(`nobody 'n'`)
	roles := []string{f.a, f.b, f.middle, pgaad.PublicRole, f.owner, f.idle, missingRole}
	listed := map[string][][]string{
		pgaad.ObjectTypeTable: {nil, {f.t1}, {f.t2, f.t1}, {f.bare}, {f.empty}, {f.t1, "missing \"m\"", f.t2},
			{"missing"}, {}, {f.bare, f.empty, f.t1, f.t2}, {f.t1, f.t1}},
		pgaad.ObjectTypeSequence: {nil, {f.s1}, {f.s2, f.s1}, {f.s2, "nope; x"}},
		pgaad.ObjectTypeFunction: {nil, {f.f}, {f.g}, {f.g, f.f}, {f.f, "nope"}, {f.f, f.g, f.f}},
	}
	var targets []pgaad.GrantTarget
	for _, role := range roles {
		targets = append(targets,
			pgaad.GrantTarget{Role: role, Database: f.db, ObjectType: pgaad.ObjectTypeDatabase},
			pgaad.GrantTarget{Role: role, Database: f.db, ObjectType: pgaad.ObjectTypeSchema, Schema: f.schema},
			pgaad.GrantTarget{Role: role, Database: f.db, ObjectType: pgaad.ObjectTypeSchema, Schema: missingSchema})
		for typ, lists := range listed {
			for _, objs := range lists {
				targets = append(targets, pgaad.GrantTarget{Role: role, Database: f.db, ObjectType: typ, Schema: f.schema, Objects: objs})
			}
			targets = append(targets, pgaad.GrantTarget{Role: role, Database: f.db, ObjectType: typ, Schema: missingSchema},
				pgaad.GrantTarget{Role: role, Database: f.db, ObjectType: typ, Schema: missingSchema, Objects: []string{f.t1}})
		}
	}
	// 1 database + 2 schemas' schema grant + 3 types x 2 schemas.
	const keys = 1 + 2 + 3*2

	// The roles in each key's ACLs (the database's owner is the superuser).
	grantees := map[string][]string{
		pgaad.ObjectTypeDatabase: {f.a, f.b},
		pgaad.ObjectTypeSchema:   {f.owner, f.a, f.b, f.middle},
		pgaad.ObjectTypeTable:    {f.owner, f.a, f.b, f.middle},
		pgaad.ObjectTypeSequence: {f.owner, f.a},
		pgaad.ObjectTypeFunction: {f.owner, f.a},
	}
	answered := map[string]int{}
	check := func(pass string) {
		for _, tg := range targets {
			want, wantErr := pgaad.ReadGrantDirect(ctx, c, tg)
			got, gotErr, ok := pgaad.GrantFromSnapshot(ctx, c, tg)
			// Only a role that holds nothing on the key's objects (or does
			// not exist) goes to the server; PUBLIC always exists.
			inSnapshot := tg.Role == pgaad.PublicRole
			if tg.Schema != missingSchema || tg.ObjectType == pgaad.ObjectTypeDatabase {
				inSnapshot = inSnapshot || slices.Contains(grantees[tg.ObjectType], tg.Role)
			}
			if ok != inSnapshot {
				t.Errorf("%s: %+v answered from the snapshot: %v, want %v", pass, tg, ok, inSnapshot)
			}
			if ok {
				answered[tg.ObjectType]++
				compareGrant(t, pass+" snapshot", tg, got, gotErr, want, wantErr)
			}
			got, gotErr = c.ReadGrant(ctx, tg)
			compareGrant(t, pass+" ReadGrant", tg, got, gotErr, want, wantErr)
		}
	}
	began := time.Now()
	check("first")
	if n := c.SnapshotFetches(); n < keys || n > fetchesWithin(keys, began) {
		t.Fatalf("%d snapshots fetched for %d targets, want %d (one per database, schema and object type)", n, len(targets), keys)
	}
	check("again")
	if n := c.SnapshotFetches(); n < keys || n > fetchesWithin(keys, began) {
		t.Fatalf("%d snapshots fetched after reading every target twice, want %d", n, keys)
	}
	for _, typ := range []string{pgaad.ObjectTypeDatabase, pgaad.ObjectTypeSchema, pgaad.ObjectTypeTable, pgaad.ObjectTypeSequence, pgaad.ObjectTypeFunction} {
		if answered[typ] == 0 {
			t.Errorf("no %s read was answered from the snapshot", typ)
		}
	}

	// The shapes the fixture is for, so that a fixture that lost them fails.
	tables := pgaad.GrantTarget{Role: f.a, Database: f.db, ObjectType: pgaad.ObjectTypeTable, Schema: f.schema, Objects: []string{f.t1, f.t2}}
	g, err := c.ReadGrant(ctx, tables)
	if err != nil || !slices.Equal(g.Privileges, []string{"SELECT"}) || g.GrantOptionAll || !g.GrantOptionAny || !g.OtherGrantors || g.Count != 2 {
		t.Fatalf("%+v: %+v, %v", tables, g, err)
	}
	fns := pgaad.GrantTarget{Role: f.a, Database: f.db, ObjectType: pgaad.ObjectTypeFunction, Schema: f.schema, Objects: []string{f.f}}
	if g, err := c.ReadGrant(ctx, fns); err != nil || g.Count != 2 || !slices.Equal(g.Objects, []string{f.f}) || !slices.Equal(g.Privileges, []string{"EXECUTE"}) {
		t.Fatalf("%+v: %+v, %v", fns, g, err)
	}
	if _, err := c.ReadGrant(ctx, pgaad.GrantTarget{Role: missingRole, Database: f.db, ObjectType: pgaad.ObjectTypeTable, Schema: f.schema}); !errors.Is(err, pgaad.ErrNotFound) {
		t.Fatalf("a missing role: %v, want ErrNotFound", err)
	}

	// A database that does not exist: no snapshot, the single read says so.
	gone := pgaad.GrantTarget{Role: f.a, Database: pgtest.Name(`gone/db "x"`), ObjectType: pgaad.ObjectTypeTable, Schema: f.schema}
	if _, err, ok := pgaad.GrantFromSnapshot(ctx, c, gone); ok {
		t.Fatalf("a missing database answered from a snapshot: %v", err)
	}
	if _, err := c.ReadGrant(ctx, gone); !errors.Is(err, pgaad.ErrDatabaseMissing) {
		t.Fatalf("a missing database: %v, want ErrDatabaseMissing", err)
	}

	// A write of this client: the next read goes to the server and sees it
	// (reads go one by one for an hour after a write, here: "right after"
	// whatever the machine's speed).
	pgaad.SetQuietAfterWrite(c, time.Hour)
	fetches := c.SnapshotFetches()
	one := pgaad.GrantTarget{Role: f.b, Database: f.db, ObjectType: pgaad.ObjectTypeTable, Schema: f.schema, Objects: []string{f.t1}}
	if _, err := c.ApplyGrant(ctx, one, []string{"DELETE", "SELECT"}, false); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := pgaad.GrantFromSnapshot(ctx, c, one); ok {
		t.Fatal("answered from a snapshot right after a write")
	}
	if g, err := c.ReadGrant(ctx, one); err != nil || !slices.Equal(g.Privileges, []string{"DELETE", "SELECT"}) {
		t.Fatalf("read after the write: %+v, %v (stale snapshot?)", g, err)
	}
	if n := c.SnapshotFetches(); n != fetches {
		t.Fatalf("%d snapshots fetched right after a write, want none", n-fetches)
	}
	// Once writes are quiet, a new snapshot answers, with the write in it.
	pgaad.SetQuietAfterWrite(c, time.Nanosecond)
	if g, err, ok := pgaad.GrantFromSnapshot(ctx, c, one); !ok || err != nil || !slices.Equal(g.Privileges, []string{"DELETE", "SELECT"}) {
		t.Fatalf("from a new snapshot: %+v, %v, %v", g, err, ok)
	}

	// Drift made by another process shows in a new walk.
	pgtest.SuperExec(t, f.db, "REVOKE DELETE ON "+q(f.schema)+"."+q(f.t1)+" FROM "+q(f.b))
	c.ForgetSnapshots()
	if g, err := c.ReadGrant(ctx, one); err != nil || !slices.Equal(g.Privileges, []string{"SELECT"}) {
		t.Fatalf("read in a new walk after drift: %+v, %v", g, err)
	}
	check("after the write")

	// A refresh: many reads of one key at once, on a new process, wait for
	// one fetch.
	fresh := adminClient(t)
	began = time.Now()
	var wg sync.WaitGroup
	lists := listed[pgaad.ObjectTypeTable]
	errs := make(chan error, 4*len(lists))
	for i := 0; i < 4*len(lists); i++ {
		tg := pgaad.GrantTarget{Role: f.a, Database: f.db, ObjectType: pgaad.ObjectTypeTable, Schema: f.schema, Objects: lists[i%len(lists)]}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, gotErr := fresh.ReadGrant(ctx, tg)
			want, wantErr := pgaad.ReadGrantDirect(ctx, c, tg)
			if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				errs <- fmt.Errorf("%+v: got %+v, %q; want %+v, %q", tg, got, fmt.Sprint(gotErr), want, fmt.Sprint(wantErr))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := fresh.SnapshotFetches(); n < 1 || n > fetchesWithin(1, began) {
		t.Errorf("%d snapshots fetched for %d concurrent reads of one key, want 1", n, 4*len(lists))
	}
}

func compareGrant(t *testing.T, how string, tg pgaad.GrantTarget, got pgaad.Grant, gotErr error, want pgaad.Grant, wantErr error) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %+v:\n got %#v\nwant %#v", how, tg, got, want)
	}
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || errors.Is(gotErr, pgaad.ErrNotFound) != errors.Is(wantErr, pgaad.ErrNotFound) {
		t.Errorf("%s: %+v: error %v, want %v", how, tg, gotErr, wantErr)
	}
}
