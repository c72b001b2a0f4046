package pgaad_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/pgtest"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// extensionDatabase creates a database with a name that needs quoting
// everywhere (and a '/', as import IDs split on the last one). With own, the
// Entra admin creates it and so owns it, as on Azure, and may create
// extensions in it; without, the superuser creates it.
func extensionDatabase(t *testing.T, own bool) string {
	t.Helper()
	db := pgtest.Name(`ext/app "db"; 數據 @x`)
	if own {
		if _, err := pgtest.AdminConn(t, "postgres").Exec(context.Background(), "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	} else {
		pgtest.SuperExec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	}
	return db
}

func wantExtKind(t *testing.T, err, kind error, texts ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got %v, want %v", err, kind)
	}
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q:\n%v", s, err)
		}
	}
	noTerraformWords(t, err)
}

// noTerraformWords checks that pgaad's text speaks in database and Azure
// terms: the provider words the advice in Terraform's.
func noTerraformWords(t *testing.T, err error) {
	t.Helper()
	for _, w := range []string{"resource \"", "azurerm_", "azurepg_", "depends_on", "depend on this resource", "replace the resource",
		"the provider's", "unset", "is not set"} {
		if strings.Contains(err.Error(), w) {
			t.Errorf("pgaad's text names Terraform's %q:\n%v", w, err)
		}
	}
}

func TestExtensionLifecycle(t *testing.T) {
	c := adminClient(t)
	ctx := context.Background()
	db := extensionDatabase(t, true)

	// Azure ships one azure_ai version per major (1.3.1 on 12-17, 2.0.0 on
	// 18), with no update path.
	major := pgtest.Emulator(t).PGMajor()
	v := pgtest.AzureAIVersion(t, major)
	versions := "on this server: " + v + " (default " + v + "," // v and no other
	others := pgtest.OtherAzureAIVersions(t, major)
	for _, other := range append([]string{"1.1.0"}, others...) {
		_, err := c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "azure_ai", Version: other})
		wantExtKind(t, err, pgaad.ErrExtensionVersion, "no installation script", versions)
	}
	x, err := c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "azure_ai", Version: v})
	want := pgaad.Extension{Database: db, Name: "azure_ai", Schema: "azure_ai", Version: v}
	if err != nil || x != want {
		t.Fatalf("created %+v, %v; want %+v", x, err, want)
	}
	if got, err := c.Extension(ctx, db, "azure_ai"); err != nil || got != want {
		t.Fatalf("read %+v, %v; want %+v", got, err, want)
	}
	_, err = c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "azure_ai"})
	wantExtKind(t, err, pgaad.ErrAlreadyExists, `extension "azure_ai" already exists`)

	for _, other := range append([]string{"9.9"}, others...) {
		_, err = c.UpdateExtension(ctx, db, "azure_ai", other)
		wantExtKind(t, err, pgaad.ErrExtensionVersion, `no update path from version "`+v+`" to version "`+other+`"`,
			versions, "no update path to any other version", "drop it and create it at the version wanted")
		if f := factOf(t, err); f.Topic != pgaad.TopicExtensionVersions || f.Installed != v || len(f.UpdateTargets) != 0 ||
			!slices.Equal(f.Versions, []string{v}) || f.DefaultVersion != v {
			t.Errorf("fact %+v, want the versions, %s installed and no update target", f, v)
		}
	}
	// Updating to the installed version changes nothing.
	if x, err = c.UpdateExtension(ctx, db, "azure_ai", v); err != nil || x != want {
		t.Fatalf("updated %+v, %v; want %+v", x, err, want)
	}
	var extversion string
	pgtest.SuperQueryRow(t, db, "SELECT extversion FROM pg_extension WHERE extname = 'azure_ai'", nil, &extversion)
	if extversion != v {
		t.Fatalf("server says %s, want %s", extversion, v)
	}
	_, err = c.UpdateExtension(ctx, db, "azure_ai", "1.0.0")
	wantExtKind(t, err, pgaad.ErrExtensionVersion, "no update path to any other version")

	if err := c.DropExtension(ctx, db, "azure_ai"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Extension(ctx, db, "azure_ai")
	wantExtKind(t, err, pgaad.ErrNotFound)
	if err := c.DropExtension(ctx, db, "azure_ai"); err != nil {
		t.Fatalf("dropping again: %v", err)
	}
}

