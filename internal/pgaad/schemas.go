package pgaad

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ObjectSchema is a schema of one database: Name the schema, Database the
// database.
const ObjectSchema = "schema"

// Schema is a schema as the server has it.
type Schema struct {
	Database string
	Name     string
	Owner    string
}

func schemaObject(database, name string) Object {
	return Object{Type: ObjectSchema, Name: name, Database: database}
}

// TopicSchemaNotEmpty: a schema cannot be dropped without CASCADE because
// it still holds objects (the error lists them).
const TopicSchemaNotEmpty Topic = "schema not empty"

// schemaQuery reads one schema and its owner.
const schemaQuery = `SELECT n.nspname::text, r.rolname::text
  FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
 WHERE n.nspname = $1`

// Schema reads one schema: ErrNotFound when the database has no schema of
// that name, ErrDatabaseMissing when the database does not exist.
func (c *Client) Schema(ctx context.Context, database, name string) (Schema, error) {
	const op = "reading schema"
	s, err := read(ctx, c, database, op, func(q querier) (Schema, error) { return readSchema(ctx, q, database, name) })
	return s, c.schemaError(op, database, name, err)
}

func readSchema(ctx context.Context, q querier, database, name string) (Schema, error) {
	s := Schema{Database: database}
	err := q.QueryRow(ctx, schemaQuery, name).Scan(&s.Name, &s.Owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return Schema{}, &Error{Op: "reading schema", Object: schemaObject(database, name), Kind: ErrNotFound,
			Err: &reason{what: "the database has no schema of this name", err: ErrNotFound}}
	}
	return s, err
}

// roleActor is what the login may do as a role: the role exists, is one
// that Azure restricts (restrictedRole), the login has its privileges
// (hasOwnerPrivileges: it may act on the role's objects directly), and it
// may SET ROLE to it (canSetRole), which CREATE SCHEMA ... AUTHORIZATION
// and ALTER SCHEMA ... OWNER TO ask of a non-superuser for the new owner.
type roleActor struct {
	name                               string
	exists, restricted, direct, canSet bool
	// priorInherit, priorSet: the options of the grant the login made to
	// itself in this role (PostgreSQL 16+), nil when it made none.
	priorInherit, priorSet *bool
}

// borrow is the role as the hand-over's neededRole: the privileges of the
// role, and SET ROLE to it when set.
func (a roleActor) borrow(set bool) neededRole {
	return neededRole{Name: a.name, NeedSet: set, HasPriv: a.direct, HasSet: a.canSet,
		PriorInherit: a.priorInherit, PriorSet: a.priorSet}
}

// actorFor is roleActor's columns for the role that where picks out of
// pg_roles r, in a LEFT JOIN LATERAL named alias (no row: no such role).
func actorFor(where, alias string) string {
	return `LEFT JOIN LATERAL (SELECT r.rolname::text, ` + restrictedRole + `, ` + hasOwnerPrivileges + `,
                          pg_has_role(current_user, r.oid, ` + canSetRole + `), ` + priorSelfGrant("r.oid") + `
                     FROM pg_roles r WHERE ` + where + `) ` + alias + `(name, restricted, direct, can_set, prior_inherit, prior_set) ON true`
}

func actorColumns(alias string) string {
	return alias + `.name IS NOT NULL, coalesce(` + alias + `.name, ''), coalesce(` + alias + `.restricted, false), coalesce(` +
		alias + `.direct, false), coalesce(` + alias + `.can_set, false), ` + alias + `.prior_inherit, ` + alias + `.prior_set`
}

