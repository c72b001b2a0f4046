package provider_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// schemaDB is a database the Entra admin created (it owns it), two roles the
// admin is a member of (owner, other) and one it is not (stranger, made by
// the superuser). Every name is hostile: 63 bytes, '@', spaces, both
// quotes, ';', '/', '%', non-ASCII.
type schemaDB struct {
	db, owner, other, stranger string
}

func newSchemaDB(t *testing.T) schemaDB {
	t.Helper()
	s := schemaDB{
		db:       acctest.LongName(`sch/db "x"; 50% é @`, 63),
		owner:    acctest.LongName(`owner "o"; ñ @ 'q'`, 63),
		other:    acctest.LongName(`other/"o"; 表 @`, 63),
		stranger: acctest.LongName(`z-stranger "s"; ü @`, 63),
	}
	admin := acctest.AdminConn(t, "postgres")
	for _, sql := range []string{
		"CREATE DATABASE " + qi(s.db),
		"CREATE ROLE " + qi(s.owner),
		"CREATE ROLE " + qi(s.other),
		"GRANT " + qi(s.owner) + " TO CURRENT_USER",
		"GRANT " + qi(s.other) + " TO CURRENT_USER",
	} {
		if _, err := admin.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+qi(s.stranger))
	return s
}

func (s schemaDB) config(blocks ...string) string {
	return "provider \"azurepg\" {}\n\n" + fmt.Sprintf(`locals {
  db       = %s
  owner    = %s
  other    = %s
  stranger = %s
}
`, hclquote.String(s.db), hclquote.String(s.owner), hclquote.String(s.other), hclquote.String(s.stranger)) + strings.Join(blocks, "\n")
}

// schemaBlock is one azurepg_schema in local.db.
func schemaBlock(label, name string, lines ...string) string {
	b := fmt.Sprintf("resource \"azurepg_schema\" %q {\n  database = local.db\n  name     = %s\n", label, hclquote.String(name))
	for _, l := range lines {
		b += "  " + l + "\n"
	}
	return b + "}\n"
}

// serverSchema is the schema as the superuser reads the catalog: its oid
// (0 when there is no such schema), owner and the number of tables in it.
func serverSchema(t *testing.T, db, name string) (oid uint32, owner string, tables int) {
	t.Helper()
	acctest.SuperQueryRow(t, db, `SELECT coalesce(n.oid, 0), coalesce(pg_get_userbyid(n.nspowner)::text, ''),
			(SELECT count(*) FROM pg_tables WHERE schemaname = $1)::int
		FROM (SELECT 1) x LEFT JOIN pg_namespace n ON n.nspname = $1`, []any{name}, &oid, &owner, &tables)
	return oid, owner, tables
}

// checkSchema says whether the server has the schema, owned by owner (""
// for: there is no such schema), with tables tables.
func checkSchema(t *testing.T, db, name, owner string, tables int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		oid, got, n := serverSchema(t, db, name)
		switch {
		case owner == "" && oid != 0:
			return fmt.Errorf("schema %q is still there, owned by %q, with %d tables", name, got, n)
		case owner != "" && oid == 0:
			return fmt.Errorf("schema %q is not on the server", name)
		case owner != "" && (got != owner || n != tables):
			return fmt.Errorf("schema %q: owned by %q with %d tables; want %q with %d", name, got, n, owner, tables)
		}
		return nil
	}
}

// sameOID checks that the schema is still the one first seen (an update in
// place, not a drop and create).
func sameOID(t *testing.T, db, name string, first *uint32) resource.TestCheckFunc {
	return func(*terraform.State) error {
		oid, _, _ := serverSchema(t, db, name)
		if *first == 0 {
			*first = oid
		}
		if oid != *first {
			return fmt.Errorf("schema %q has oid %d, was %d: it was created again", name, oid, *first)
		}
		return nil
	}
}

