package pgaad_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/entratoken"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// TestReadOnlyServer: on a read-only server (as Azure makes one whose
// storage is 95% full; pgtest.SetReadOnly says how the emulator does it)
// reads work, and every change fails at once with SQLSTATE 25006 told as
// ErrReadOnly with its advice, is not retried, and changes nothing. Once
// the server is writable again the same client makes the changes.
//
// Not parallel: it makes the test binary's shared server read-only.
func TestReadOnlyServer(t *testing.T) {
	e := pgtest.Emulator(t)
	ctx := context.Background()
	src, err := entratoken.New(entratoken.Settings{Method: "managed_identity"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs []string
	c := pgaad.NewClient(pgaad.Config{Host: e.Host(), Port: e.Port(), Username: e.AdminName(), SSLMode: "verify-full", SSLRootCert: e.CAFile(),
		Password: src.Password, Entra: true, Log: func(_ context.Context, msg string, _ map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, msg)
		}})
	t.Cleanup(c.Close)

	mi := pgtest.NewObject(t, "managed_identity", "ro-mi")
	existing := pgtest.LongName(`ro "exists" @ é; 'x' `, 63)
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: existing, ObjectID: mi.ObjectID, Type: "service"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(context.Background(), existing, "") })
	user := pgtest.NewObject(t, "user", `ro "new" ü; 'q'`)
	plain := pgtest.LongName(`ro plain "r" @ ß; `, 63)

	pgtest.SetReadOnly(t, e, true)

	// Reads work.
	p, err := c.Principal(ctx, existing)
	if err != nil || p.ObjectID != mi.ObjectID || p.MFA {
		t.Fatalf("reading a principal of a read-only server: %+v, %v", p, err)
	}
	if all, err := c.ListPrincipals(ctx, false); err != nil || !contains(all, existing) {
		t.Fatalf("listing the principals of a read-only server: %v (%d listed)", err, len(all))
	}

	// Every kind of change fails the same way, naming its object.
	readOnly := func(what, name string, err error) {
		t.Helper()
		if !errors.Is(err, pgaad.ErrReadOnly) {
			t.Fatalf("%s on a read-only server: %v, want ErrReadOnly", what, err)
		}
		var pe *pgaad.Error
		if !errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicReadOnly || pe.Advice != pgaad.ReadOnlyAdvice {
			t.Fatalf("%s: fact %+v, advice %q", what, pe.Fact, pe.Advice)
		}
		for _, want := range []string{"read-only transaction (SQLSTATE 25006)", "The server is read-only", "nothing was changed",
			"95% of its storage is used or less than 5 GiB are free", "read replica", "--storage-auto-grow Enabled", "It is not retried"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: the error lacks %q:\n%v", what, want, err)
			}
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("%s: the error does not name %q:\n%v", what, name, err)
		}
	}
	_, err = c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: user.Name, MFA: true})
	readOnly("creating a principal", user.Name, err)
	_, err = c.UpdatePrincipal(ctx, pgaad.PrincipalChange{Name: existing, Admin: true})
	readOnly("making a principal an admin", existing, err)
	readOnly("dropping a principal", existing, c.DropPrincipal(ctx, existing, ""))
	_, err = c.CreateRole(ctx, pgaad.RoleChange{Role: pgaad.Role{Name: plain}})
	readOnly("creating a role", plain, err)
	_, err = c.GrantMembership(ctx, pgaad.Membership{Role: existing, Member: e.AdminName()})
	readOnly("granting a membership", existing, err)

	// Nothing happened on the server, and nothing was tried twice.
	for _, name := range []string{user.Name, plain} {
		if pgtest.RoleExists(t, name) {
			t.Errorf("role %q exists after a refused change", name)
		}
	}
	if p, err := c.Principal(ctx, existing); err != nil || p.Admin || p.ObjectID != mi.ObjectID {
		t.Errorf("after the refused changes: %+v, %v; want the principal unchanged", p, err)
	}
	if m, err := c.Membership(ctx, existing, e.AdminName()); !errors.Is(err, pgaad.ErrNotFound) {
		t.Errorf("membership after a refused grant: %+v, %v", m, err)
	}
	mu.Lock()
	for _, l := range logs {
		if strings.Contains(l, "retrying") || strings.Contains(l, "waiting") {
			t.Errorf("a read-only server's refusal was retried or waited for: %q", l)
		}
	}
	mu.Unlock()

	// Writable again: the same client converges.
	pgtest.SetReadOnly(t, e, false)
	if _, err := c.CreatePrincipal(ctx, pgaad.NewPrincipal{Name: user.Name, MFA: true}); err != nil {
		t.Fatalf("creating the principal once the server is writable: %v", err)
	}
	t.Cleanup(func() { _ = c.DropPrincipal(context.Background(), user.Name, "") })
	if _, err := c.UpdatePrincipal(ctx, pgaad.PrincipalChange{Name: existing, Admin: true}); err != nil {
		t.Fatalf("making the principal an admin once the server is writable: %v", err)
	}
	if p, err := c.Principal(ctx, user.Name); err != nil || !p.MFA || p.ObjectID != user.ObjectID {
		t.Fatalf("read back: %+v, %v", p, err)
	}
}

