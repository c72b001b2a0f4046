package pgaad

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Refresh snapshot. Over a real network a read costs a round
// trip, and a plan's refresh reads every principal of the configuration
// one by one. Instead, the first principal read of a provider process
// fetches every role in one statement (the same query and columns as a
// single read: principalColumns and scanPrincipal), and the reads that follow
// are answered from that snapshot. Extensions likewise, one statement per
// database (extensionQuery). Grants likewise, one statement per
// (database, schema, object type): every object grantSource covers there,
// with its ACL items, from which Go computes grantQuery's row for any role
// and any list of objects (grantSnapshot.row); a role that appears in no
// ACL there is read on its own, as only the single read tells a missing
// role apart. Default privileges are few, and azure_ai settings need none:
// a database's settings are one resource, read in one statement.
//
// A snapshot is never stale after a write of this process: every write
// (run.go's write and writeOne) bumps the client's write generation when it
// returns, whatever its outcome, and a snapshot answers only while the
// generation it was taken at is current. A write that commits while a
// snapshot is being fetched ends after the fetch began, so it bumps the
// generation too. After a write, reads go one by one (an apply that reads
// after each create would otherwise fetch every role each time) until no
// write has happened for snapshotTTL.
//
// Drift made between two Terraform commands is seen: Terraform starts a new
// provider process for each command and each of its walks (plan, apply), and
// a process that lives on (terraform -debug / TF_REATTACH_PROVIDERS, or the
// in-process provider of the acceptance tests) is configured again for
// each walk, when the provider calls ForgetSnapshots. snapshotTTL bounds
// the age of a snapshot in any case.
//
// GUESS: that Terraform sends ConfigureProvider for every walk to a
// reattached provider is what its source does (each walk's graph configures
// its provider nodes); TestAccPrincipalSnapshotSeesDriftBetweenSteps checks
// it with the in-process provider, which is reattached.

// snapshotTTL is how long a snapshot may answer reads, and how long after
// a write reads go one by one.
const snapshotTTL = 10 * time.Second

type snapshots struct {
	mu sync.Mutex
	// gen counts the writes that ended; lastWrite is when the last one did.
	gen       uint64
	lastWrite time.Time
	// entries are the current snapshots by key: "roles",
	// "extensions/<database>", or grantSnapshotKey's.
	entries map[string]*snapshot
	// loading holds, by key, a channel closed when the fetch in flight ends.
	loading map[string]chan struct{}
	// fetches counts the snapshots fetched (for tests).
	fetches int
	// quiet, when set (tests), replaces snapshotTTL as the time after a
	// write during which reads go one by one.
	quiet time.Duration
}

type snapshot struct {
	gen   uint64
	taken time.Time // before the statement was sent
	value any
}

func (s *snapshots) quietAfterWrite() time.Duration {
	if s.quiet != 0 {
		return s.quiet
	}
	return snapshotTTL
}

// roleRow is one role as principalColumns reads it.
type roleRow struct {
	p     Principal
	entra bool
}

// wrote marks the end of a write: every snapshot taken before is stale.
func (c *Client) wrote() {
	c.snap.mu.Lock()
	c.snap.gen++
	c.snap.lastWrite = time.Now()
	c.snap.entries = nil
	c.snap.mu.Unlock()
}

// ForgetSnapshots drops the snapshots: the provider calls it when it is
// configured, i.e. at the start of each Terraform walk, so that a process
// that serves several commands never answers one from another's snapshot.
func (c *Client) ForgetSnapshots() {
	c.snap.mu.Lock()
	c.snap.entries = nil
	c.snap.mu.Unlock()
}

// SnapshotFetches is how many snapshots this client fetched.
func (c *Client) SnapshotFetches() int {
	c.snap.mu.Lock()
	defer c.snap.mu.Unlock()
	return c.snap.fetches
}

// principalFromSnapshot answers a read of one role from the snapshot,
// fetching one when there is none; ok is false when the read must go to
// the server on its own (a recent write, or the fetch failed: the single
// read then reports its own error).
func (c *Client) principalFromSnapshot(ctx context.Context, name string) (_ roleRow, found, ok bool) {
	roles, ok := cached(ctx, c, "roles", PrincipalsDatabase, "reading every role", allRoles)
	if !ok {
		return roleRow{}, false, false
	}
	r, found := roles[name]
	return r, found, true
}

