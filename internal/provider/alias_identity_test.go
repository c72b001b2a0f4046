package provider_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// Two aliased provider blocks that log in as different identities, used in
// one apply: an Entra admin, whose principals and azure_ai settings must be
// written, and a managed identity that is neither in azure_pg_admin nor in
// azure_ai_settings_manager, whose writes must all be refused.
//
// Terraform starts one provider process per provider configuration, and the
// framework keeps the data of ConfigureProvider per server (the last call
// wins), so each alias must be served by a process of its own for the
// identities to stay apart. terraform-plugin-testing serves every
// configuration from one in-process server instead, which is why alias tests
// run the real CLI here (TestAccAliasSharedServerRepro shows the difference).

const (
	aliasPrincipalsEach = 20
	aliasDatabases      = 4
)

// aliasIdentities makes the admin and the refused identity, each logging
// every statement into the server log (ALTER ROLE ... SET log_statement), so
// that the test can tell from the server's side who ran what.
func aliasIdentities(t *testing.T) (admin, denied emulator.Object) {
	t.Helper()
	admin = acctest.NewAdmin(t)
	denied = acctest.NewObject(t, "managed_identity", "alias-denied")
	acctest.SuperExec(t, "postgres", "SELECT azure_emulator.create_role($1, 'service', $2, false, false)", denied.Name, denied.ObjectID)
	for _, o := range []emulator.Object{admin, denied} {
		acctest.SuperExec(t, "postgres", "ALTER ROLE "+pgx.Identifier{o.Name}.Sanitize()+" SET log_statement = 'all'")
	}
	t.Cleanup(func() {
		acctest.SuperExec(t, "postgres", "ALTER ROLE "+pgx.Identifier{admin.Name}.Sanitize()+" RESET log_statement")
		acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{denied.Name}.Sanitize())
	})
	return admin, denied
}

// aliasVars are the names each identity manages: principals (tenant users
// with quotes, spaces, @ and non-ASCII in their names) and the databases
// whose azure_ai settings both identities write (disjoint keys).
type aliasVars struct {
	AdminNames  []string `json:"admin_names"`
	DeniedNames []string `json:"denied_names"`
	Databases   []string `json:"databases"`
}

func newAliasVars(t *testing.T) aliasVars {
	t.Helper()
	prefix := acctest.Name(`alias o'id "x"; é`)
	v := aliasVars{
		AdminNames:  tenantObjects(t, "user", prefix+" admin", aliasPrincipalsEach),
		DeniedNames: tenantObjects(t, "user", prefix+" denied", aliasPrincipalsEach),
	}
	for i := 0; i < aliasDatabases; i++ {
		v.Databases = append(v.Databases, aiDatabase(t, acctest.Name(fmt.Sprintf(`alias db "%d"`, i)), true))
	}
	t.Cleanup(func() {
		for _, n := range append(append([]string{}, v.AdminNames...), v.DeniedNames...) {
			acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{n}.Sanitize())
		}
	})
	return v
}

// aliasConfig is the configuration of both aliases and their resources;
// variables carry the names.
func aliasConfig(admin, denied emulator.Object) string {
	return `
variable "admin_names" { type = set(string) }
variable "denied_names" { type = set(string) }
variable "databases" { type = set(string) }
` + acctest.ProviderBlock(admin, `alias = "admin"`) + acctest.ProviderBlock(denied, `alias = "denied"`) + `
resource "azurepg_principal" "by_admin" {
  provider = azurepg.admin
  for_each = var.admin_names
  name     = each.value
}

resource "azurepg_principal" "by_denied" {
  provider = azurepg.denied
  for_each = var.denied_names
  name     = each.value
}

resource "azurepg_ai_settings" "by_admin" {
  provider = azurepg.admin
  for_each = var.databases
  database = each.value
  azure_openai {
    endpoint  = "https://admin-alias.openai.azure.com"
    auth_type = "managed-identity"
  }
}

resource "azurepg_ai_settings" "by_denied" {
  provider = azurepg.denied
  for_each = var.databases
  database = each.value
  azure_ml {
    scoring_endpoint = "https://denied-alias.example.com/score"
    auth_type        = "managed-identity"
  }
}
`
}

