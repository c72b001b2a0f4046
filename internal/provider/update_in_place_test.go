package provider_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// everyTypeConfig holds one resource of each of the provider's eight types,
// each with an argument that v changes in place: admin (principal),
// connection_limit and the password's write-only version (role), version
// (extension hstore 1.6, 1.7, 1.8: PostgreSQL cannot downgrade one), the endpoint and the write-only key's
// version (azure_ai settings), with_admin_option (membership), the
// privileges of a grant and of default privileges, the owner of a schema.
func everyTypeConfig(a accessDB, principal, objectID, role string, v int) string {
	second := v%2 == 0
	pick := func(one, two string) string {
		if second {
			return two
		}
		return one
	}
	return acctest.RequiredProviders + a.config(fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name      = %[1]s
  type      = "service"
  object_id = %[2]q
  admin     = %[3]t
}

resource "azurepg_role" "r" {
  name                = %[4]s
  login               = true
  connection_limit    = %[5]s
  password_wo         = "pw-%[6]d-of-the-in-place-test"
  password_wo_version = %[6]d
}

resource "azurepg_extension" "x" {
  database = local.db
  name     = "hstore"
  version  = %[7]q
}

resource "azurepg_ai_settings" "s" {
  database = local.db
  azure_openai {
    endpoint                    = %[8]q
    auth_type                   = "subscription-key"
    subscription_key_wo         = "key-%[6]d-of-the-in-place-test"
    subscription_key_wo_version = %[6]d
  }
}

resource "azurepg_role_membership" "m" {
  role              = azurepg_role.r.name
  member            = azurepg_principal.p.name
  with_admin_option = %[3]t
}

resource "azurepg_grant" "g" {
  role        = local.grantee
  database    = local.db
  object_type = "database"
  privileges  = %[9]s
}

resource "azurepg_default_privileges" "d" {
  role        = local.grantee
  database    = local.db
  owner       = local.owner
  object_type = "sequence"
  privileges  = %[10]s
}

resource "azurepg_schema" "s" {
  database = local.db
  name     = %[11]s
  owner    = %[12]s
}
`, hclquote.String(principal), objectID, second, hclquote.String(role), pick("2", "3"), v,
		fmt.Sprintf("1.%d", 5+v), pick("https://one.openai.azure.com", "https://two.openai.azure.com"),
		pick(`["CONNECT"]`, `["CONNECT", "TEMPORARY"]`), pick(`["USAGE"]`, `["SELECT", "USAGE"]`),
		hclquote.String(everyTypeSchema), pick("local.owner", "azurepg_role.r.name")))
}

var everyType = []string{
	"azurepg_principal.p", "azurepg_role.r", "azurepg_extension.x", "azurepg_ai_settings.s",
	"azurepg_role_membership.m", "azurepg_grant.g", "azurepg_default_privileges.d", "azurepg_schema.s",
}

// everyTypeSchema is the schema of everyTypeConfig, in its own database.
const everyTypeSchema = `upd "s"; ö`

// TestAccUpdateInPlaceEveryType changes one resource of every type in place
// through the CLI under test, Terraform or OpenTofu (`make testacc-tofu`):
// the plan updates all eight and replaces none, the server has the change,
// and where the CLI stores resource identity (Terraform and OpenTofu 1.12+)
// every identity is in the state. Then the identities are taken out of the
// state, as a CLI before 1.12 leaves it, and `apply -refresh=false` changes
// the arguments again: the framework fails such an update with "Missing Resource
// Identity After Update" unless the provider's Update writes the identity
// itself (what broke providers under OpenTofu: SAP/terraform-provider-btp
// #1383, cloudfoundry/terraform-provider-cloudfoundry #418). A plan after
// it is empty.
func TestAccUpdateInPlaceEveryType(t *testing.T) {
	acctest.Emulator(t)
	t.Parallel()
	cli := acctest.CLI(acctest.TerraformPath())
	storesIdentity, _ := cli.Has(acctest.FeatureIdentity)
	a := newAccessDB(t)
	acctest.SuperExec(t, a.db, "CREATE EXTENSION azure_ai")
	principal := acctest.Name(`upd "p"; é @`)
	oid := acctest.NewObject(t, "managed_identity", "acc-upd-mi").ObjectID
	role := name63(`upd role "r"; ü`)

	w := acctest.NewWorkdir(t, everyTypeConfig(a, principal, oid, role, 1), nil)
	w.MustRun("apply", "-auto-approve", "-no-color", "-input=false")
	t.Cleanup(func() {
		if r := w.Run("destroy", "-auto-approve", "-no-color", "-input=false"); r.Err != nil {
			t.Errorf("destroy: %v\n%s\n%s", r.Err, r.Stdout, r.Stderr)
		}
	})
	checkEveryType(t, a, principal, role, 1)

	for _, step := range []struct {
		v       int
		args    []string
		noIdent bool // take the identities out of the state first
	}{
		{v: 2},
		{v: 3, args: []string{"-refresh=false"}, noIdent: true},
	} {
		if step.noIdent {
			stripIdentities(t, w.Dir)
		}
		w.SetConfig(everyTypeConfig(a, principal, oid, role, step.v))
		planActions(t, w, step.args, "update")
		r := w.MustRun("apply", "-auto-approve", "-no-color", "-input=false", "saved.tfplan")
		if !strings.Contains(r.Stdout, "0 added, 8 changed, 0 destroyed") {
			t.Fatalf("apply of version %d (%s) did not change the eight in place:\n%s", step.v, cli, r.Stdout)
		}
		checkEveryType(t, a, principal, role, step.v)
		got := stateIdentities(t, w.Dir)
		for _, addr := range everyType {
			switch {
			case storesIdentity && got[addr] == "":
				t.Errorf("%s: no identity in the state after the update of version %d on %s", addr, step.v, cli)
			case storesIdentity && !strings.Contains(got[addr], `"host":`):
				t.Errorf("%s: identity %s has no host", addr, got[addr])
			case !storesIdentity && got[addr] != "":
				t.Errorf("%s: identity %s in the state of %s, which does not store identities", addr, got[addr], cli)
			}
		}
	}
	if r := w.Run("plan", "-detailed-exitcode", "-no-color", "-input=false"); r.Err != nil {
		t.Fatalf("plan after the updates on %s is not empty (%v):\n%s\n%s", cli, r.Err, r.Stdout, r.Stderr)
	}
}

// planActions saves a plan (extra args, e.g. -refresh=false) and fails
// unless every resource of everyType has exactly the action want.
func planActions(t *testing.T, w *acctest.Workdir, args []string, want string) {
	t.Helper()
	var plan struct {
		ResourceChanges []struct {
			Address string
			Change  struct{ Actions []string }
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(w.PlanJSON(args...), &plan); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rc := range plan.ResourceChanges {
		got[rc.Address] = strings.Join(rc.Change.Actions, ",")
	}
	for _, addr := range everyType {
		if got[addr] != want {
			t.Errorf("%s: planned %q, want %q", addr, got[addr], want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkEveryType checks on the server what version v of everyTypeConfig set.
func checkEveryType(t *testing.T, a accessDB, principal, role string, v int) {
	t.Helper()
	second := v%2 == 0
	if got := readRoleRights(t, principal).member; got != second {
		t.Errorf("principal: member of azure_pg_admin %t, want %t", got, second)
	}
	var limit int
	var adminOption bool
	acctest.SuperQueryRow(t, "postgres", `SELECT r.rolconnlimit,
		coalesce((SELECT bool_or(m.admin_option) FROM pg_auth_members m JOIN pg_roles p ON p.oid = m.member
		          WHERE m.roleid = r.oid AND p.rolname = $2), false)
		FROM pg_roles r WHERE r.rolname = $1`, []any{role, principal}, &limit, &adminOption)
	if want := map[bool]int{false: 2, true: 3}[second]; limit != want {
		t.Errorf("role: connection limit %d, want %d", limit, want)
	}
	if adminOption != second {
		t.Errorf("membership: admin option %t, want %t", adminOption, second)
	}
	if _, version := serverExtension(t, a.db, "hstore"); version != fmt.Sprintf("1.%d", 5+v) {
		t.Errorf("extension: hstore %q, want 1.%d", version, 5+v)
	}
	endpoint := map[bool]string{false: "https://one.openai.azure.com", true: "https://two.openai.azure.com"}[second]
	key := fmt.Sprintf("key-%d-of-the-in-place-test", v)
	if err := checkAISettings(t, a.db, map[string]*string{"azure_openai.endpoint": &endpoint, "azure_openai.subscription_key": &key})(nil); err != nil {
		t.Errorf("azure_ai settings: %v", err)
	}
	wantDB, wantSeq := []string{"CONNECT"}, []string{"USAGE"}
	if second {
		wantDB, wantSeq = []string{"CONNECT", "TEMPORARY"}, []string{"SELECT", "USAGE"}
	}
	gotDB := privilegesOn(t, a.db, `SELECT d.datacl, $2::text FROM pg_database d WHERE d.datname = $1`, a.db, a.grantee)
	if !slices.Equal(gotDB, wantDB) {
		t.Errorf("grant: the database's privileges %v, want %v", gotDB, wantDB)
	}
	gotSeq := privilegesOn(t, a.db, `SELECT d.defaclacl, $2::text FROM pg_default_acl d
		WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND d.defaclnamespace = 0 AND d.defaclobjtype = 'S'`,
		a.owner, a.grantee)
	if !slices.Equal(gotSeq, wantSeq) {
		t.Errorf("default privileges: %v, want %v", gotSeq, wantSeq)
	}
	var owner string
	acctest.SuperQueryRow(t, a.db, `SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1`, []any{everyTypeSchema}, &owner)
	if want := map[bool]string{false: a.owner, true: role}[second]; owner != qi(want) && owner != want {
		t.Errorf("schema: owner %s, want %q", owner, want)
	}
}

// stripIdentities removes every identity from dir's terraform.tfstate, as
// a CLI without identity support (Terraform, OpenTofu < 1.12) writes it.
func stripIdentities(t *testing.T, dir string) {
	t.Helper()
	file := filepath.Join(dir, "terraform.tfstate")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	resources, _ := st["resources"].([]any)
	for _, r := range resources {
		instances, _ := r.(map[string]any)["instances"].([]any)
		for _, i := range instances {
			delete(i.(map[string]any), "identity")
			delete(i.(map[string]any), "identity_schema_version")
		}
	}
	out, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := stateIdentities(t, dir); len(got) != 0 {
		t.Fatalf("identities left in the state: %v", got)
	}
}

// withServer writes host and port into every resource block of config.
func withServer(config, host string, port int) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(config, "\n") {
		b.WriteString(line)
		if strings.HasPrefix(line, `resource "azurepg_`) && strings.HasSuffix(line, "{\n") {
			fmt.Fprintf(&b, "  host = %q\n  port = %d\n", host, port)
		}
	}
	return b.String()
}

