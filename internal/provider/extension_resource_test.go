package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// extensionTestDatabase creates a database whose name needs quoting
// everywhere, contains '/' (import IDs split at the last one) and is 63
// bytes long. With own, the Entra admin the provider logs in as creates it
// and so owns it, as on Azure, and may create extensions in it; without, the
// superuser creates it, and the admin may not.
func extensionTestDatabase(t *testing.T, own bool) string {
	t.Helper()
	db := acctest.Name(`app/"db"; 數據 @x`)
	db += strings.Repeat("x", 63-len(db)) // PostgreSQL's limit, in bytes
	if own {
		if _, err := acctest.AdminConn(t, "postgres").Exec(context.Background(), "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	} else {
		acctest.SuperExec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	}
	return db
}

// serverExtension is what pg_extension says, read as the superuser:
// schema and version, or "" and "" when the extension is not installed.
func serverExtension(t *testing.T, db, name string) (schema, version string) {
	t.Helper()
	acctest.SuperQueryRow(t, db, `
		SELECT coalesce((SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1), ''),
		       coalesce((SELECT e.extversion FROM pg_extension e WHERE e.extname = $1), '')`,
		[]any{name}, &schema, &version)
	return schema, version
}

func checkServerExtension(t *testing.T, db, name, wantSchema, wantVersion string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		schema, version := serverExtension(t, db, name)
		if schema != wantSchema || version != wantVersion {
			return fmt.Errorf("extension %q in %q on the server: schema %q version %q, want schema %q version %q",
				name, db, schema, version, wantSchema, wantVersion)
		}
		return nil
	}
}

// extensionErrorText matches the given texts in order, whatever the line breaks
// Terraform puts into long diagnostics.
func extensionErrorText(texts ...string) *regexp.Regexp {
	parts := make([]string, len(texts))
	for i, t := range texts {
		parts[i] = strings.Join(strings.Fields(regexp.QuoteMeta(t)), `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

func checkExtensionGone(t *testing.T, db, name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if _, version := serverExtension(t, db, name); version != "" {
			return fmt.Errorf("extension %q is still installed in %q (version %s)", name, db, version)
		}
		return nil
	}
}

// extensionConfig is one azurepg_extension "x" with the given arguments
// (HCL lines), logged in as the emulator's Entra admin.
func extensionConfig(db, name string, lines ...string) string {
	s := fmt.Sprintf("provider \"azurepg\" {}\n\nresource \"azurepg_extension\" \"x\" {\n  database = %q\n  name     = %q\n", db, name)
	for _, l := range lines {
		s += "  " + l + "\n"
	}
	return s + "}\n"
}

// TestAccExtensionAzureAI creates azure_ai at the one version Azure ships on
// the server's major (1.3.1 on 12-17, 2.0.0 on 18) in a hostile database,
// imports it, refuses a version Azure does not ship with PostgreSQL's error
// and the installed version,
// recreates it after an out-of-band drop, keeps it when version leaves the
// configuration, and drops it on destroy. (Azure has no update path between
// azure_ai versions, so an in-place update cannot be shown with it.)
func TestAccExtensionAzureAI(t *testing.T) {
	v := acctest.AzureAIVersion(t, acctest.Emulator(t).PGMajor())
	db := extensionTestDatabase(t, true)
	const addr = "azurepg_extension.x"
	id := db + "/azure_ai"
	pinned := extensionConfig(db, "azure_ai", fmt.Sprintf("version = %q", v))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkExtensionGone(t, db, "azure_ai"),
		Steps: []resource.TestStep{
			{
				Config: pinned,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
						plancheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(id)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("database"), knownvalue.StringExact(db)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("azure_ai")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("schema"), knownvalue.StringExact("azure_ai")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.StringExact(v)),
				},
				Check: checkServerExtension(t, db, "azure_ai", "azure_ai", v),
			},
			{Config: pinned, ResourceName: addr, ImportState: true, ImportStateId: id, ImportStateVerify: true},
			{Config: pinned, ResourceName: addr, ImportState: true, ImportStateId: id, ImportStateKind: resource.ImportBlockWithID},
			{
				// A version Azure does not ship: planned as an update, refused by
				// the server with the versions it has; the installed one stays.
				Config: extensionConfig(db, "azure_ai", `version = "9.9.9"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				ExpectError: extensionErrorText(`no update path from version "`+v+`" to version "9.9.9"`,
					"on this server: "+v+" (default "+v+", used when version is not set)", "no update path to any other version",
					"replace the resource, which drops and creates it: terraform apply -replace=<address>"),
			},
			{
				Config: pinned,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: checkServerExtension(t, db, "azure_ai", "azure_ai", v),
			},
			{
				// Dropped behind Terraform's back: the plan creates it again.
				PreConfig: func() {
					acctest.SuperExec(t, db, "DROP EXTENSION azure_ai")
				},
				Config: pinned,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				Check: checkServerExtension(t, db, "azure_ai", "azure_ai", v),
			},
			{
				// Without version the installed one is kept: nothing to do.
				Config: extensionConfig(db, "azure_ai"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.StringExact(v)),
				},
			},
		},
	})
}