// TestAccSchema: hostile 63-byte names (the id escapes "/" and "%"); one
// schema for a role the admin is a member of, one without owner (the admin
// owns it); import by ID (state equal, import block plan empty); the owner
// changed in place (same oid); an owner changed by hand is an update back,
// on a schema that sets owner (the other takes what it finds); a schema
// dropped by hand is created again; destroy drops both.
func TestAccSchema(t *testing.T) {
	acctest.Emulator(t)
	s := newSchemaDB(t)
	admin := acctest.Emulator(t).AdminName()
	name := acctest.LongName(`sales/"s"; 'q' @ 100% ö`, 63)
	mine := acctest.LongName(`mine "m"; 表 @`, 63)
	id := escapeID(s.db, name)
	if strings.Count(id, "/") != 1 || !strings.Contains(id, "%2F") || !strings.Contains(id, "%25") {
		t.Fatalf("test id %q does not exercise the escapes", id)
	}
	cfg := func(owner string) string {
		return s.config(schemaBlock("s", name, "owner = "+owner), schemaBlock("mine", mine))
	}
	var oid uint32
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkSchema(t, s.db, name, "", 0), checkSchema(t, s.db, mine, "", 0)),
		Steps: []resource.TestStep{
			{
				Config: cfg("local.owner"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("id"), knownvalue.StringExact(id)),
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("database"), knownvalue.StringExact(s.db)),
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("name"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("owner"), knownvalue.StringExact(s.owner)),
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("drop_cascade"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("azurepg_schema.mine", tfjsonpath.New("owner"), knownvalue.StringExact(admin)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSchema(t, s.db, name, s.owner, 0), checkSchema(t, s.db, mine, admin, 0), sameOID(t, s.db, name, &oid)),
			},
			{Config: cfg("local.owner"), ResourceName: "azurepg_schema.s", ImportState: true, ImportStateVerify: true},
			{Config: cfg("local.owner"), ResourceName: "azurepg_schema.mine", ImportState: true, ImportStateVerify: true},
			{Config: cfg("local.owner"), ResourceName: "azurepg_schema.s", ImportState: true, ImportStateId: id, ImportStateKind: resource.ImportBlockWithID},
			{
				// In place: ALTER SCHEMA ... OWNER TO.
				Config: cfg("local.other"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_schema.s", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("owner"), knownvalue.StringExact(s.other)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(checkSchema(t, s.db, name, s.other, 0), sameOID(t, s.db, name, &oid)),
			},
			{
				// Owners changed by hand: the configured one is set back in
				// place; the schema without owner keeps what it has.
				PreConfig: func() {
					acctest.SuperExec(t, s.db, "ALTER SCHEMA "+qi(name)+" OWNER TO "+qi(s.owner))
					acctest.SuperExec(t, s.db, "ALTER SCHEMA "+qi(mine)+" OWNER TO "+qi(s.other))
				},
				Config: cfg("local.other"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("azurepg_schema.s", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("azurepg_schema.mine", plancheck.ResourceActionNoop),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("owner"), knownvalue.StringExact(s.other)),
					statecheck.ExpectKnownValue("azurepg_schema.mine", tfjsonpath.New("owner"), knownvalue.StringExact(s.other)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSchema(t, s.db, name, s.other, 0), sameOID(t, s.db, name, &oid), checkSchema(t, s.db, mine, s.other, 0)),
			},
			{
				// Dropped by hand: created again.
				PreConfig: func() { acctest.SuperExec(t, s.db, "DROP SCHEMA "+qi(name)) },
				Config:    cfg("local.other"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_schema.s", plancheck.ResourceActionCreate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("id"), knownvalue.StringExact(id)),
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("owner"), knownvalue.StringExact(s.other)),
				},
				Check: checkSchema(t, s.db, name, s.other, 0),
			},
		},
	})
}