// aliasOutcome is what the server says happened.
type aliasOutcome struct {
	adminRoles, deniedRoles   int // roles of each list that exist
	adminAI, deniedAI         int // databases where each identity's setting is set
	deniedTriedCreate         int // pgaadauth_create_principal calls of the refused identity, refused (server log)
	deniedTriedAI             int // azure_ai.set_setting calls of the refused identity, refused
	deniedExecuted            int // writes the refused identity executed (must be 0)
	adminNamesByAdmin         int // names of the admin's list that the admin's statements carried
	adminRanDenied            int // statements of the admin that carried a name of the refused identity's list
	deniedRefusedStatements   int // permission denied errors of the refused identity (server log)
	adminRefusedStatements    int // and of the admin (must be 0)
	providerProcessesInLogPID int // distinct provider processes in Terraform's log of the apply

	sample []string // the first lines of the refused identity, for failure messages
}

func (o aliasOutcome) String() string {
	return fmt.Sprintf("roles admin/denied %d/%d, ai settings admin/denied %d/%d; server log: the refused identity tried %d creates "+
		"and %d set_setting (%d permission errors, %d writes executed), the admin's statements carried %d of its names and %d of the other's "+
		"(%d permission errors); %d provider processes",
		o.adminRoles, o.deniedRoles, o.adminAI, o.deniedAI, o.deniedTriedCreate, o.deniedTriedAI, o.deniedRefusedStatements,
		o.deniedExecuted, o.adminNamesByAdmin, o.adminRanDenied, o.adminRefusedStatements, o.providerProcessesInLogPID)
}

// logLine is "<time> [pid] <user>@<db> <LEVEL>:  <message>" (the emulator's
// log_line_prefix); a DETAIL line follows its statement with the parameters.
func aliasServerOutcome(t *testing.T, logFrom int64, admin, denied emulator.Object, v aliasVars) aliasOutcome {
	t.Helper()
	var o aliasOutcome
	for _, n := range v.AdminNames {
		if acctest.RoleExists(t, n) {
			o.adminRoles++
		}
	}
	for _, n := range v.DeniedNames {
		if acctest.RoleExists(t, n) {
			o.deniedRoles++
		}
	}
	for _, db := range v.Databases {
		if aiGet(t, db, "azure_openai.endpoint") != nil {
			o.adminAI++
		}
		if aiGet(t, db, "azure_ml.scoring_endpoint") != nil {
			o.deniedAI++
		}
	}
	f, err := os.Open(acctest.Emulator(t).ServerLog())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(logFrom, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	// A name appears in the log as a quoted parameter value ('' for ').
	quoted := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = "'" + strings.ReplaceAll(n, "'", "''") + "'"
		}
		return out
	}
	adminQ, deniedQ := quoted(v.AdminNames), quoted(v.DeniedNames)
	containsAny := func(line string, qs []string) bool {
		for _, q := range qs {
			if strings.Contains(line, q) {
				return true
			}
		}
		return false
	}
	asAdmin, asDenied := "] "+admin.Name+"@", "] "+denied.Name+"@"
	adminSeen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		write := strings.Contains(line, "pgaadauth_create_principal") || strings.Contains(line, "azure_ai.set_setting")
		switch {
		case strings.Contains(line, asDenied):
			if len(o.sample) < 12 {
				o.sample = append(o.sample, line)
			}
			// A refused call is logged as ERROR then STATEMENT (the
			// permission check comes before log_statement's execute line).
			if strings.Contains(line, "STATEMENT:  SELECT pgaadauth_create_principal(") {
				o.deniedTriedCreate++
			}
			if strings.Contains(line, "STATEMENT:  SELECT azure_ai.set_setting(") {
				o.deniedTriedAI++
			}
			if strings.Contains(line, "LOG:  execute") && write {
				o.deniedExecuted++
			}
			if strings.Contains(line, "ERROR:") && strings.Contains(line, "permission denied") {
				o.deniedRefusedStatements++
			}
		case strings.Contains(line, asAdmin):
			if strings.Contains(line, "ERROR:") && strings.Contains(line, "permission denied") {
				o.adminRefusedStatements++
			}
			// "parameters:" on 15, "Parameters:" from 16 on.
			if strings.Contains(line, "DETAIL:  parameters:") || strings.Contains(line, "DETAIL:  Parameters:") {
				for i, q := range adminQ {
					if strings.Contains(line, q) {
						adminSeen[v.AdminNames[i]] = true
					}
				}
				if containsAny(line, deniedQ) {
					o.adminRanDenied++
				}
			}
		}
	}
	o.adminNamesByAdmin = len(adminSeen)
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return o
}