// schemaFactsQuery reads, in one statement, what a write to schema $1 (with
// the new owner $2, "" for none) depends on: who the login is, whether it
// has CREATE on the database, whether the schema exists, what the login may
// do as its current owner and as the new owner, and the objects the schema
// holds (their count, and the first schemaListLimit as "type identity", by
// type and name). Objects are what DROP SCHEMA would find: every object
// that depends on the schema (pg_depend), except the members of an
// extension, which the extension stands for.
var schemaFactsQuery = `WITH a AS (SELECT $1::text AS sch, $2::text AS owner),
     n AS (SELECT n.oid, n.nspowner FROM pg_namespace n, a WHERE n.nspname = a.sch),
     o AS (SELECT x.type || ' ' || x.identity AS what
             FROM pg_depend d CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) x
            WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = (SELECT oid FROM n)
              AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid AND e.deptype = 'e'))
SELECT current_user::text, has_database_privilege(current_database(), 'CREATE'), n.oid IS NOT NULL,
       ` + actorColumns("cur") + `,
       ` + actorColumns("nw") + `,
       (SELECT count(*) FROM o)::int,
       coalesce((SELECT array_agg(what ORDER BY what) FROM (SELECT what FROM o ORDER BY what LIMIT ` + strconv.Itoa(schemaListLimit) + `) f), '{}')
  FROM a
  LEFT JOIN n ON true
  ` + actorFor("r.oid = n.nspowner", "cur") + `
  ` + actorFor("r.rolname = a.owner", "nw")

// schemaListLimit is how many objects a refused drop names.
const schemaListLimit = 20

// schemaFacts is schemaFactsQuery's row.
type schemaFacts struct {
	login       string
	canCreate   bool // CREATE on the database
	exists      bool
	owner, want roleActor // the current owner, the new one
	count       int       // objects in the schema
	objects     []string  // the first schemaListLimit of them
}

func readSchemaFacts(ctx context.Context, q querier, name, owner string) (schemaFacts, error) {
	var f schemaFacts
	err := q.QueryRow(ctx, schemaFactsQuery, name, owner).Scan(&f.login, &f.canCreate, &f.exists,
		&f.owner.exists, &f.owner.name, &f.owner.restricted, &f.owner.direct, &f.owner.canSet, &f.owner.priorInherit, &f.owner.priorSet,
		&f.want.exists, &f.want.name, &f.want.restricted, &f.want.direct, &f.want.canSet, &f.want.priorInherit, &f.want.priorSet,
		&f.count, &f.objects)
	return f, err
}

// CreateSchema runs CREATE SCHEMA, with AUTHORIZATION owner when owner is
// not "" (otherwise the login owns it), and reads it back, in one
// transaction. A schema that already exists is ErrAlreadyExists, left as
// it is. Azure's Entra admin is not a superuser: to give the schema another
// owner it must be able to SET ROLE to that owner; when it cannot, the error
// (ErrCannotActAsOwner) names the GRANT that would allow it. When COMMIT got
// no answer, the schema is looked up.
func (c *Client) CreateSchema(ctx context.Context, database, name, owner string) (Schema, error) {
	const op = "creating schema"
	sql := "CREATE SCHEMA " + pgx.Identifier{name}.Sanitize()
	if owner != "" {
		sql += " AUTHORIZATION " + pgx.Identifier{owner}.Sanitize()
	}
	s, err := write(ctx, c, database, op, func(tx pgx.Tx) (Schema, error) {
		f, err := readSchemaFacts(ctx, tx, name, owner)
		switch {
		case err != nil:
			return Schema{}, err
		case f.exists:
			return Schema{}, &Error{Op: op, Object: schemaObject(database, name), Kind: ErrAlreadyExists,
				Err: &reason{what: "the database already has a schema of this name", err: ErrAlreadyExists}}
		case owner != "" && !f.want.exists:
			return Schema{}, ownerMissing(op, database, name, owner)
		}
		if _, err := tx.Exec(ctx, sql); err != nil {
			return Schema{}, f.explain(op, database, name, schemaNeeds{newOwner: true, create: true,
				what: "create the schema " + pgx.Identifier{name}.Sanitize() + " for another role"}, err)
		}
		return readSchema(ctx, tx, database, name)
	}, func(ctx context.Context) (Schema, bool, error) {
		got, err := c.Schema(ctx, database, name)
		switch {
		case errors.Is(err, ErrNotFound):
			return Schema{}, false, nil
		case err != nil:
			return Schema{}, false, err
		}
		return got, owner == "" || got.Owner == owner, nil
	})
	return s, c.schemaError(op, database, name, err)
}

