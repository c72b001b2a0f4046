package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

// A fleet from one provider block: two emulators of one cloud
// and tenant, both named localhost, on two ports; every resource names its
// server with host and port, from a map of servers that for_each walks.

// fleetServer is one server of the map: its key in the map (a hostile
// Terraform name), its emulator and the azure_openai endpoint it gets.
type fleetServer struct {
	key    string
	e      *emulator.Emulator
	openai string
}

// fleetServers are the two emulators, keyed with hostile names.
func fleetServers(t *testing.T) []fleetServer {
	return []fleetServer{
		{`weu "prod"; é/1`, acctest.Emulator(t), "https://weu-prod-openai.openai.azure.com"},
		{`neu 'prod' @ 數/2`, acctest.SecondEmulator(t), "https://neu-prod-openai.openai.azure.com"},
	}
}

// serversHCL is the locals block of the map of servers.
func serversHCL(servers []fleetServer) string {
	var b strings.Builder
	b.WriteString("locals {\n  servers = {\n")
	for _, s := range servers {
		fmt.Fprintf(&b, "    %s = { host = %q, port = %d, openai = %q }\n", hclquote.String(s.key), s.e.Host(), s.e.Port(), s.openai)
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// fleetConfig: on every server of the map, the app's managed identity and a
// user as principals, CONNECT on the database for the identity, azure_ai
// and its settings; one provider block, logged in as admin (an Entra admin
// of both servers).
func fleetConfig(admin emulator.Object, servers []fleetServer, app, user emulator.Object, db, extra string) string {
	return acctest.RequiredProviders + acctest.ProviderBlock(admin, "") + serversHCL(servers) + fmt.Sprintf(`
resource "azurepg_principal" "app" {
  for_each = local.servers
  host     = each.value.host
  port     = each.value.port
  name     = %[1]s
  type     = "service"
}

resource "azurepg_principal" "user" {
  for_each = local.servers
  host     = each.value.host
  port     = each.value.port
  name     = %[2]s
}

resource "azurepg_grant" "connect" {
  for_each    = local.servers
  host        = each.value.host
  port        = each.value.port
  role        = azurepg_principal.app[each.key].name
  database    = %[3]s
  object_type = "database"
  privileges  = ["CONNECT"]
}

resource "azurepg_extension" "azure_ai" {
  for_each = local.servers
  host     = each.value.host
  port     = each.value.port
  database = %[3]s
  name     = "azure_ai"
}

resource "azurepg_ai_settings" "ai" {
  for_each = local.servers
  host     = each.value.host
  port     = each.value.port
  database = azurepg_extension.azure_ai[each.key].database
  azure_openai {
    endpoint  = each.value.openai
    auth_type = "managed-identity"
  }
}
%[4]s`, hclquote.String(app.Name), hclquote.String(user.Name), hclquote.String(db), extra)
}

// checkFleetServer checks one server by SQL: both principals labelled with
// their objects, CONNECT granted to the identity itself, azure_ai with the
// server's own endpoint.
func checkFleetServer(t *testing.T, s fleetServer, app, user emulator.Object, db string) {
	t.Helper()
	for _, o := range []emulator.Object{app, user} {
		var label string
		acctest.SuperQueryRowOn(t, s.e, "postgres", `SELECT coalesce((SELECT s.label FROM pg_shseclabel s JOIN pg_roles r
			ON r.oid = s.objoid AND s.classoid = 'pg_authid'::regclass WHERE s.provider = 'pgaadauth-int' AND r.rolname = $1), '')`,
			[]any{o.Name}, &label)
		if !strings.Contains(strings.ToLower(label), "oid="+strings.ToLower(o.ObjectID)) {
			t.Errorf("server %q (port %d): %q has the label %q, want its object id %s", s.key, s.e.Port(), o.Name, label, o.ObjectID)
		}
	}
	var grants int
	acctest.SuperQueryRowOn(t, s.e, "postgres", `SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a
		WHERE d.datname = $1 AND a.privilege_type = 'CONNECT' AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $2)`,
		[]any{db, app.Name}, &grants)
	if grants != 1 {
		t.Errorf("server %q (port %d): %d CONNECT grants to %q on %q, want 1", s.key, s.e.Port(), grants, app.Name, db)
	}
	var endpoint string
	acctest.SuperQueryRowOn(t, s.e, db, "SELECT azure_ai.get_setting('azure_openai.endpoint')", nil, &endpoint)
	if endpoint != s.openai {
		t.Errorf("server %q (port %d): azure_openai.endpoint %q, want %q", s.key, s.e.Port(), endpoint, s.openai)
	}
}

// jsonLine is what the checks read of one line of `terraform plan -json`.
type jsonLine struct {
	Type string `json:"type"`
	Hook struct {
		Resource struct {
			Addr string `json:"addr"`
		} `json:"resource"`
	} `json:"hook"`
	Diagnostic struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail"`
		Address  string `json:"address"`
		Snippet  struct {
			Code string `json:"code"`
		} `json:"snippet"`
	} `json:"diagnostic"`
}

func jsonLines(t *testing.T, stdout string) []jsonLine {
	t.Helper()
	var out []jsonLine
	for _, line := range strings.Split(stdout, "\n") {
		var l jsonLine
		if json.Unmarshal([]byte(line), &l) == nil && l.Type != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestAccFleetForEachServers: one provider block,
// two emulators on two ports; principals, a grant and azure_ai settings
// applied to both with for_each over the map of servers, checked on each
// server by SQL; the refresh plan is empty; a principal made by hand on the
// second server is imported with an import ID that names the server
// (azurepg://localhost:<port>/<name>, the name holding a "/"), and by
// identity on Terraform 1.12+, each plan after it empty; with the second
// server down, the plan's connection error names it, in full once, and
// the first server's resources still refresh.
func TestAccFleetForEachServers(t *testing.T) {
	servers := fleetServers(t)
	first, second := servers[0], servers[1]
	admin := acctest.NewAdmin(t)
	acctest.MakeAdminOn(t, second.e, admin)
	app := acctest.NewObject(t, "managed_identity", `fleet app "mi"; é`)
	user := acctest.NewObject(t, "user", `fleet o'user; 數`)
	db := acctest.Name(`fleet/"db"; é @x`)
	for _, s := range servers { // owned by the admin, as if it had created it
		acctest.SuperExecOn(t, s.e, "postgres", "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()+" OWNER "+pgx.Identifier{admin.Name}.Sanitize())
	}

	down := false // the second emulator, taken down below
	upAgain := func() {
		if !down {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := second.e.Up(ctx); err != nil {
			t.Fatalf("starting the second emulator again: %v", err)
		}
		down = false
	}
	w := acctest.NewWorkdir(t, fleetConfig(admin, servers, app, user, db, ""), nil)
	t.Cleanup(func() {
		upAgain()
		w.Run("destroy", "-auto-approve", "-input=false", "-no-color")
		for _, s := range servers {
			for _, name := range []string{app.Name, user.Name} {
				if acctest.RoleExistsOn(t, s.e, name) {
					t.Errorf("after destroy, %q is still on port %d", name, s.e.Port())
				}
			}
		}
	})
	r := w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	if !strings.Contains(r.Stdout, "10 added, 0 changed, 0 destroyed") {
		t.Fatalf("apply did not add the 5 resources on each of the 2 servers:\n%s", r.Stdout)
	}
	t.Logf("apply to two servers: %s", r.Duration.Round(time.Millisecond))
	for _, s := range servers {
		checkFleetServer(t, s, app, user, db)
	}
	state := w.State()
	for _, s := range servers {
		addr := fmt.Sprintf("azurepg_principal.app[%s]", hclquote.String(s.key))
		v := state[addr].Values
		if v["host"] != "localhost" || fmt.Sprint(v["port"]) != fmt.Sprint(s.e.Port()) {
			t.Errorf("%s in the state: host %v, port %v; want localhost, %d", addr, v["host"], v["port"], s.e.Port())
		}
	}
	w.MustRun("plan", "-detailed-exitcode", "-input=false", "-no-color")

	// Import from the second server, by an import ID that names it.
	adopted := acctest.NewObject(t, "managed_identity", `fleet adopted/"x"; é`)
	acctest.SuperExecOn(t, second.e, "postgres", "SELECT pgaadauth_create_principal($1, false, false)", adopted.Name)
	importID := fmt.Sprintf("azurepg://localhost:%d/%s", second.e.Port(), adopted.Name)
	w.SetConfig(fleetConfig(admin, servers, app, user, db, fmt.Sprintf(`
import {
  to = azurepg_principal.adopted
  id = %s
}

resource "azurepg_principal" "adopted" {
  host = "localhost"
  port = %d
  name = %s
  type = "service"
}
`, hclquote.String(importID), second.e.Port(), hclquote.String(adopted.Name))))
	r = w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	if !strings.Contains(r.Stdout, "1 imported, 0 added, 0 changed, 0 destroyed") {
		// Not fatal: the steps below do not depend on it.
		t.Errorf("apply with the import block did not import exactly the principal %q:\n%s", importID, r.Stdout)
	}
	if acctest.RoleExists(t, adopted.Name) {
		t.Errorf("%q, made on the second server only, exists on the first", adopted.Name)
	}
	w.MustRun("plan", "-detailed-exitcode", "-input=false", "-no-color")
	v := w.State()["azurepg_principal.adopted"].Values
	if v["host"] != "localhost" || fmt.Sprint(v["port"]) != fmt.Sprint(second.e.Port()) || v["object_id"] != adopted.ObjectID {
		t.Errorf("imported principal: host %v, port %v, object_id %v; want localhost, %d, %s", v["host"], v["port"], v["object_id"], second.e.Port(), adopted.ObjectID)
	}

	fleetImportByIdentity(t, admin, second)

	// The second server down: the refresh fails for its resources only,
	// with one full explanation that names it; the first's resources are
	// all refreshed in the same command.
	if err := second.e.Down(); err != nil {
		t.Fatalf("stopping the second emulator: %v", err)
	}
	down = true
	r = w.Run("plan", "-input=false", "-json", "-detailed-exitcode")
	upAgain()
	if r.Err == nil {
		t.Fatalf("plan with the second server down succeeded:\n%s", r.Stdout)
	}
	firstAddrs := checkOneServerDown(t, jsonLines(t, r.Stdout), w, first, second)
	// The grant and the azure_ai settings depend on resources with an
	// instance on the second server: Terraform skips them in a full plan.
	// Targeted at the first server's instances, the refresh reads them all.
	args := []string{"plan", "-refresh-only", "-input=false", "-json"}
	for _, addr := range firstAddrs {
		args = append(args, "-target="+addr)
	}
	r = w.Run(args...)
	refreshed := map[string]bool{}
	for _, l := range jsonLines(t, r.Stdout) {
		if l.Type == "refresh_complete" {
			refreshed[l.Hook.Resource.Addr] = true
		}
		if l.Type == "diagnostic" && l.Diagnostic.Severity == "error" {
			t.Errorf("refresh of the first server's resources, the second down: %s: %s", l.Diagnostic.Address, flat(l.Diagnostic.Detail))
		}
	}
	for _, addr := range firstAddrs {
		if !refreshed[addr] {
			t.Errorf("%s, on the first server, was not refreshed by the targeted refresh while the second was down", addr)
		}
	}
	if r.Err != nil {
		t.Errorf("targeted refresh of the first server's resources failed (%v):\n%s", r.Err, r.Stderr)
	}

	// Up again, nothing changed.
	w.MustRun("plan", "-detailed-exitcode", "-input=false", "-no-color")
}

// fleetImportByIdentity imports a principal of the second server with an
// import block that gives its identity (host, port, name), in a working
// directory of its own run by Terraform 1.12+ (a state it writes cannot
// go back to 1.11); the plan after it is empty. The state forgets it
// afterwards (the principal is dropped by SQL). It needs a port in the
// identity (both emulators are localhost) and says so when there is none.
func fleetImportByIdentity(t *testing.T, admin emulator.Object, second fleetServer) {
	t.Helper()
	tf := acctest.TerraformAtLeast("1.12.0")
	if tf == "" {
		t.Logf("import by identity not run: needs Terraform >= 1.12 (%s is %s; `make testacc-tf114` runs it)",
			acctest.TerraformPath(), acctest.TerraformVersion(acctest.TerraformPath()))
		return
	}
	w := acctest.NewWorkdir(t, acctest.RequiredProviders, map[string]string{"TF_ACC_TERRAFORM_PATH": tf})
	if !identityHasPort(t, w) {
		// Both emulators are localhost, the provider's host: an identity
		// without a port cannot name the second.
		t.Logf("import by identity from the second server not run: the identity of azurepg_principal has no port (Terraform %s)",
			acctest.TerraformVersion(tf))
		return
	}
	o := acctest.NewObject(t, "managed_identity", `fleet by identity/"x"; é`)
	acctest.SuperExecOn(t, second.e, "postgres", "SELECT pgaadauth_create_principal($1, false, false)", o.Name)
	t.Cleanup(func() {
		acctest.SuperExecOn(t, second.e, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{o.Name}.Sanitize())
	})
	w.SetConfig(acctest.RequiredProviders + acctest.ProviderBlock(admin, "") + fmt.Sprintf(`
import {
  to       = azurepg_principal.p
  identity = { host = "localhost", port = %[1]d, name = %[2]s }
}

resource "azurepg_principal" "p" {
  host = "localhost"
  port = %[1]d
  name = %[2]s
  type = "service"
}
`, second.e.Port(), hclquote.String(o.Name)))
	r := w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	if !strings.Contains(r.Stdout, "1 imported, 0 added, 0 changed, 0 destroyed") {
		t.Errorf("Terraform %s: apply with an identity import block did not import %q:\n%s", acctest.TerraformVersion(tf), o.Name, r.Stdout)
	}
	w.MustRun("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if id := stateIdentities(t, w.Dir)["azurepg_principal.p"]; !strings.Contains(id, `"host":"localhost"`) ||
		!strings.Contains(id, fmt.Sprintf(`"port":%d`, second.e.Port())) {
		t.Errorf("identity in the state %s, want host localhost and port %d", id, second.e.Port())
	}
	w.MustRun("state", "rm", "azurepg_principal.p")
	t.Logf("import by identity from the second server: Terraform %s", acctest.TerraformVersion(tf))
}

// identityHasPort says whether the provider's identity schema of
// azurepg_principal has a port (`terraform providers schema -json`).
func identityHasPort(t *testing.T, w *acctest.Workdir) bool {
	t.Helper()
	var schemas struct {
		ProviderSchemas map[string]struct {
			Identities map[string]struct {
				Attributes map[string]json.RawMessage `json:"attributes"`
			} `json:"resource_identity_schemas"`
		} `json:"provider_schemas"`
	}
	r := w.MustRun("providers", "schema", "-json")
	if err := json.Unmarshal([]byte(r.Stdout), &schemas); err != nil {
		t.Fatalf("providers schema -json: %v\n%s", err, r.Stdout)
	}
	for _, p := range schemas.ProviderSchemas {
		if id, ok := p.Identities["azurepg_principal"]; ok {
			_, has := id.Attributes["port"]
			return has
		}
	}
	t.Fatalf("providers schema -json has no identity schema for azurepg_principal:\n%s", r.Stdout)
	return false
}

// checkOneServerDown reads a plan run with the second server down: every
// error is one of the second server's resources and names that server,
// the full explanation of the failure is told once (then one-liners), no
// diagnostic names the first server, and the first server's principals
// and extension (which depend on no other resource) were refreshed. It
// returns the addresses of the first server's resources.
func checkOneServerDown(t *testing.T, lines []jsonLine, w *acctest.Workdir, first, second fleetServer) []string {
	t.Helper()
	failedBefore := t.Failed()
	down := fmt.Sprintf("localhost:%d", second.e.Port())
	up := fmt.Sprintf("localhost:%d", first.e.Port())
	secondKey := fmt.Sprintf("[%s]", hclquote.String(second.key))
	full, errs := 0, 0
	refreshed := map[string]bool{}
	for _, l := range lines {
		if l.Type == "refresh_complete" {
			refreshed[l.Hook.Resource.Addr] = true
		}
		if l.Type != "diagnostic" {
			continue
		}
		d := l.Diagnostic
		text := flat(d.Summary + " " + d.Detail)
		if strings.Contains(text, up) {
			t.Errorf("a diagnostic names the first server, which is up: %s: %s", d.Address, text)
		}
		if d.Severity != "error" {
			continue
		}
		errs++
		if d.Address != "azurepg_principal.adopted" && !strings.HasSuffix(d.Address, secondKey) {
			t.Errorf("an error for %s, not a resource of the second server: %s", d.Address, text)
		}
		if !strings.Contains(text, down) {
			t.Errorf("the error for %s does not name the server %s: %s", d.Address, down, text)
		}
		if strings.Contains(text, "connection refused: nothing is listening there Check host and port") {
			full++
		} else if !strings.Contains(text, "the same failure as the error told in full once") {
			t.Errorf("the error for %s is neither the full explanation nor its one-liner: %s", d.Address, text)
		}
	}
	if errs == 0 || full != 1 {
		t.Errorf("%d errors, %d of them told in full; want at least one, exactly one in full", errs, full)
	}
	var onFirst []string
	for addr, r := range w.State() {
		if !strings.HasSuffix(addr, secondKey) && addr != "azurepg_principal.adopted" {
			onFirst = append(onFirst, addr)
			independent := r.Type == "azurepg_principal" || r.Type == "azurepg_extension"
			if independent && !refreshed[addr] {
				t.Errorf("%s, on the first server, was not refreshed while the second was down", addr)
			}
		}
	}
	if len(onFirst) != 5 {
		t.Errorf("the state has %d resources on the first server (%v), want 5", len(onFirst), onFirst)
	}
	if t.Failed() && !failedBefore {
		var b strings.Builder
		for _, l := range lines {
			if l.Type == "diagnostic" || l.Type == "refresh_complete" {
				fmt.Fprintf(&b, "%s %s %s %s\n", l.Type, l.Hook.Resource.Addr, l.Diagnostic.Address, flat(l.Diagnostic.Detail))
			}
		}
		t.Logf("the plan's diagnostics and refreshes:\n%s", b.String())
	}
	return onFirst
}

// TestAccFleetAllowedHosts: a resource or data source naming a server that
// is neither the provider's host nor in its allowed_hosts, or an import ID
// naming one, fails at plan time with "Server not allowed" (on the host
// attribute, where there is one), naming allowed_hosts, and the server
// receives no connection (its front door counts them) and no token is
// fetched. 127.0.0.1 is the second emulator's address, under a name the
// provider block does not list. With allowed_hosts = ["127.0.0.1"] the same
// data source does connect (and fails verify-full: the certificate names
// localhost), which shows that the count would have seen a connection.
func TestAccFleetAllowedHosts(t *testing.T) {
	acctest.Emulator(t)
	second := acctest.SecondEmulator(t)
	admin := acctest.NewAdmin(t)
	acctest.MakeAdminOn(t, second, admin)
	role := acctest.Name(`fleet "not allowed"; é @x`)
	blocks := map[string]string{
		"resource": fmt.Sprintf(`
resource "azurepg_principal" "elsewhere" {
  host = "127.0.0.1"
  port = %d
  name = %s
}
`, second.Port(), hclquote.String(role)),
		"data source": fmt.Sprintf(`
data "azurepg_principal" "elsewhere" {
  host = "127.0.0.1"
  port = %d
  name = %s
}
`, second.Port(), hclquote.String(role)),
		// The import ID names the server; the resource is the provider's.
		"import ID": fmt.Sprintf(`
import {
  to = azurepg_principal.elsewhere
  id = %s
}

resource "azurepg_principal" "elsewhere" {
  name = %s
}
`, hclquote.String(fmt.Sprintf("azurepg://127.0.0.1:%d/%s", second.Port(), role)), hclquote.String(role)),
	}
	for _, what := range []string{"resource", "data source", "import ID"} {
		w := acctest.NewWorkdir(t, acctest.RequiredProviders+acctest.ProviderBlock(admin, "")+blocks[what], nil)
		before := second.Accepted()
		r := w.Run("plan", "-input=false", "-json")
		if r.Err == nil {
			t.Fatalf("%s on a server outside allowed_hosts: plan succeeded:\n%s", what, r.Stdout)
		}
		var refused []string
		for _, l := range jsonLines(t, r.Stdout) {
			d := l.Diagnostic
			if l.Type != "diagnostic" || d.Severity != "error" {
				continue
			}
			onHost := what == "import ID" || strings.Contains(d.Snippet.Code, "host") // an import ID has no attribute
			if d.Summary != "Server not allowed" || !strings.Contains(d.Detail, `"127.0.0.1"`) || !strings.Contains(d.Detail, "allowed_hosts") || !onHost {
				t.Errorf("%s: error %q: %s (at %q), want \"Server not allowed\" on host naming 127.0.0.1 and allowed_hosts", what, d.Summary, d.Detail, d.Snippet.Code)
			}
			refused = append(refused, d.Summary)
		}
		if len(refused) != 1 {
			t.Errorf("%s: errors %q, want one", what, refused)
		}
		if n := second.Accepted() - before; n != 0 {
			t.Errorf("%s: the server outside allowed_hosts received %d connections, want none", what, n)
		}
		if n := acctest.Emulator(t).TokenRequestsFor(admin.ClientID); n != 0 {
			t.Errorf("%s: %d token requests, want none before the plan fails", what, n)
		}
	}

	// Listed in allowed_hosts, the same host is reached: the plan connects
	// and fails on the certificate's name instead.
	w := acctest.NewWorkdir(t, acctest.RequiredProviders+acctest.ProviderBlock(admin, `allowed_hosts = ["127.0.0.1"]`)+blocks["data source"], nil)
	before := second.Accepted()
	r := w.Run("plan", "-input=false", "-no-color")
	out := flat(r.Stdout + r.Stderr)
	if r.Err == nil || strings.Contains(out, "Server not allowed") || !strings.Contains(out, "127.0.0.1") {
		t.Fatalf("with allowed_hosts = [\"127.0.0.1\"], want a failure to verify the server, not a refusal (%v):\n%s", r.Err, out)
	}
	if second.Accepted() == before {
		t.Errorf("with 127.0.0.1 in allowed_hosts the server received no connection: the count proves nothing")
	}
	if os.Getenv("AZUREPG_HOST") != "localhost" {
		t.Errorf("AZUREPG_HOST is %q: the test assumes the provider's host is localhost", os.Getenv("AZUREPG_HOST"))
	}
}

// TestAccFleetNoProviderHost: a provider block without a host of its own,
// whose allowed_hosts lists the fleet, manages resources that each name
// their server; a resource that names none fails, saying so, and the
// others stay as they are.
func TestAccFleetNoProviderHost(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	role := acctest.NewObject(t, "managed_identity", `fleet "no provider host"; é @x`).Name
	lost := acctest.NewObject(t, "managed_identity", `fleet "no host at all"; ü`).Name
	roleExists := func(t *testing.T, name string) bool {
		t.Helper()
		_, exists := dependencies(t, name)
		return exists
	}
	hosted := fmt.Sprintf(`
resource "azurepg_principal" "hosted" {
  host = "LocalHost"
  port = %d
  name = %s
  type = "service"
}
`, e.Port(), hclquote.String(role))
	provider := acctest.ProviderBlock(admin, `allowed_hosts = ["localhost"]`)
	env := map[string]string{"AZUREPG_HOST": "", "PGHOST": ""}
	w := acctest.NewWorkdir(t, acctest.RequiredProviders+provider+hosted, env)
	w.MustRun("apply", "-auto-approve", "-input=false", "-no-color")
	t.Cleanup(func() { w.Run("destroy", "-auto-approve", "-input=false", "-no-color") })
	if !roleExists(t, role) {
		t.Fatalf("%q is not on the server after the apply", role)
	}
	w.MustRun("plan", "-detailed-exitcode", "-input=false", "-no-color")

	w.SetConfig(acctest.RequiredProviders + provider + hosted + fmt.Sprintf(`
resource "azurepg_principal" "nowhere" {
  name = %s
  type = "service"
}
`, hclquote.String(lost)))
	r := w.Run("apply", "-auto-approve", "-input=false", "-no-color")
	out := flat(r.Stdout + r.Stderr)
	if r.Err == nil || !strings.Contains(out, "this resource names no host, and the provider has none") ||
		!strings.Contains(out, "allowed_hosts (localhost)") || !strings.Contains(out, "azurepg_principal.nowhere") {
		t.Fatalf("a resource without a host under a provider without one: want the no-host error on it (%v):\n%s", r.Err, out)
	}
	if roleExists(t, lost) {
		t.Errorf("%q was created on some server", lost)
	}
	if !roleExists(t, role) {
		t.Errorf("%q is gone after the failed apply", role)
	}
}