func logSize(t *testing.T) int64 {
	t.Helper()
	st, err := os.Stat(acctest.Emulator(t).ServerLog())
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// pluginPIDs returns the distinct process ids of provider processes that
// Terraform started, from its TRACE log ("plugin started: path=... pid=N").
var pluginStarted = regexp.MustCompile(`plugin started: path=\S*terraform-provider-azurepg pid=(\d+)`)

func pluginPIDs(t *testing.T, logFile string) []int {
	t.Helper()
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, m := range pluginStarted.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.Atoi(m[1])
		seen[n] = true
	}
	pids := make([]int, 0, len(seen))
	for p := range seen {
		pids = append(pids, p)
	}
	sort.Ints(pids)
	return pids
}

// TestAliasIdentitiesStayApart: with the real CLI (a provider process per
// configuration, as users run it), 2 × 20 principals and 2 × 4 azure_ai
// settings in one apply at -parallelism=10, repeated: every write of the
// admin alias is done by the admin, every write of the other alias is
// refused, and the server log shows no statement run by the wrong identity.
func TestAliasIdentitiesStayApart(t *testing.T) {
	acctest.Emulator(t)
	rounds := 3
	if s := os.Getenv("AZUREPG_ALIAS_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	admin, denied := aliasIdentities(t)
	v := newAliasVars(t)
	w := acctest.NewWorkdir(t, acctest.RequiredProviders+aliasConfig(admin, denied), nil)
	vars, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.Dir, "terraform.tfvars.json"), vars, 0o600); err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= rounds; round++ {
		from := logSize(t)
		r := w.Run("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10")
		if r.Err == nil {
			t.Fatalf("round %d: the apply succeeded, but every write of the refused identity should fail:\n%s", round, r.Stdout)
		}
		refusals := strings.Count(r.Stderr, "Not allowed to manage principals") + strings.Count(r.Stderr, "Not allowed to manage azure_ai settings")
		o := aliasServerOutcome(t, from, admin, denied, v)
		logs, _ := filepath.Glob(filepath.Join(w.Dir, "trace-*-apply.log"))
		sort.Strings(logs)
		o.providerProcessesInLogPID = len(pluginPIDs(t, logs[len(logs)-1]))
		t.Logf("round %d (%s): %s; %d refusals in terraform's output", round, r.Duration.Round(1e7), o, refusals)
		want := aliasOutcome{
			adminRoles: aliasPrincipalsEach, adminAI: aliasDatabases,
			deniedTriedCreate: aliasPrincipalsEach, deniedTriedAI: aliasDatabases,
			deniedRefusedStatements: aliasPrincipalsEach + aliasDatabases, adminNamesByAdmin: aliasPrincipalsEach,
			providerProcessesInLogPID: o.providerProcessesInLogPID,
		}
		if o.String() != want.String() {
			t.Errorf("round %d: got %s\nwant %s\nthe refused identity's first lines in the server log:\n%s\nterraform said:\n%s",
				round, o, want, strings.Join(o.sample, "\n"), r.Stderr)
		}
		if refusals != aliasPrincipalsEach+aliasDatabases {
			t.Errorf("round %d: terraform reported %d refusals, want %d:\n%s", round, refusals, aliasPrincipalsEach+aliasDatabases, r.Stderr)
		}
		// Each alias is a process of its own (plus the processes that
		// Terraform starts only to read the schema and validate).
		if o.providerProcessesInLogPID < 2 {
			t.Errorf("round %d: %d provider processes in the apply's log, want at least one per alias", round, o.providerProcessesInLogPID)
		}
		if t.Failed() {
			return
		}
		w.MustRun("destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=10")
		if n := aliasServerOutcome(t, logSize(t), admin, denied, v); n.adminRoles != 0 || n.adminAI != 0 {
			t.Fatalf("round %d: destroy left %d roles and %d settings of the admin", round, n.adminRoles, n.adminAI)
		}
	}
}