// SetSchemaOwner runs ALTER SCHEMA ... OWNER TO owner and reads the schema
// back, in one transaction; nothing when owner already owns it (so running
// it again is harmless). As a non-superuser the login needs the privileges
// of the current owner (an inheriting membership), may SET ROLE to the new
// one, and CREATE on the database; the error says which it lacks.
func (c *Client) SetSchemaOwner(ctx context.Context, database, name, owner string) (Schema, error) {
	const op = "changing the owner of schema"
	s, err := write(ctx, c, database, op, func(tx pgx.Tx) (Schema, error) {
		f, err := readSchemaFacts(ctx, tx, name, owner)
		switch {
		case err != nil:
			return Schema{}, err
		case !f.exists:
			return readSchema(ctx, tx, database, name) // ErrNotFound
		case f.owner.name == owner:
			return Schema{Database: database, Name: name, Owner: owner}, nil
		case !f.want.exists:
			return Schema{}, ownerMissing(op, database, name, owner)
		}
		// The login may hold the current owner by a grant of its own with
		// SET but not INHERIT (on 16+, what it gets in the roles it
		// creates): it could act as the owner with SET ROLE, but the owner
		// may not SET ROLE to the new one. It then takes the owner's
		// privileges for this transaction only, which give it nothing it
		// could not do already, and puts its grant back as it was.
		var borrowed []neededRole
		if cur := f.owner; cur.name != f.login && !cur.direct && cur.canSet && cur.priorInherit != nil {
			borrowed = append(borrowed, cur.borrow(false))
		}
		grant, restore := borrowScript(borrowed, serverMajor(tx.Conn().PgConn()) >= 16)
		sql := grant + "ALTER SCHEMA " + pgx.Identifier{name}.Sanitize() + " OWNER TO " + pgx.Identifier{owner}.Sanitize() + ";\n" + restore
		if _, err := tx.Exec(ctx, sql); err != nil {
			return Schema{}, f.explain(op, database, name, schemaNeeds{cur: true, newOwner: true, create: true,
				what: "give the schema " + pgx.Identifier{name}.Sanitize() + " another owner"}, err)
		}
		return readSchema(ctx, tx, database, name)
	}, nil)
	return s, c.schemaError(op, database, name, err)
}

// DropSchema drops a schema. Without cascade it first lists what the schema
// holds and, when that is anything, refuses (ErrDependentObjects, naming the
// objects) and changes nothing; with cascade it runs DROP SCHEMA ... CASCADE,
// which drops those objects too. As a non-superuser the login needs the
// owner's privileges, or acts as the owner (SET ROLE) when it may. A schema
// or database that is already gone is not an error; dropping again is
// harmless.
func (c *Client) DropSchema(ctx context.Context, database, name string, cascade bool) error {
	const op = "dropping schema"
	_, err := write(ctx, c, database, op, func(tx pgx.Tx) (struct{}, error) {
		f, err := readSchemaFacts(ctx, tx, name, "")
		switch {
		case err != nil:
			return struct{}{}, err
		case !f.exists:
			return struct{}{}, nil
		case !cascade && f.count > 0:
			return struct{}{}, &Error{Op: op, Object: schemaObject(database, name), Kind: ErrDependentObjects,
				Err:    &reason{what: schemaObjectsText(f.count, f.objects), err: ErrDependentObjects},
				Advice: schemaNotEmptyAdvice, Fact: Fact{Topic: TopicSchemaNotEmpty}}
		}
		drop := "DROP SCHEMA " + pgx.Identifier{name}.Sanitize()
		if cascade {
			drop += " CASCADE"
		}
		if !f.owner.direct && f.owner.canSet && f.owner.name != f.login {
			// DROP SCHEMA needs the owner's privileges: act as the owner.
			drop = "SET LOCAL ROLE " + pgx.Identifier{f.owner.name}.Sanitize() + ";\n" + drop + ";\nRESET ROLE"
		}
		if _, err := tx.Exec(ctx, drop); err != nil {
			return struct{}{}, f.explain(op, database, name, schemaNeeds{cur: true, curBySet: true,
				what: "drop the schema " + pgx.Identifier{name}.Sanitize()}, err)
		}
		return struct{}{}, nil
	}, nil)
	err = c.schemaError(op, database, name, err)
	if errors.Is(err, ErrDatabaseMissing) {
		return nil // the schema went with its database
	}
	return err
}

