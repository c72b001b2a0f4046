package pgaad_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// adminClient logs in as the emulator's Entra admin (not a superuser).
func adminClient(t *testing.T) *pgaad.Client {
	t.Helper()
	e := pgtest.Emulator(t)
	src, err := entratoken.New(entratoken.Settings{Method: "managed_identity"})
	if err != nil {
		t.Fatal(err)
	}
	c := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: e.AdminName(), SSLMode: "verify-full", SSLRootCert: e.CAFile(),
		Password: src.Password, Entra: true})
	t.Cleanup(c.Close)
	return c
}

func TestPrincipalCreateReadListDrop(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	e := pgtest.Emulator(t)
	// The admin is not a superuser, as on Azure: what follows shows that it
	// can read the labels (pg_shseclabel) all the same.
	var super bool
	if err := pgtest.AdminConn(t, "postgres").QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil || super {
		t.Fatalf("the Entra admin is a superuser (%v) or cannot say (%v)", super, err)
	}
	user := pgtest.NewObject(t, "user", "pgaad-user")
	group := pgtest.NewObject(t, "group", "pgaad group")

	p, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: user.Name, MFA: true})
	if err != nil {
		t.Fatal(err)
	}
	want := pgaad.Principal{Name: user.Name, Type: "user", ObjectID: user.ObjectID, TenantID: e.TenantID(), MFA: true}
	if p != want {
		t.Fatalf("created %+v, want %+v", p, want)
	}
	if got, err := c.Principal(ctx, user.Name); err != nil || got != want {
		t.Fatalf("read %+v, %v; want %+v", got, err, want)
	}

	// By object id, with a name that the tenant does not know.
	free := pgtest.Name(`free "name"; x`)
	p, err = c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: free, ObjectID: group.ObjectID, Type: "group", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != "group" || p.ObjectID != group.ObjectID || !p.Admin || p.MFA || p.Name != free {
		t.Fatalf("created by object id: %+v", p)
	}

	all, err := c.ListPrincipals(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(all, user.Name) || !contains(all, free) || !contains(all, e.AdminName()) {
		t.Fatalf("list lacks a principal: %+v", all)
	}
	admins, err := c.ListPrincipals(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if contains(admins, user.Name) || !contains(admins, free) {
		t.Fatalf("admins only: %+v", admins)
	}

	for _, name := range []string{user.Name, free} {
		if err := c.DropPrincipal(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
		if pgtest.RoleExists(t, name) {
			t.Fatalf("%q still exists", name)
		}
		if _, err := c.Principal(ctx, name); !errors.Is(err, pgaad.ErrNotFound) {
			t.Fatalf("after drop: %v", err)
		}
		// Dropping again is not an error: the role is gone either way.
		if err := c.DropPrincipal(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func contains(ps []pgaad.Principal, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

// TestPrincipalOlderLabelForm reads a role labelled the way older servers did.
func TestPrincipalOlderLabelForm(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()
	o := pgtest.NewObject(t, "service_principal", "pgaad-old-sp")
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name, Admin: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(ctx, o.Name, "") })
	role := pgx.Identifier{o.Name}.Sanitize()
	pgtest.SuperExec(t, "postgres", `SECURITY LABEL FOR "pgaadauth" ON ROLE `+role+` IS 'aadauth,oid=`+o.ObjectID+`,type=service,admin'`)
	pgtest.SuperExec(t, "postgres", `SECURITY LABEL FOR "pgaadauth-int" ON ROLE `+role+` IS NULL`)
	p, err := c.Principal(ctx, o.Name)
	if err != nil {
		t.Fatal(err)
	}
	want := pgaad.Principal{Name: o.Name, Type: "service", ObjectID: o.ObjectID, Admin: true,
		LabelAdmin: true, AdminMember: true, CreateRole: true, CreateDB: true}
	if p != want {
		t.Fatalf("got %+v, want %+v", p, want)
	}
	// Changed in place, the role keeps the older form: one label, no internal one.
	p, err = c.UpdatePrincipal(ctx, pgaad.PrincipalChange{Name: o.Name, Admin: false, MFA: true})
	if err != nil {
		t.Fatal(err)
	}
	want = pgaad.Principal{Name: o.Name, Type: "service", ObjectID: o.ObjectID, MFA: true}
	if p != want {
		t.Fatalf("after the update: got %+v, want %+v", p, want)
	}
	var label string
	var labelInt *string
	pgtest.SuperQueryRow(t, "postgres", `SELECT
		(SELECT label FROM pg_shseclabel s WHERE s.objoid = r.oid AND s.provider = 'pgaadauth'),
		(SELECT label FROM pg_shseclabel s WHERE s.objoid = r.oid AND s.provider = 'pgaadauth-int')
		FROM pg_roles r WHERE r.rolname = $1`, []any{o.Name}, &label, &labelInt)
	if label != "aadauth,oid="+o.ObjectID+",type=service,mfa" || labelInt != nil {
		t.Fatalf("labels after the update: %q, %v", label, labelInt)
	}
}

func TestPrincipalErrors(t *testing.T) {
	t.Parallel()
	c := adminClient(t)
	ctx := context.Background()

	t.Run("not in tenant", func(t *testing.T) {
		name := pgtest.Name("nobody") + "@contoso.com"
		_, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: name})
		wantKind(t, err, pgaad.ErrNotInTenant, "Could not validate AAD user "+name+" because its name is not found in the tenant")
		if pgtest.RoleExists(t, name) {
			t.Fatal("role created anyway")
		}
	})
	t.Run("ambiguous", func(t *testing.T) {
		_, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: "Shared Name"})
		wantKind(t, err, pgaad.ErrAmbiguous, "Give the object id (and type)")
		wantFact(t, err, pgaad.TopicAmbiguousName, false)
	})
	t.Run("validation", func(t *testing.T) {
		_, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: "broken@contoso.com"})
		wantKind(t, err, pgaad.ErrValidation, "An unexpected error occurred while trying to validate user")
		wantKind(t, err, pgaad.ErrValidation, "Giving the object id and type would skip the name lookup, not this check")
		wantFact(t, err, pgaad.TopicValidation, false)
	})
	// By object id the advice must not propose an object id and type: they
	// were given (and the provider, told so by Fact.ByObjectID, does not
	// propose object_id).
	t.Run("validation by object id", func(t *testing.T) {
		broken, ok := pgtest.Emulator(t).Object("broken@contoso.com")
		if !ok {
			t.Fatal("broken@contoso.com is not in the tenant")
		}
		name := pgtest.Name("pgaad broken oid")
		_, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: name, ObjectID: broken.ObjectID, Type: "user"})
		wantKind(t, err, pgaad.ErrValidation, "an object id and type skip only the name lookup, not this check")
		wantFact(t, err, pgaad.TopicValidation, true)
		if strings.Contains(err.Error(), "Giving the object id") {
			t.Fatalf("advice proposes an object id although it was given:\n%v", err)
		}
		if pgtest.RoleExists(t, name) {
			t.Fatal("role created anyway")
		}
	})
	t.Run("not in tenant by object id", func(t *testing.T) {
		name := pgtest.Name("pgaad nobody oid")
		_, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: name, ObjectID: uuid.NewString(), Type: "group"})
		wantKind(t, err, pgaad.ErrNotInTenant, "Check the object id")
		wantFact(t, err, pgaad.TopicNotInTenant, true)
		if strings.Contains(err.Error(), "give its object id") {
			t.Fatalf("advice proposes an object id although it was given:\n%v", err)
		}
	})
	t.Run("already exists", func(t *testing.T) {
		o := pgtest.NewObject(t, "group", "pgaad-dup")
		if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.DropPrincipal(ctx, o.Name, "") })
		_, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name, Admin: true})
		wantKind(t, err, pgaad.ErrAlreadyExists, "already exists")
		if p, err := c.Principal(ctx, o.Name); err != nil || p.Admin {
			t.Fatalf("the existing role changed: %+v, %v", p, err)
		}
	})
	t.Run("type mismatch rolls back", func(t *testing.T) {
		o := pgtest.NewObject(t, "user", "pgaad-mismatch")
		_, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name, Type: "group"})
		wantKind(t, err, pgaad.ErrTypeMismatch, `Ask for "user"`)
		if pe := (*pgaad.Error)(nil); !errors.As(err, &pe) || pe.Fact.TenantType != "user" || pe.Fact.AskedType != "group" {
			t.Fatalf("want the types as facts, got %+v", pe)
		}
		if pgtest.RoleExists(t, o.Name) {
			t.Fatal("role left behind")
		}
	})
	t.Run("not an Entra principal", func(t *testing.T) {
		name := pgtest.Name("plain role")
		pgtest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{name}.Sanitize())
		t.Cleanup(func() { pgtest.SuperExec(t, "postgres", "DROP ROLE "+pgx.Identifier{name}.Sanitize()) })
		_, err := c.Principal(ctx, name)
		wantKind(t, err, pgaad.ErrNotEntraPrincipal, "plain PostgreSQL role")
	})
	t.Run("dependent objects", func(t *testing.T) {
		o := pgtest.NewObject(t, "user", "pgaad-owner")
		if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: o.Name}); err != nil {
			t.Fatal(err)
		}
		role := pgx.Identifier{o.Name}.Sanitize()
		table := pgx.Identifier{pgtest.Name("owned")}.Sanitize()
		pgtest.SuperExec(t, "postgres", "CREATE TABLE "+table+" (); ALTER TABLE "+table+" OWNER TO "+role)
		// What it owns is named, and nothing changes; droprole.go's tests
		// cover the rest of the clean-up.
		err := c.DropPrincipal(ctx, o.Name, "")
		wantKind(t, err, pgaad.ErrOwnsObjects, "table "+table+` (database "postgres")`)
		if !strings.Contains(err.Error(), "Nothing was changed") {
			t.Fatalf("the error does not say that nothing changed: %v", err)
		}
		wantFact(t, err, pgaad.TopicOwnsObjects, false)
		if !pgtest.RoleExists(t, o.Name) {
			t.Fatal("the role was dropped although it owns a table")
		}
		pgtest.SuperExec(t, "postgres", "DROP TABLE "+table)
		if err := c.DropPrincipal(ctx, o.Name, ""); err != nil {
			t.Fatal(err)
		}
	})
}

// wantFact checks the situation an error tells the provider about.
func wantFact(t *testing.T, err error, topic pgaad.Topic, byObjectID bool) {
	t.Helper()
	var pe *pgaad.Error
	if !errors.As(err, &pe) || pe.Fact.Topic != topic || pe.Fact.ByObjectID != byObjectID {
		t.Fatalf("want fact %q (by object id %v), got %+v", topic, byObjectID, pe)
	}
}

// factOf is the situation err tells the provider about; err must be a
// *pgaad.Error.
func factOf(t *testing.T, err error) pgaad.Fact {
	t.Helper()
	var pe *pgaad.Error
	if !errors.As(err, &pe) {
		t.Fatalf("want a *pgaad.Error, got %v", err)
	}
	return pe.Fact
}

func wantKind(t *testing.T, err, kind error, text string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("want %v, got %v", kind, err)
	}
	if !strings.Contains(err.Error(), text) {
		t.Fatalf("error lacks %q:\n%v", text, err)
	}
}