// TestAccAliasSharedServerRepro runs the same two aliases through
// terraform-plugin-testing, whose one in-process server receives both
// ConfigureProvider calls; the framework keeps only the last one's data, so
// every resource runs as whichever alias was configured last. It is a
// reproduction, not a check of the provider: run it with
// AZUREPG_ALIAS_REPRO=<rounds>. It logs, per round, whose identity the
// refused alias's writes ran under, and fails if any round mixed them up.
func TestAccAliasSharedServerRepro(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("AZUREPG_ALIAS_REPRO"))
	if rounds < 1 {
		t.Skip("a reproduction of terraform-plugin-testing's shared provider server: set AZUREPG_ALIAS_REPRO=<rounds>")
	}
	acctest.Emulator(t)
	admin, denied := aliasIdentities(t)
	v := newAliasVars(t)
	tfVars := func(names []string) config.Variable {
		vs := make([]config.Variable, len(names))
		for i, n := range names {
			vs[i] = config.StringVariable(n)
		}
		return config.SetVariable(vs...)
	}
	mixed := 0
	for round := 1; round <= rounds; round++ {
		from := logSize(t)
		// A subtest per round: when every resource ran as the admin, the
		// apply succeeds and plugin-testing fails the round ("expected an
		// error"); the next round still runs.
		t.Run(fmt.Sprintf("round-%d", round), func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProviderFactories,
				Steps: []resource.TestStep{{
					Config: aliasConfig(admin, denied),
					ConfigVariables: config.Variables{
						"admin_names": tfVars(v.AdminNames), "denied_names": tfVars(v.DeniedNames), "databases": tfVars(v.Databases),
					},
					// The refused identity's writes must fail; the test then
					// looks at the server to see who did what.
					ExpectError: regexp.MustCompile(`Not allowed`),
				}},
			})
		})
		o := aliasServerOutcome(t, from, admin, denied, v)
		wrong := o.deniedRoles > 0 || o.deniedAI > 0 || o.adminRoles < aliasPrincipalsEach || o.adminAI < aliasDatabases || o.adminRanDenied > 0 || o.deniedExecuted > 0
		if wrong {
			mixed++
		}
		t.Logf("round %d: %s; mixed up: %v", round, o, wrong)
		// Clean up for the next round.
		for _, n := range append(append([]string{}, v.AdminNames...), v.DeniedNames...) {
			acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{n}.Sanitize())
		}
		for _, db := range v.Databases {
			aiSet(t, db, "azure_openai.endpoint", nil)
			aiSet(t, db, "azure_openai.auth_type", nil)
			aiSet(t, db, "azure_ml.scoring_endpoint", nil)
			aiSet(t, db, "azure_ml.auth_type", nil)
		}
	}
	t.Logf("terraform-plugin-testing with two aliases: identities mixed up in %d of %d rounds", mixed, rounds)
	if mixed > 0 {
		t.Errorf("identities mixed up in %d of %d rounds", mixed, rounds)
	}
}
