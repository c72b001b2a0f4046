package provider_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// pad makes s exactly n bytes long with 'x' (s must be shorter).
func pad(s string, n int) string { return s + strings.Repeat("x", n-len(s)) }

// TestReliabilityHostileNames sends names built to break SQL through every
// path (create by name and by object id, read, both data sources, import,
// drop), with the server logging every statement of the provider's login.
// Each role exists afterwards with exactly its name, a canary role that
// the names try to drop survives, and the log holds only the provider's
// own statements, with names as bound parameters or quoted identifiers.
// Over-long names and NUL are refused at plan time.
func TestReliabilityHostileNames(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	canary := acctest.Name("rel canary")
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{canary}.Sanitize())
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{canary}.Sanitize()) })
	// Every statement of the admin's sessions goes to the server log.
	acctest.SuperExec(t, "postgres", "ALTER ROLE "+pgx.Identifier{admin.Name}.Sanitize()+" SET log_statement = 'all'")

	uniq := acctest.Name("")
	byName := []string{
		"o'brien+" + uniq + "@contoso.com",
		`x"; DROP ROLE ` + pgx.Identifier{canary}.Sanitize() + `; --` + uniq,
		`'); DROP ROLE "` + canary + `"; SELECT ('` + uniq,
		"semi;colon group " + uniq,
		`back\slash $$ dollar $q$ ` + uniq,
		"${var.x} %{ if true }" + uniq,
		"Zoë Ünïcode 東京 🚀 " + uniq,
		pad(strings.Repeat("é", 20)+uniq, 63), // 63 bytes, fewer characters
	}
	for _, n := range byName {
		if _, err := e.AddObject(context.Background(), emulator.Object{Kind: "group", Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	group := acctest.NewObject(t, "group", "rel-oid-group")
	byOID := pad(`Robert'); DROP ROLE "`+canary+`";-- `+uniq, 63)
	all := append(append([]string{}, byName...), byOID)
	for _, n := range all {
		if len(n) > 63 {
			t.Fatalf("test bug: %q is %d bytes", n, len(n))
		}
	}

	var cfg strings.Builder
	cfg.WriteString(acctest.ProviderBlock(admin, ""))
	for i, n := range byName {
		fmt.Fprintf(&cfg, "resource \"azurepg_principal\" \"n%d\" {\n  name = %s\n}\n", i, hclquote.String(n))
	}
	fmt.Fprintf(&cfg, "resource \"azurepg_principal\" \"oid\" {\n  name      = %s\n  type      = \"group\"\n  object_id = %q\n}\n", hclquote.String(byOID), group.ObjectID)
	fmt.Fprintf(&cfg, "data \"azurepg_principal\" \"d\" {\n  name = azurepg_principal.n1.name\n}\n")
	fmt.Fprintf(&cfg, "data \"azurepg_principals\" \"all\" {\n  depends_on = [%s]\n}\n", addresses(len(byName)))
	config := cfg.String()

	logStart := fileSize(t, e.ServerLog())
	rolesExist := func(*terraform.State) error {
		for _, n := range all {
			if !acctest.RoleExists(t, n) {
				return fmt.Errorf("no role named exactly %q", n)
			}
		}
		if !acctest.RoleExists(t, canary) {
			return fmt.Errorf("the canary role %q was dropped", canary)
		}
		return nil
	}
	stateChecks := []statecheck.StateCheck{
		statecheck.ExpectKnownValue("azurepg_principal.oid", tfjsonpath.New("name"), knownvalue.StringExact(byOID)),
		statecheck.ExpectKnownValue("azurepg_principal.oid", tfjsonpath.New("object_id"), knownvalue.StringExact(group.ObjectID)),
		statecheck.ExpectKnownValue("data.azurepg_principal.d", tfjsonpath.New("name"), knownvalue.StringExact(byName[1])),
		statecheck.ExpectKnownValue("data.azurepg_principal.d", tfjsonpath.New("type"), knownvalue.StringExact("group")),
	}
	listed := make([]knownvalue.Check, 0, len(byName))
	for i, n := range byName {
		stateChecks = append(stateChecks,
			statecheck.ExpectKnownValue(fmt.Sprintf("azurepg_principal.n%d", i), tfjsonpath.New("id"), knownvalue.StringExact(n)))
		listed = append(listed, knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(n)}))
	}
	// principals is a list (by name): SetPartial checks that it holds each one.
	stateChecks = append(stateChecks,
		statecheck.ExpectKnownValue("data.azurepg_principals.all", tfjsonpath.New("principals"), knownvalue.SetPartial(listed)))

	tooLong := strings.Repeat("é", 32) // 32 characters, 64 bytes
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			for _, n := range all {
				if acctest.RoleExists(t, n) {
					return fmt.Errorf("role %q survived the destroy", n)
				}
			}
			if !acctest.RoleExists(t, canary) {
				return fmt.Errorf("the canary role %q was dropped", canary)
			}
			return checkStatementLog(t, e, admin.Name, logStart, all)
		},
		Steps: []resource.TestStep{
			{Config: config, ConfigStateChecks: stateChecks, Check: rolesExist},
			{Config: config, ResourceName: "azurepg_principal.n1", ImportState: true, ImportStateId: byName[1], ImportStateVerify: true},
			{Config: config, ResourceName: "azurepg_principal.n7", ImportState: true, ImportStateId: byName[7], ImportStateVerify: true},
			{Config: config, ResourceName: "azurepg_principal.n5", ImportState: true, ImportStateId: byName[5], ImportStateVerify: true},
			{
				Config:      config + "resource \"azurepg_principal\" \"long\" {\n  name = " + hclquote.String(tooLong) + "\n}\n",
				PlanOnly:    true,
				ExpectError: words("Invalid Attribute Value Length", "string length must be between 1 and 63, got: 64"),
			},
			{
				Config:      config + "data \"azurepg_principal\" \"long\" {\n  name = " + hclquote.String(pad("", 64)) + "\n}\n",
				PlanOnly:    true,
				ExpectError: words("string length must be between 1 and 63, got: 64"),
			},
			{
				Config:      config + "resource \"azurepg_principal\" \"nul\" {\n  name = \"a\\u0000b\"\n}\n",
				PlanOnly:    true,
				ExpectError: words("must not contain a NUL character"),
			},
			// The post-test destroy runs with the last step's configuration.
			{Config: config, PlanOnly: true},
		},
	})
	if utf8.RuneCountInString(tooLong) != 32 || len(tooLong) != 64 {
		t.Fatal("test bug: tooLong")
	}
}

