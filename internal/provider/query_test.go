package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/docblocks"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// hostilePrincipals makes n Entra principals by hand (the emulator's fast
// path, as the superuser), all named prefix + something hostile: '@',
// spaces, quotes, a semicolon, a backslash, HCL's ${ and %{, non-ASCII.
// Every third one is an admin. They are dropped after the test.
func hostilePrincipals(t *testing.T, prefix string, n int) []string {
	t.Helper()
	tails := []string{`alice@contoso.com`, `app "prod"; DROP ROLE x`, `naïve 數據 ü`, `it's ${var.x} %{if}`, `back\slash`, `two  spaces `}
	var names []string
	for i := range n {
		name := fmt.Sprintf("%s%02d %s", prefix, i, tails[i%len(tails)])
		if len(name) > 63 {
			name = name[:63]
		}
		acctest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, $3, false)",
			name, uuid.NewString(), i%3 == 0)
		names = append(names, name)
	}
	t.Cleanup(func() {
		for _, name := range names {
			acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		}
	})
	return names
}

// likePrefix is a SQL LIKE pattern for names starting with prefix.
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}

// TestAccQueryPrincipalList (Terraform 1.14+): the azurepg_principal list
// resource finds exactly the hand-made principals its filters select, with
// their identity.
func TestAccQueryPrincipalList(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureListResources)
	prefix := acctest.Name("q-list ")
	names := hostilePrincipals(t, prefix, 12)
	like := likePrefix(prefix)
	list := func(name, config string) string {
		return fmt.Sprintf("list \"azurepg_principal\" %q {\n  provider = azurepg\n  config {\n%s\n  }\n}\n", name, config)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{Config: `provider "azurepg" {}`},
			{
				Query: true,
				// The step's config goes to a .tfquery.hcl next to the previous step's .tf (with the provider block).
				Config: list("all", "    name_like = "+hclquote.String(like)) +
					list("admins", "    name_like = "+hclquote.String(like)+"\n    admins_only = true") +
					list("users", "    name_like = "+hclquote.String(like)+"\n    type = \"user\"") +
					list("one", "    name_like = "+hclquote.String(strings.ReplaceAll(names[3], `\`, `\\`))),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("azurepg_principal.all", 12),
					querycheck.ExpectLength("azurepg_principal.admins", 4), // 0, 3, 6, 9
					querycheck.ExpectLength("azurepg_principal.users", 0),
					querycheck.ExpectLength("azurepg_principal.one", 1),
					querycheck.ExpectIdentity("azurepg_principal.one", map[string]knownvalue.Check{
						"host": knownvalue.StringExact(os.Getenv("AZUREPG_HOST")), "port": knownvalue.Null(),
						"name": knownvalue.StringExact(names[3]),
					}),
				},
			},
		},
	})
}

// TestAccQueryGenerateConfig (Terraform 1.14+): `terraform query
// -generate-config-out` over 50 hand-made principals with hostile names
// writes import blocks and configuration; applying it imports all 50 and
// changes nothing, and the next plan is empty. Through the CLI:
// terraform-plugin-testing cannot run -generate-config-out.
func TestAccQueryGenerateConfig(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureListResources)
	prefix := acctest.Name("q-gen ")
	names := hostilePrincipals(t, prefix, 50)
	w := acctest.NewWorkdir(t, cliRequiredProviders+"provider \"azurepg\" {}\n", nil)
	query := fmt.Sprintf("list \"azurepg_principal\" \"hand_made\" {\n  provider = azurepg\n  include_resource = true\n  config {\n    name_like = %s\n  }\n}\n", hclquote.String(likePrefix(prefix)))
	if err := os.WriteFile(filepath.Join(w.Dir, "principals.tfquery.hcl"), []byte(query), 0o600); err != nil {
		t.Fatal(err)
	}
	r := w.MustRun("query", "-no-color", "-generate-config-out=generated.tf")
	for _, n := range []string{names[0], names[3]} {
		if !strings.Contains(r.Stdout, n) {
			t.Errorf("terraform query output does not name %q:\n%s", n, r.Stdout)
		}
	}
	gen, err := os.ReadFile(filepath.Join(w.Dir, "generated.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(gen), "import {"); got != 50 {
		t.Fatalf("generated.tf has %d import blocks, want 50:\n%s", got, gen)
	}
	t.Logf("terraform query over 50 principals: %s", r.Duration)

	// The list block is only for `terraform query`; plan and apply read *.tf.
	r = w.MustRun("apply", "-auto-approve", "-no-color")
	// The import guide shows this apply's last line.
	shown := guideBlocksCheckedBy(t, "import-existing-roles.md", "TestAccQueryGenerateConfig")
	if len(shown) != 1 {
		t.Fatalf("the import guide has %d blocks checked by this test, want 1", len(shown))
	}
	if err := docblocks.Match(shown[0].Text, r.Stdout); err != nil {
		t.Fatalf("apply of the generated configuration, against the import guide's line %d: %v", shown[0].Line, err)
	}
	if r := w.Run("plan", "-detailed-exitcode", "-no-color"); r.Err != nil || !strings.Contains(r.Stdout, "No changes.") {
		t.Fatalf("plan after the import is not empty (%v):\n%s\n%s", r.Err, r.Stdout, r.Stderr)
	}
	for _, n := range names {
		if !acctest.RoleExists(t, n) {
			t.Errorf("role %q is gone", n)
		}
	}
	// The test's cleanup drops the roles, not a destroy: forget the state.
	if err := os.Remove(filepath.Join(w.Dir, "terraform.tfstate")); err != nil {
		t.Fatal(err)
	}
}

// TestAccQueryExtensionList (Terraform 1.14+): the azurepg_extension list
// resource lists one database's extensions, plpgsql included.
func TestAccQueryExtensionList(t *testing.T) {
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureListResources)
	db := extensionTestDatabase(t, true)
	acctest.SuperExec(t, db, "CREATE EXTENSION hstore")
	acctest.SuperExec(t, db, "CREATE EXTENSION citext")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{
			{Config: `provider "azurepg" {}`},
			{
				Query:  true,
				Config: fmt.Sprintf("list \"azurepg_extension\" \"x\" {\n  provider = azurepg\n  config {\n    database = %s\n  }\n}\n", hclquote.String(db)),
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("azurepg_extension.x", 3), // citext, hstore, plpgsql
					querycheck.ExpectIdentity("azurepg_extension.x", map[string]knownvalue.Check{
						"host": knownvalue.StringExact(os.Getenv("AZUREPG_HOST")), "port": knownvalue.Null(), "database": knownvalue.StringExact(db), "name": knownvalue.StringExact("hstore"),
					}),
				},
			},
			{
				Query:       true,
				Config:      "list \"azurepg_extension\" \"x\" {\n  provider = azurepg\n  config {\n    database = \"no such database\"\n  }\n}\n",
				ExpectError: regexp.MustCompile(`Database does not exist`),
			},
		},
	})
}

// TestAccQueryScale measures `terraform query` (and -generate-config-out)
// over AZUREPG_QUERY_SCALE hand-made principals, e.g. 2000; it only logs
// the times (no timing asserts) and skips when the variable is unset.
func TestAccQueryScale(t *testing.T) {
	n := 0
	if _, err := fmt.Sscan(os.Getenv("AZUREPG_QUERY_SCALE"), &n); err != nil || n <= 0 {
		t.Skip("set AZUREPG_QUERY_SCALE=2000 to measure terraform query over that many principals")
	}
	acctest.Emulator(t)
	acctest.Require(t, acctest.FeatureListResources)
	prefix := acctest.Name("q-scale ")
	acctest.SuperExec(t, "postgres", `SELECT azure_emulator.create_role($1 || lpad(i::text, 5, '0'), 'service', gen_random_uuid(), false, false)
		FROM generate_series(1, $2) i`, prefix, n)
	t.Cleanup(func() {
		acctest.SuperExec(t, "postgres", `DO $$ DECLARE r text; BEGIN
			FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'q-scale %' LOOP EXECUTE format('DROP ROLE %I', r); END LOOP; END $$`)
	})
	w := acctest.NewWorkdir(t, cliRequiredProviders+"provider \"azurepg\" {}\n", map[string]string{"TF_LOG": ""})
	query := fmt.Sprintf("list \"azurepg_principal\" \"all\" {\n  provider = azurepg\n  limit = %d\n  config {\n    name_like = %s\n  }\n}\n", n, hclquote.String(likePrefix(prefix)))
	if err := os.WriteFile(filepath.Join(w.Dir, "q.tfquery.hcl"), []byte(query), 0o600); err != nil {
		t.Fatal(err)
	}
	r := w.MustRun("query", "-no-color")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	t.Logf("terraform query over %d principals: %s, %d lines of output; first: %q", n, r.Duration, len(lines), lines[0])
	r = w.MustRun("query", "-no-color", "-generate-config-out=generated.tf")
	t.Logf("terraform query -generate-config-out over %d principals: %s", n, r.Duration)
}