// TestAccSchemaDropCascade: destroying a schema that holds tables, with
// drop_cascade unset, fails naming each table (type and schema-qualified
// name) and how many there are, and leaves the schema and its tables; once
// drop_cascade = true is applied (in place, nothing on the server), the
// destroy drops them all.
func TestAccSchemaDropCascade(t *testing.T) {
	acctest.Emulator(t)
	s := newSchemaDB(t)
	name := acctest.LongName(`full "f"; ü @ /`, 63)
	tables := []string{acctest.LongName(`orders "t"; 表 @`, 63), acctest.Name(`lines 'l'; x`)}
	keep := s.config(schemaBlock("s", name, "owner = local.owner"))
	cascade := s.config(schemaBlock("s", name, "owner = local.owner", "drop_cascade = true"))
	withTables := func() {
		acctest.SuperExec(t, s.db, fmt.Sprintf("SET ROLE %s; CREATE TABLE %s.%s (id int); CREATE TABLE %s.%s (id int)",
			qi(s.owner), qi(name), qi(tables[0]), qi(name), qi(tables[1])))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkSchema(t, s.db, name, "", 0),
		Steps: []resource.TestStep{
			{Config: keep, Check: checkSchema(t, s.db, name, s.owner, 0)},
			{
				PreConfig: withTables,
				Config:    keep,
				Destroy:   true,
				ExpectError: words("Schema still holds objects", fmt.Sprintf("dropping schema %q", name), "holds 2 objects:",
					"table "+qi(name)+"."+qi(tables[1]), "table "+qi(name)+"."+qi(tables[0]),
					"Nothing was changed", "drop_cascade = true", "terraform apply"),
			},
			{
				// Still there, tables and all; drop_cascade is only recorded.
				Config: cascade,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_schema.s", plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_schema.s", tfjsonpath.New("drop_cascade"), knownvalue.Bool(true)),
				},
				Check: checkSchema(t, s.db, name, s.owner, 2),
			},
			{Config: cascade, Destroy: true},
		},
	})
}

// TestAccSchemaCannotActAsOwner: the Entra admin is not a superuser. A
// schema for a role it is not a member of fails naming the role and the
// GRANT that allows it, and creates nothing; so does giving an existing
// schema to such a role, which keeps its owner. Once the admin runs the
// GRANT itself, as advised, both apply.
func TestAccSchemaCannotActAsOwner(t *testing.T) {
	acctest.Emulator(t)
	s := newSchemaDB(t)
	admin := acctest.Emulator(t).AdminName()
	name := acctest.LongName(`theirs "t"; ø @`, 63)
	another := acctest.LongName(`another "a"; ß`, 63)
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+qi(another))
	grant := func(role string) func() {
		return func() {
			if _, err := acctest.AdminConn(t, "postgres").Exec(context.Background(), "GRANT "+qi(role)+" TO "+qi(admin)); err != nil {
				t.Fatalf("the advised GRANT: %v", err)
			}
		}
	}
	advice := func(role string) *regexp.Regexp {
		return words("The login cannot act as the owner", "is not a superuser", "Nothing was changed",
			fmt.Sprintf("the new owner %q", role), "GRANT "+qi(role)+" TO "+qi(admin)+";")
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkSchema(t, s.db, name, "", 0),
		Steps: []resource.TestStep{
			{Config: s.config(schemaBlock("s", name, "owner = local.stranger")), ExpectError: advice(s.stranger)},
			{
				PreConfig: func() {
					if err := checkSchema(t, s.db, name, "", 0)(nil); err != nil {
						t.Error("after the failed create: ", err)
					}
				},
				Config: s.config(schemaBlock("s", name, "owner = local.owner")),
				Check:  checkSchema(t, s.db, name, s.owner, 0),
			},
			{
				Config:      s.config(schemaBlock("s", name, "owner = "+hclquote.String(another))),
				ExpectError: advice(another),
			},
			{
				PreConfig: grant(another),
				Config:    s.config(schemaBlock("s", name, "owner = "+hclquote.String(another))),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("azurepg_schema.s", plancheck.ResourceActionUpdate)},
				},
				Check: checkSchema(t, s.db, name, another, 0),
			},
			{
				PreConfig: grant(s.stranger),
				Config:    s.config(schemaBlock("s", name, "owner = local.stranger")),
				Check:     checkSchema(t, s.db, name, s.stranger, 0),
			},
		},
	})
}