func addresses(n int) string {
	var a []string
	for i := range n {
		a = append(a, fmt.Sprintf("azurepg_principal.n%d", i))
	}
	return strings.Join(a, ", ")
}

func fileSize(t *testing.T, file string) int64 {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// providerStatement is every statement the provider may send: names only
// ever travel as $n parameters, or in DROP ROLE as a quoted identifier.
var providerStatement = regexp.MustCompile(`^(` +
	`(statement|execute [^:]+): (begin|commit|rollback|-- ping)` +
	`|execute [^:]+: (SELECT pgaadauth_create_principal\(\$1, \$2, \$3\)` +
	`|SELECT pgaadauth_create_principal_with_oid\(\$1, \$2, \$3, \$4, \$5\)` +
	`|SELECT pg_is_in_recovery\(\)` + // the write path's replica check, once per pool
	`|` + // the principal query starts with a line break
	`)` +
	`|(statement|execute [^:]+): DROP ROLE (?P<role>".*")` +
	`)$`)

// checkStatementLog reads what the server logged for the admin's sessions
// since offset: every statement must be one of the provider's own, and
// every DROP ROLE must name one of the expected roles, quoted.
func checkStatementLog(t *testing.T, e *emulator.Emulator, admin string, offset int64, roles []string) error {
	b, err := os.ReadFile(e.ServerLog())
	if err != nil {
		return err
	}
	if int64(len(b)) < offset {
		offset = 0 // the server restarted and began a new log
	}
	quoted := map[string]bool{}
	for _, r := range roles {
		quoted[pgx.Identifier{r}.Sanitize()] = true
	}
	marker := " " + admin + "@postgres LOG:  "
	statements, drops := 0, 0
	for _, line := range strings.Split(string(b[offset:]), "\n") {
		_, stmt, ok := strings.Cut(line, marker)
		if !ok {
			continue
		}
		statements++
		m := providerStatement.FindStringSubmatch(stmt)
		if m == nil {
			return fmt.Errorf("the provider's login ran a statement that is not one of the provider's: %q", stmt)
		}
		if role := m[providerStatement.SubexpIndex("role")]; role != "" {
			drops++
			if !quoted[role] {
				return fmt.Errorf("DROP ROLE of an unexpected role: %q", stmt)
			}
		}
	}
	if statements < 10 || drops != len(roles) {
		return fmt.Errorf("the server log has %d statements and %d DROP ROLE of the admin; want many and %d", statements, drops, len(roles))
	}
	t.Logf("server log: %d statements of the provider's login, all of the expected forms; %d DROP ROLE, each quoted", statements, drops)
	return nil
}