// TestReadOnlyServerEveryWrite: the writes of every other domain (grants,
// default privileges, schemas, extensions, azure_ai settings, plain roles,
// the actions' REASSIGN OWNED) fail on a read-only server as ErrReadOnly,
// whatever their own rules make of a failure, and their reads work. Names
// are hostile; the server is checked unchanged afterwards.
//
// Not parallel: it makes the test binary's shared server read-only.
func TestReadOnlyServerEveryWrite(t *testing.T) {
	e := pgtest.Emulator(t)
	c := adminClient(t)
	ctx := context.Background()
	db := pgtest.LongName(`ro db "d" @ é; 'x' `, 63)
	pgtest.SuperExec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	t.Cleanup(func() {
		c.Close()
		pgtest.SuperExec(t, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	})
	pgtest.SuperExec(t, "postgres", "GRANT CREATE ON DATABASE "+pgx.Identifier{db}.Sanitize()+" TO azure_pg_admin")
	pgtest.SuperExec(t, db, "CREATE EXTENSION azure_ai")
	pgtest.SuperExec(t, db, "GRANT azure_ai_settings_manager TO azure_pg_admin")
	role := pgtest.LongName(`ro role "r" @ ü; 'y' `, 63)
	if _, err := c.CreateRole(ctx, pgaad.RoleChange{Role: pgaad.Role{Name: role}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.DropRole(context.Background(), pgaad.DropRole{Name: role}) })
	schema := pgtest.LongName(`ro schema "s" ß; `, 63)
	if _, err := c.CreateSchema(ctx, db, schema, ""); err != nil {
		t.Fatal(err)
	}
	// The admin's own schema: the database belongs to the superuser, on
	// which the admin cannot grant (another error than the one tested).
	grant := pgaad.GrantTarget{Role: role, Database: db, ObjectType: pgaad.ObjectTypeSchema, Schema: schema}
	newSchema := pgtest.Name(`ro new "schema"`)
	defaults := pgaad.DefaultPrivilegesTarget{Role: role, Database: db, Owner: e.AdminName(), Schema: schema, ObjectType: pgaad.ObjectTypeTable}
	endpoint := "https://readonly.openai.azure.com"

	pgtest.SetReadOnly(t, e, true)

	if g, err := c.ReadGrant(ctx, grant); err != nil || len(g.Privileges) != 0 {
		t.Fatalf("reading a grant on a read-only server: %+v, %v", g, err)
	}
	if _, err := c.Schema(ctx, db, schema); err != nil {
		t.Fatalf("reading a schema on a read-only server: %v", err)
	}
	if _, _, err := c.AISettingsOverview(ctx, db); err != nil {
		t.Fatalf("reading azure_ai settings on a read-only server: %v", err)
	}
	writes := map[string]func() error{
		"granting": func() error {
			_, err := c.ApplyGrant(ctx, grant, []string{"USAGE"}, false)
			return err
		},
		"default privileges": func() error {
			_, err := c.ApplyDefaultPrivileges(ctx, defaults, []string{"SELECT"}, false)
			return err
		},
		"creating a schema": func() error {
			_, err := c.CreateSchema(ctx, db, newSchema, "")
			return err
		},
		"dropping a schema": func() error { return c.DropSchema(ctx, db, schema, false) },
		"creating an extension": func() error {
			_, err := c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "hstore"})
			return err
		},
		"azure_ai settings": func() error {
			return c.ApplyAISettings(ctx, db, []pgaad.AISettingChange{{Key: pgaad.AIOpenAIEndpoint, Value: &endpoint}})
		},
		"dropping a role":   func() error { return c.DropRole(ctx, pgaad.DropRole{Name: role}) },
		"reassigning owned": func() error { return c.ReassignOwned(ctx, db, pgaad.Reassign{Role: role, DropOwned: true}) },
	}
	for what, write := range writes {
		err := write()
		var pe *pgaad.Error
		if !errors.Is(err, pgaad.ErrReadOnly) || !errors.As(err, &pe) || pe.Fact.Topic != pgaad.TopicReadOnly ||
			!strings.Contains(err.Error(), "(SQLSTATE 25006)") {
			t.Errorf("%s on a read-only server: %v, want ErrReadOnly with its advice", what, err)
		}
	}

	pgtest.SetReadOnly(t, e, false)
	if g, err := c.ReadGrant(ctx, grant); err != nil || len(g.Privileges) != 0 {
		t.Errorf("after the refused grant: %+v, %v", g, err)
	}
	if _, err := c.Schema(ctx, db, schema); err != nil {
		t.Errorf("the schema after a refused drop: %v", err)
	}
	if _, err := c.Schema(ctx, db, newSchema); !errors.Is(err, pgaad.ErrNotFound) {
		t.Errorf("a schema whose creation was refused: %v, want ErrNotFound", err)
	}
	if _, err := c.Extension(ctx, db, "hstore"); !errors.Is(err, pgaad.ErrNotFound) {
		t.Errorf("an extension whose creation was refused: %v, want ErrNotFound", err)
	}
	if vals, _, err := c.AISettingsOverview(ctx, db); err != nil || vals[pgaad.AIOpenAIEndpoint] != "" {
		t.Errorf("azure_ai settings after a refused change: %v, %v", vals, err)
	}
	if !pgtest.RoleExists(t, role) {
		t.Errorf("role %q was dropped on a read-only server", role)
	}
	// Writable again: the grant goes through.
	if g, err := c.ApplyGrant(ctx, grant, []string{"USAGE"}, false); err != nil || len(g.Privileges) != 1 {
		t.Errorf("granting once the server is writable: %+v, %v", g, err)
	}
}