// cached returns the snapshot under key, fetching it with fetch (one
// statement on database) when there is no valid one; only one fetch per
// key runs at a time, the other readers wait for it.
func cached[T any](ctx context.Context, c *Client, key, database, op string, fetch func(ctx context.Context, q querier) (T, error)) (T, bool) {
	var zero T
	s := &c.snap
	for {
		s.mu.Lock()
		if e := s.entries[key]; e != nil && e.gen == s.gen && time.Since(e.taken) < snapshotTTL {
			s.mu.Unlock()
			return e.value.(T), true
		}
		if s.gen > 0 && time.Since(s.lastWrite) < s.quietAfterWrite() {
			s.mu.Unlock()
			return zero, false
		}
		if ch := s.loading[key]; ch != nil {
			s.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return zero, false
			}
		}
		ch := make(chan struct{})
		if s.loading == nil {
			s.loading = map[string]chan struct{}{}
		}
		s.loading[key], s.fetches = ch, s.fetches+1
		gen, taken := s.gen, time.Now()
		s.mu.Unlock()

		v, err := read(ctx, c, database, op, func(q querier) (T, error) { return fetch(ctx, q) })

		s.mu.Lock()
		delete(s.loading, key)
		close(ch)
		fresh := err == nil && gen == s.gen
		if fresh {
			if s.entries == nil {
				s.entries = map[string]*snapshot{}
			}
			s.entries[key] = &snapshot{gen: gen, taken: taken, value: v}
		}
		s.mu.Unlock()
		if !fresh {
			c.log(ctx, "pgaad: no snapshot, reading one by one", map[string]any{"snapshot": key, "write_during_fetch": err == nil})
			return zero, false
		}
		c.log(ctx, "pgaad: snapshot fetched", map[string]any{"snapshot": key})
		return v, true
	}
}

// allRoles reads every role, as readPrincipal reads one.
func allRoles(ctx context.Context, q querier) (map[string]roleRow, error) {
	rows, err := q.Query(ctx, principalColumns)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]roleRow{}
	for rows.Next() {
		p, entra, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		out[p.Name] = roleRow{p: p, entra: entra}
	}
	return out, rows.Err()
}

// grantSnapshotKey names the snapshot of one (database, schema, object
// type); the names are quoted, so that no '/' or quote in them can make two
// keys alike.
func grantSnapshotKey(database, schema, objectType string) string {
	return "grants/" + strconv.Quote(database) + "/" + strconv.Quote(schema) + "/" + objectType
}

// grantSnapshot is every object of one type in one schema (the objects
// grantSource covers when no object is listed) with its ACL: what every
// grantQuery of that (database, schema, object type) reads, whatever the
// role and the listed objects.
type grantSnapshot struct {
	schemaExists bool
	full         []string
	// objects in the server's order of their names (grantQuery's
	// array_agg ORDER BY name, same expression, same collation), an
	// overloaded function once per overload.
	objects []grantSnapObject
	// byName indexes objects by name, in their order: a read of listed
	// objects need not go through the whole schema.
	byName map[string][]int
	// grantees are the roles that appear in some ACL, PublicRole for PUBLIC:
	// those are known to exist.
	grantees map[string]bool
}

type grantSnapObject struct {
	name string
	acl  []aclItem
}

// aclItem is one row of aclexplode for an object.
type aclItem struct {
	grantee, privilege string
	grantable          bool
	otherGrantor       bool // the grantor is not the object's owner
}

// grantSnapshotQuery reads a grantSnapshot in one statement: one row per
// ACL item of each object (one with NULLs for an object with an empty ACL,
// and a row of NULLs when there is no object), each with whether the schema
// exists and what ALL means, as grantQuery computes them.
func grantSnapshotQuery(objectType string) string {
	return `WITH a AS (SELECT NULL::text AS role, $1::text AS sch, NULL::text[] AS objs),
     o AS (` + grantSource[objectType] + `),
     e AS (SELECT o.oid, o.name, x.grantee, x.privilege_type, x.is_grantable, x.grantor <> o.owner AS other
             FROM o LEFT JOIN LATERAL aclexplode(o.acl) x ON true)
SELECT EXISTS (SELECT 1 FROM pg_namespace n, a WHERE n.nspname = a.sch),
       coalesce((SELECT array_agg(x.privilege_type ORDER BY x.privilege_type)
                   FROM aclexplode(acldefault($2::"char", 1::oid)) x WHERE x.grantee = 1), '{}'),
       e.oid, e.name,
       CASE WHEN e.grantee = 0 THEN '` + PublicRole + `' ELSE g.rolname::text END,
       e.privilege_type, e.is_grantable, e.other
  FROM (SELECT 1) one LEFT JOIN e ON true LEFT JOIN pg_roles g ON g.oid = e.grantee
 ORDER BY e.name, e.oid`
}