// TestAccSchemaErrors: what the plan refuses (a reserved name, owner
// PUBLIC, a name over 63 bytes), an import ID of the wrong shape, the
// import of a schema that does not exist, which says so, the creation of
// one that exists, which says how to import it and leaves it alone, an
// owner that does not exist, and a database where the login lacks CREATE,
// which names the GRANT.
func TestAccSchemaErrors(t *testing.T) {
	acctest.Emulator(t)
	s := newSchemaDB(t)
	missing := acctest.Name(`nowhere "n"`)
	existing := acctest.LongName(`there/"e"; 50% @`, 63)
	acctest.SuperExec(t, s.db, "CREATE SCHEMA "+qi(existing)+" AUTHORIZATION "+qi(s.other))
	// A database the password admin owns: the Entra admin may not create schemas there.
	pwDB := acctest.Name(`pw db "d"; ø`)
	if err := acctest.Emulator(t).CreateDatabase(context.Background(), pwDB); err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{Config: s.config(schemaBlock("s", "pg_mine")), PlanOnly: true, ExpectError: words("Reserved schema name", "start with pg_")},
			{Config: s.config(schemaBlock("s", "ok", `owner = "public"`)), PlanOnly: true, ExpectError: words("PUBLIC cannot own a schema")},
			{Config: s.config(schemaBlock("s", strings.Repeat("é", 32))), PlanOnly: true, ExpectError: words("length must be between 1 and 63")},
			{
				Config:        s.config(schemaBlock("s", missing)),
				ResourceName:  "azurepg_schema.s",
				ImportState:   true,
				ImportStateId: s.db,
				ExpectError:   words("Invalid import ID", "is not <database>/<schema>", "%2F"),
			},
			{
				Config:        s.config(schemaBlock("s", missing)),
				ResourceName:  "azurepg_schema.s",
				ImportState:   true,
				ImportStateId: escapeID(s.db, missing),
				ExpectError:   words("Schema not found", fmt.Sprintf("reading schema %q", missing), "no schema with exactly this name"),
			},
			{
				Config: s.config(schemaBlock("s", existing, "owner = local.owner")),
				ExpectError: words("Schema already exists", "already has a schema of this name",
					"terraform import 'azurepg_schema.<name>' '"+escapeID(s.db, existing)+"'"),
			},
			{
				PreConfig: func() {
					if err := checkSchema(t, s.db, existing, s.other, 0)(nil); err != nil {
						t.Error("after the refused create: ", err)
					}
				},
				Config:   s.config(),
				PlanOnly: true,
			},
			{
				Config: s.config(schemaBlock("s", missing, `owner = "nobody's role"`)),
				ExpectError: words("Role not found", fmt.Sprintf("creating schema %q in database %q, owner", missing, s.db),
					`role "nobody's role" does not exist`, "Create it first"),
			},
			{
				Config: s.config(fmt.Sprintf("resource \"azurepg_schema\" \"s\" {\n  database = %s\n  name     = \"app\"\n}\n", hclquote.String(pwDB))),
				ExpectError: words("Not allowed to manage the schema", fmt.Sprintf("may not create schemas in database %q", pwDB),
					"Nothing was changed", "GRANT CREATE ON DATABASE "+qi(pwDB)+" TO"),
			},
		},
	})
}

// TestAccIdentitySchema (Terraform 1.12+): azurepg_schema carries the host,
// the database and the name as its identity, and imports from an import
// block's identity.
func TestAccIdentitySchema(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureIdentity)
	s := newSchemaDB(t)
	name := acctest.LongName(`id/"s"; 100% @`, 63)
	cfg := s.config(schemaBlock("s", name, "owner = local.owner"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity("azurepg_schema.s", map[string]knownvalue.Check{
						"host": knownvalue.StringExact(os.Getenv("AZUREPG_HOST")), "port": knownvalue.Null(), "database": knownvalue.StringExact(s.db),
						"name": knownvalue.StringExact(name),
					}),
				},
			},
			{Config: cfg, ResourceName: "azurepg_schema.s", ImportState: true, ImportStateKind: resource.ImportBlockWithResourceIdentity},
		},
	})
}