// TestAccServerNamedAsTheProviders: resources that name no server, then
// name the provider's own host (in upper case, as a for_each over servers
// might) and port, then none again, stay the same objects: each step
// updates the eight in place, replaces none, and leaves an empty plan; the
// server still has them. Then a host that is another server (127.0.0.1,
// allowed) replaces them all.
func TestAccServerNamedAsTheProviders(t *testing.T) {
	e := acctest.Emulator(t)
	t.Parallel()
	a := newAccessDB(t)
	acctest.SuperExec(t, a.db, "CREATE EXTENSION azure_ai")
	principal := acctest.Name(`same-server "p"; é @`)
	oid := acctest.NewObject(t, "managed_identity", "acc-same-server-mi").ObjectID
	role := name63(`same-server role "r"; ü`)
	plain := everyTypeConfig(a, principal, oid, role, 1)

	w := acctest.NewWorkdir(t, plain, nil)
	w.MustRun("apply", "-auto-approve", "-no-color", "-input=false")
	t.Cleanup(func() {
		if r := w.Run("destroy", "-auto-approve", "-no-color", "-input=false"); r.Err != nil {
			t.Errorf("destroy: %v\n%s\n%s", r.Err, r.Stdout, r.Stderr)
		}
	})
	for _, step := range []struct{ name, config string }{
		{"the provider's host in upper case and its port", withServer(plain, strings.ToUpper(e.Host()), e.Port())},
		{"no host or port again", plain},
	} {
		w.SetConfig(step.config)
		planActions(t, w, nil, "update")
		r := w.MustRun("apply", "-auto-approve", "-no-color", "-input=false", "saved.tfplan")
		if !strings.Contains(r.Stdout, "0 added, 8 changed, 0 destroyed") {
			t.Fatalf("%s: the apply did not update the eight in place:\n%s", step.name, r.Stdout)
		}
		if r := w.Run("plan", "-detailed-exitcode", "-no-color", "-input=false"); r.Err != nil {
			t.Fatalf("%s: the plan after the apply is not empty (%v):\n%s\n%s", step.name, r.Err, r.Stdout, r.Stderr)
		}
		checkEveryType(t, a, principal, role, 1)
	}

	// Another name is another server, as far as the provider can tell.
	other := strings.Replace(withServer(plain, "127.0.0.1", e.Port()), `provider "azurepg" {}`,
		`provider "azurepg" {
  allowed_hosts = ["127.0.0.1"]
}`, 1)
	w.SetConfig(other)
	planActions(t, w, nil, "delete,create")
}