func TestExtensionErrors(t *testing.T) {
	c := adminClient(t)
	ctx := context.Background()
	db := extensionDatabase(t, true)

	_, err := c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "pg_buffercache"})
	wantExtKind(t, err, pgaad.ErrExtensionNotAllowed, `"pg_buffercache" is not allow-listed`,
		"azure.extensions", `Add "pg_buffercache" to that list, as PG_BUFFERCACHE`, "az postgres flexible-server parameter set")
	if f := factOf(t, err); f.Topic != pgaad.TopicNotAllowListed {
		t.Errorf("fact %+v, want %q", f, pgaad.TopicNotAllowListed)
	}

	_, err = c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "hstore", Version: "0.1"})
	wantExtKind(t, err, pgaad.ErrExtensionVersion, "no installation script", "1.4, 1.5, 1.6, 1.7, 1.8 (default 1.8, installed when no VERSION is given).")
	if f := factOf(t, err); f.Topic != pgaad.TopicExtensionVersions || f.DefaultVersion != "1.8" || f.Installed != "" ||
		!slices.Contains(f.Versions, "1.8") {
		t.Errorf("fact %+v, want hstore's versions, default 1.8, none installed", f)
	}

	_, err = c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "hstore", Schema: "no such schema"})
	wantExtKind(t, err, pgaad.ErrExtensionSchema, `schema "no such schema" does not exist`, "Create the schema first",
		"without a SCHEMA clause")
	if f := factOf(t, err); f.Topic != pgaad.TopicSchemaMissing {
		t.Errorf("fact %+v, want %q", f, pgaad.TopicSchemaMissing)
	}

	_, err = c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "azure_ai", Schema: "public"})
	wantExtKind(t, err, pgaad.ErrExtensionSchema, `must be installed in schema "azure_ai"`, "without a SCHEMA clause or with that schema")
	if f := factOf(t, err); f.Topic != pgaad.TopicNotRelocatable {
		t.Errorf("fact %+v, want %q", f, pgaad.TopicNotRelocatable)
	}

	missing := pgtest.Name("no such db")
	_, err = c.CreateExtension(ctx, pgaad.NewExtension{Database: missing, Name: "hstore"})
	wantExtKind(t, err, pgaad.ErrDatabaseMissing, "3D000", "Create it first", missing)
	_, err = c.Extension(ctx, missing, "hstore")
	wantExtKind(t, err, pgaad.ErrDatabaseMissing)
	if err := c.DropExtension(ctx, missing, "hstore"); err != nil {
		t.Fatalf("dropping in a missing database: %v", err)
	}

	// Objects that depend on the extension stop the drop; nothing is cascaded.
	schema := `s "x"; 數據`
	pgtest.SuperExec(t, db, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()+" AUTHORIZATION azure_pg_admin")
	x, err := c.CreateExtension(ctx, pgaad.NewExtension{Database: db, Name: "hstore", Schema: schema})
	if err != nil || x.Schema != schema || x.Version != "1.8" {
		t.Fatalf("created %+v, %v", x, err)
	}
	pgtest.SuperExec(t, db, "CREATE TABLE keep_me (h "+pgx.Identifier{schema, "hstore"}.Sanitize()+")")
	err = c.DropExtension(ctx, db, "hstore")
	wantExtKind(t, err, pgaad.ErrDependentObjects, "2BP01", "column h of table keep_me depends on type", "never dropped with CASCADE",
		"then drop the extension again")
	if f := factOf(t, err); f.Topic != pgaad.TopicExtensionInUse {
		t.Errorf("fact %+v, want %q", f, pgaad.TopicExtensionInUse)
	}
	if strings.Contains(err.Error(), "Use DROP ... CASCADE") {
		t.Errorf("the error passes on the server's advice to CASCADE:\n%v", err)
	}
	var n int
	pgtest.SuperQueryRow(t, db, "SELECT count(*) FROM pg_extension WHERE extname = 'hstore'", nil, &n)
	if n != 1 {
		t.Fatal("hstore was dropped")
	}

	// A database where the admin may not create anything.
	locked := extensionDatabase(t, false)
	_, err = c.CreateExtension(ctx, pgaad.NewExtension{Database: locked, Name: "citext"})
	wantExtKind(t, err, pgaad.ErrPermissionDenied, "permission denied", "GRANT CREATE ON DATABASE")
}