// TestAccExtensionSchema installs hstore, at its default version, in a
// schema with a hostile name made by the superuser, then moves it to public:
// a replacement.
func TestAccExtensionSchema(t *testing.T) {
	acctest.Emulator(t)
	db := extensionTestDatabase(t, true)
	schema := `ext "s"; 數據 @x`
	acctest.SuperExec(t, db, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	acctest.SuperExec(t, db, "GRANT CREATE, USAGE ON SCHEMA "+pgx.Identifier{schema}.Sanitize()+" TO azure_pg_admin")
	const addr = "azurepg_extension.x"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkExtensionGone(t, db, "hstore"),
		Steps: []resource.TestStep{
			{
				Config: extensionConfig(db, "hstore", fmt.Sprintf("schema = %q", schema)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("schema"), knownvalue.StringExact(schema)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.StringExact("1.8")),
				},
				Check: checkServerExtension(t, db, "hstore", schema, "1.8"),
			},
			{Config: extensionConfig(db, "hstore", fmt.Sprintf("schema = %q", schema)), ResourceName: addr,
				ImportState: true, ImportStateId: db + "/hstore", ImportStateVerify: true},
			{
				Config: extensionConfig(db, "hstore", `schema = "public"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: checkServerExtension(t, db, "hstore", "public", "1.8"),
			},
			{
				// Leaving schema out keeps the extension where it is.
				Config: extensionConfig(db, "hstore"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// TestAccExtensionErrors checks the errors users meet: an extension that
// azure.extensions does not allow, a missing database, a version that does
// not exist, a version with no update path, objects that depend on the
// extension at destroy, and bad input caught at plan time.
func TestAccExtensionErrors(t *testing.T) {
	major := acctest.Emulator(t).PGMajor()
	// azure_ai at the version Azure ships on this major, and one it ships on
	// another (1.3.1 on 12-17, 2.0.0 on 18).
	ai, otherAI := acctest.AzureAIVersion(t, major), acctest.OtherAzureAIVersions(t, major)[0]
	db := extensionTestDatabase(t, true)
	missing := acctest.Name(`no such "db"`)
	steps := []resource.TestStep{
		{
			Config: extensionConfig(db, "pg_buffercache"),
			ExpectError: extensionErrorText("not allowed by the server parameter azure.extensions",
				`"pg_buffercache" is not allow-listed`, "azurerm_postgresql_flexible_server_configuration", `name = "azure.extensions"`,
				`value = "PG_BUFFERCACHE"`, "depends_on = [azurerm_postgresql_flexible_server_configuration.extensions]"),
		},
		{
			Config:      extensionConfig(missing, "hstore"),
			ExpectError: extensionErrorText("Database does not exist", "does not exist (SQLSTATE 3D000)", "Create it first"),
		},
		{
			// A version Azure ships on no major.
			Config: extensionConfig(db, "azure_ai", `version = "9.9.9"`),
			ExpectError: extensionErrorText("Extension version not available", "no installation script",
				"on this server: "+ai+" (default "+ai+", used when version is not set)."),
		},
		{
			// The version Azure ships on another major.
			Config:      extensionConfig(db, "azure_ai", fmt.Sprintf("version = %q", otherAI)),
			ExpectError: extensionErrorText("Extension version not available", "no installation script", "on this server: "+ai+" (default "+ai+","),
		},
		{
			Config:      extensionConfig(db, "azure_ai", `schema = "public"`),
			ExpectError: extensionErrorText(`must be installed in schema "azure_ai"`, "leave schema unset or set it to that name"),
		},
		{Config: extensionConfig(db, "azure_ai", fmt.Sprintf("version = %q", ai))},
		{
			Config:      extensionConfig(db, "azure_ai", `version = "1.0.0"`),
			ExpectError: extensionErrorText(`no update path from version "`+ai+`" to version "1.0.0"`, "cannot downgrade", "replace the resource"),
		},
		{
			// A table column of its type keeps hstore from being dropped; nothing is cascaded.
			PreConfig: func() {
				if _, v := serverExtension(t, db, "azure_ai"); v != ai {
					t.Errorf("after the failed update azure_ai is at %q, want %s", v, ai)
				}
			},
			Config: extensionConfig(db, "hstore"),
			Check: func(*terraform.State) error {
				acctest.SuperExec(t, db, "CREATE TABLE keep_me (h public.hstore)")
				return nil
			},
		},
		{
			Config: "provider \"azurepg\" {}\n",
			ExpectError: extensionErrorText("Other objects depend on the extension", "column h of table keep_me depends on type",
				"The provider never drops with CASCADE", "make them depend on this resource so that they are destroyed before it"),
		},
		{
			PreConfig: func() {
				if _, v := serverExtension(t, db, "hstore"); v == "" {
					t.Error("hstore was dropped although a table uses it")
				}
				acctest.SuperExec(t, db, "DROP TABLE keep_me")
			},
			Config: "provider \"azurepg\" {}\n",
			Check:  checkExtensionGone(t, db, "hstore"),
		},
	}
	for _, bad := range []struct{ line, want string }{
		{`name = "a/b"`, `must not contain '/'`},
		{`name = "-x"`, `start or end with '-'`},
		{`name = "a--b"`, `must not contain "--"`},
		{`version = "1--2"`, `must not contain "--"`},
		{`schema = ""`, `string length must be between 1 and 63`},
		{`database = "` + strings.Repeat("é", 32) + `"`, `string length must be between 1 and 63, got: 64`},
	} {
		cfg := fmt.Sprintf("provider \"azurepg\" {}\n\nresource \"azurepg_extension\" \"bad\" {\n  database = %q\n  name = \"hstore\"\n  %s\n}\n", db, bad.line)
		if strings.HasPrefix(bad.line, "database") {
			cfg = fmt.Sprintf("provider \"azurepg\" {}\n\nresource \"azurepg_extension\" \"bad\" {\n  name = \"hstore\"\n  %s\n}\n", bad.line)
		}
		if strings.HasPrefix(bad.line, "name") {
			cfg = fmt.Sprintf("provider \"azurepg\" {}\n\nresource \"azurepg_extension\" \"bad\" {\n  database = %q\n  %s\n}\n", db, bad.line)
		}
		steps = append(steps, resource.TestStep{Config: cfg, PlanOnly: true, ExpectError: extensionErrorText(bad.want)})
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkExtensionGone(t, db, "azure_ai"), checkExtensionGone(t, db, "pg_buffercache")),
		Steps: steps,
	})
}

// TestAccExtensionImportErrors: a malformed import ID and an extension that
// is not installed are errors, not empty imports; an extension that exists
// already says how to import it.
func TestAccExtensionImportErrors(t *testing.T) {
	acctest.Emulator(t)
	db := extensionTestDatabase(t, true)
	acctest.SuperExec(t, db, "CREATE EXTENSION citext")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:       extensionConfig(db, "pg_trgm"),
				ResourceName: "azurepg_extension.x", ImportState: true, ImportStateId: "pg_trgm",
				ExpectError: extensionErrorText("Invalid import ID", "<database>/<extension name>"),
			},
			{
				Config:       extensionConfig(db, "pg_trgm"),
				ResourceName: "azurepg_extension.x", ImportState: true, ImportStateId: "/pg_trgm",
				ExpectError: extensionErrorText("Invalid import ID"),
			},
			{
				Config:       extensionConfig(db, "pg_trgm"),
				ResourceName: "azurepg_extension.x", ImportState: true, ImportStateId: db + "/",
				ExpectError: extensionErrorText("Invalid import ID"),
			},
			{
				Config:       extensionConfig(db, "pg_trgm"),
				ResourceName: "azurepg_extension.x", ImportState: true, ImportStateId: db + "/pg_trgm",
				ExpectError: extensionErrorText("Extension not installed"),
			},
			{
				Config:      extensionConfig(db, "citext"),
				ExpectError: extensionErrorText("Extension already exists", `terraform import 'azurepg_extension.<name>' '`+db+`/citext'`),
			},
			{
				// Imported, but created by another role: only its owner may drop it.
				Config:       extensionConfig(db, "citext"),
				ResourceName: "azurepg_extension.x", ImportState: true, ImportStateId: db + "/citext", ImportStatePersist: true,
			},
			{
				Config:      "provider \"azurepg\" {}\n",
				ExpectError: extensionErrorText("Not allowed to manage the extension", "must be owner of extension citext", "extowner::regrole"),
			},
			{
				PreConfig: func() { acctest.SuperExec(t, db, "DROP EXTENSION citext") },
				Config:    "provider \"azurepg\" {}\n",
			},
		},
	})
}

// TestAccExtensionNoCreatePrivilege: a database the login may not create
// extensions in gets an error that says which privilege is missing.
func TestAccExtensionNoCreatePrivilege(t *testing.T) {
	acctest.Emulator(t)
	db := extensionTestDatabase(t, false)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      extensionConfig(db, "citext"),
			ExpectError: extensionErrorText("Not allowed to manage the extension", "permission denied to create extension", "GRANT CREATE ON DATABASE"),
		}},
	})
}