// readGrantSnapshot runs grantSnapshotQuery.
func readGrantSnapshot(ctx context.Context, q querier, objectType, schema string) (*grantSnapshot, error) {
	rows, err := q.Query(ctx, grantSnapshotQuery(objectType), schema, aclCode[objectType])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	s := &grantSnapshot{grantees: map[string]bool{}, byName: map[string][]int{}}
	var last *uint32
	for rows.Next() {
		var oid *uint32
		var name, grantee, privilege *string
		var grantable, other *bool
		if err := rows.Scan(&s.schemaExists, &s.full, &oid, &name, &grantee, &privilege, &grantable, &other); err != nil {
			return nil, err
		}
		if oid == nil {
			continue // no object
		}
		if last == nil || *last != *oid {
			s.byName[*name] = append(s.byName[*name], len(s.objects))
			s.objects = append(s.objects, grantSnapObject{name: *name})
			last = oid
		}
		if grantee == nil {
			continue // an empty ACL, or its grantee just dropped
		}
		o := &s.objects[len(s.objects)-1]
		o.acl = append(o.acl, aclItem{grantee: *grantee, privilege: *privilege, grantable: *grantable, otherGrantor: *other})
		s.grantees[*grantee] = true
	}
	return s, rows.Err()
}

// row computes grantQuery's row for t; ok is false when the snapshot cannot
// tell whether t's role exists (it holds nothing here): the single read
// tells a missing role apart.
func (s *grantSnapshot) row(t GrantTarget) (_ grantRow, ok bool) {
	if t.Role != PublicRole && !s.grantees[t.Role] {
		return grantRow{}, false
	}
	r := grantRow{roleExists: true, schemaExists: s.schemaExists, full: slices.Clone(s.full),
		names: []string{}, privileges: []string{}}
	type held struct{ objects, grantable int }
	privs := map[string]*held{}
	covered := s.objects
	if t.Objects != nil {
		// The listed objects that exist, in the server's order (a name
		// listed twice counts once, as in grantQuery's ANY).
		var idx []int
		seen := map[string]bool{}
		for _, name := range t.Objects {
			if !seen[name] {
				seen[name] = true
				idx = append(idx, s.byName[name]...)
			}
		}
		slices.Sort(idx)
		covered = make([]grantSnapObject, len(idx))
		for k, i := range idx {
			covered[k] = s.objects[i]
		}
	}
	for _, o := range covered {
		r.count++
		if n := len(r.names); n == 0 || r.names[n-1] != o.name {
			r.names = append(r.names, o.name) // overloads are adjacent
		}
		// What the role holds on this object, with grant option when any
		// of its grantors gave it (grantQuery's p: bool_or per privilege).
		here := map[string]bool{}
		for _, x := range o.acl {
			if x.grantee != t.Role {
				continue
			}
			here[x.privilege] = here[x.privilege] || x.grantable
			r.otherGrantors = r.otherGrantors || x.otherGrantor
		}
		for p, g := range here {
			h := privs[p]
			if h == nil {
				h = &held{}
				privs[p] = h
			}
			h.objects++
			if g {
				h.grantable++
				r.grantOptionAny = true
			}
		}
	}
	// Held on every object (grantQuery's c), with grant option on each.
	r.grantOptionAll = true
	for p, h := range privs {
		if h.objects == r.count {
			r.privileges = append(r.privileges, p)
			r.grantOptionAll = r.grantOptionAll && h.grantable == h.objects
		}
	}
	// Privilege names are upper-case ASCII words: byte order is the
	// server's ORDER BY in any collation.
	slices.Sort(r.privileges)
	r.grantOptionAll = r.grantOptionAll && len(r.privileges) > 0
	return r, true
}

// grantFromSnapshot answers a read of a grant from the snapshot of its
// (database, schema, object type), fetching one when there is none; ok is
// false when the read must go to the server on its own (a recent write, a
// failed fetch, or a role the snapshot cannot vouch for).
func (c *Client) grantFromSnapshot(ctx context.Context, t GrantTarget) (_ Grant, _ error, ok bool) {
	if _, known := grantSource[t.ObjectType]; !known || t.Database == "" {
		return Grant{}, nil, false
	}
	schema := t.Schema
	if t.ObjectType == ObjectTypeDatabase {
		schema = "" // a database grant covers the database alone, whatever the schema
	}
	s, ok := cached(ctx, c, grantSnapshotKey(t.Database, schema, t.ObjectType), t.Database, "reading every grant",
		func(ctx context.Context, q querier) (*grantSnapshot, error) {
			return readGrantSnapshot(ctx, q, t.ObjectType, schema)
		})
	if !ok {
		return Grant{}, nil, false
	}
	r, ok := s.row(t)
	if !ok {
		return Grant{}, nil, false
	}
	g, err := grantFromRow(r, t)
	return g, err, true
}