// schemaNotEmptyAdvice is what to do about a schema that still holds objects.
const schemaNotEmptyAdvice = "DROP SCHEMA without CASCADE refuses a schema that is not empty, and the provider drops nothing " +
	"it was not asked to. Nothing was changed: the schema and its objects are still there. Drop or move the objects first, " +
	"or drop them with the schema (DROP SCHEMA ... CASCADE, which also drops objects elsewhere that depend on them, such as views)."

// schemaObjectsText lists what a schema holds, for the error: all of it,
// or the first ones and how many more.
func schemaObjectsText(count int, objects []string) string {
	noun := "objects"
	if count == 1 {
		noun = "object"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the schema is not empty: it holds %d %s", count, noun)
	if count > len(objects) {
		fmt.Fprintf(&b, " (the first %d by type and name)", len(objects))
	}
	b.WriteString(":")
	for _, o := range objects {
		b.WriteString("\n  " + o)
	}
	if more := count - len(objects); more > 0 {
		fmt.Fprintf(&b, "\n  and %d more", more)
	}
	return b.String()
}

// ownerMissing is the error for a new owner that does not exist: about the
// role, so that it reads "Role not found".
func ownerMissing(op, database, name, owner string) error {
	return &Error{Op: fmt.Sprintf("%s %q in database %q, owner", op, name, database), Object: Object{Type: ObjectRole, Name: owner},
		Kind: ErrNotFound, Err: &reason{what: fmt.Sprintf("role %q does not exist", owner), err: ErrNotFound},
		Advice: missingRoleAdvice(owner), Fact: Fact{Topic: TopicRoleMissing, Role: owner}}
}

// schemaNeeds is what a statement asks of a non-superuser login, for
// explain: the current owner's privileges (alter, drop; for a drop SET ROLE
// to the owner will do), SET ROLE to the new owner (create or alter with an
// owner), CREATE on the database (create, alter).
type schemaNeeds struct {
	cur      bool // the current owner's privileges
	curBySet bool // or SET ROLE to the current owner
	newOwner bool
	create   bool
	what     string // what the login tried to do as the owner, for the advice
}

// explain turns a refused statement (42501) into what the login lacks, from
// the facts read before it. Anything else passes through to the
// classification.
//
// GUESS (TestLiveSchemaOwnership): that Azure, like PostgreSQL, refuses
// these statements to an azure_pg_admin member that is not a member of the
// owner; the emulator does not model the enhancement's "access objects
// owned by any nonrestricted role" for schemas. The statements are run all
// the same, never refused beforehand, so where Azure allows them they work.
func (f schemaFacts) explain(op, database, name string, needs schemaNeeds, err error) error {
	if !isPermissionDenied(err) {
		return err
	}
	var blocked []schemaBlock
	cur := f.owner
	curOK := cur.name == f.login || cur.direct || (needs.curBySet && cur.canSet)
	if needs.cur && cur.exists && !curOK {
		lacks := "does not have the owner's privileges (it is not an inheriting member)"
		if needs.curBySet {
			lacks = "does not have the owner's privileges and may not SET ROLE to it (it is not a member)"
		}
		blocked = append(blocked, schemaBlock{actor: cur, role: "its owner", lacks: lacks})
	}
	if w := f.want; needs.newOwner && w.exists && w.name != f.login && !w.canSet {
		blocked = append(blocked, schemaBlock{actor: w, role: "the new owner", lacks: "may not SET ROLE to it (it is not a member, or not with the SET option)"})
	}
	needsCreate := needs.create && !f.canCreate
	if len(blocked) == 0 && !needsCreate {
		return err
	}
	e := &Error{Op: op, Object: schemaObject(database, name), Err: err, Kind: ErrPermissionDenied}
	if len(blocked) > 0 {
		e.Kind = ErrCannotActAsOwner
	}
	e.Advice = schemaActAdvice(f.login, database, blocked, needsCreate, needs.what)
	return e
}

// schemaBlock is a role the login cannot act as, and why.
type schemaBlock struct {
	actor       roleActor
	role, lacks string
}

// schemaActAdvice says what the login lacks and the statements that would
// give it: for each owner it cannot act as, GRANT <owner> TO <login> (which
// the Entra admin may run itself for a role Azure does not restrict, see
// cannotActAdvice), and CREATE on the database, which its owner grants.
func schemaActAdvice(login, database string, blocked []schemaBlock, needsCreate bool, what string) string {
	l := pgx.Identifier{login}.Sanitize()
	var b strings.Builder
	if len(blocked) > 0 {
		fmt.Fprintf(&b, "On Azure the Entra admin %q is not a superuser: it may %s only by acting as the owner, "+
			"which needs membership in the owning role. Nothing was changed.\n", login, what)
	} else {
		fmt.Fprintf(&b, "The login %q may not create schemas in database %q, which creating a schema or giving one another "+
			"owner needs. Nothing was changed.\n", login, database)
	}
	var grants []string
	for _, x := range blocked {
		fmt.Fprintf(&b, "\n  %s %q: the login %s", x.role, x.actor.name, x.lacks)
		if x.actor.restricted {
			b.WriteString("; Azure restricts this role (a superuser, azure_pg_admin or a predefined role): no login can act for it")
			continue
		}
		grants = append(grants, fmt.Sprintf("\n  GRANT %s TO %s;", pgx.Identifier{x.actor.name}.Sanitize(), l))
	}
	if needsCreate {
		fmt.Fprintf(&b, "\n  database %q: the login lacks the CREATE privilege on it", database)
	}
	if len(grants) > 0 {
		// GUESS (TestLiveGrantOnPasswordAdminObjects): that the Entra admin
		// may run it on 16+, by the enhancement.
		b.WriteString("\n\nTo allow it, the login can run itself (CREATEROLE on PostgreSQL 15; on 16 and later, " +
			"Azure lets azure_pg_admin members manage every role that is not restricted):\n")
		b.WriteString(strings.Join(grants, ""))
	}
	if needsCreate {
		fmt.Fprintf(&b, "\n\nThe database's owner (or a member of it) can give the login CREATE on the database:\n\n  GRANT CREATE ON DATABASE %s TO %s;",
			pgx.Identifier{database}.Sanitize(), l)
	}
	if len(grants) == 0 && !needsCreate {
		b.WriteString("\n\nNo GRANT can change that: choose another owner, or leave this schema out of Terraform.")
		return b.String()
	}
	b.WriteString("\n\nThen apply again.")
	return b.String()
}

// schemaError classifies a failure of op on one schema.
func (c *Client) schemaError(op, database, name string, err error) error {
	return c.classify(op, schemaObject(database, name), err, schemaRule)
}

// schemaRule is what schemas add to the common classification.
func schemaRule(e *Error, pgErr *pgconn.PgError) {
	switch pgErr.Code {
	case "42P06": // duplicate_schema: created by someone else meanwhile
		e.Kind = ErrAlreadyExists
	case "3F000": // invalid_schema_name: dropped by someone else meanwhile
		e.Kind = ErrNotFound
	case "2BP01": // an object was created in the schema meanwhile
		e.Kind = ErrDependentObjects
		e.Advice, e.Fact = schemaNotEmptyAdvice, Fact{Topic: TopicSchemaNotEmpty}
	case "42939": // reserved_name
		e.Kind = ErrPermissionDenied
		e.Advice = "Names that start with pg_ are reserved for PostgreSQL's own schemas. Choose another name."
	}
}
