package provider_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
	"github.com/azurepg/terraform-provider-azurepg/internal/pgaad"
)

// The soak test's fixture: its settings, the tenant objects and tables it
// works on, the configuration before and after the change, and the check
// that the state equals the server.

// soakSettings are the soak's sizes and faults, from the environment
// (make soak passes them on; see GNUmakefile).
type soakSettings struct {
	principals, grants int
	rtt                time.Duration // the latency proxy's round trip
	tokenLifetime      time.Duration // of the tokens the fake endpoint issues
	outage             time.Duration // how long the failover keeps the server down
	throttled          int           // 429s the identity endpoint answers in each phase
}

func soakSettingsFromEnv(t *testing.T) soakSettings {
	t.Helper()
	s := soakSettings{principals: 2000, grants: 500, rtt: 4 * time.Millisecond, tokenLifetime: 6 * time.Second, outage: 8 * time.Second, throttled: 3}
	ints := map[string]*int{"AZUREPG_SOAK_PRINCIPALS": &s.principals, "AZUREPG_SOAK_GRANTS": &s.grants, "AZUREPG_SOAK_THROTTLED": &s.throttled}
	for k, p := range ints {
		if v := os.Getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a positive number", k, v)
			}
			*p = n
		}
	}
	durations := map[string]*time.Duration{"AZUREPG_SOAK_RTT": &s.rtt, "AZUREPG_SOAK_TOKEN_LIFETIME": &s.tokenLifetime, "AZUREPG_SOAK_OUTAGE": &s.outage}
	for k, p := range durations {
		if v := os.Getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				t.Fatalf("%s=%q: want a duration such as 4ms", k, v)
			}
			*p = d
		}
	}
	if s.principals < 10 || s.grants > s.principals {
		t.Fatalf("%d principals and %d grants: want at least 10 principals and no more grants than principals", s.principals, s.grants)
	}
	if s.tokenLifetime < 2*time.Second {
		t.Fatalf("token lifetime %s: the fake endpoint counts in seconds, want at least 2s", s.tokenLifetime)
	}
	return s
}

// soakPrincipal is one azurepg_principal of the soak and its tenant object.
type soakPrincipal struct {
	key, name, typ, objectID string
	mfa, admin               bool // after the change (false before)
}

// soakGrant is one azurepg_grant: SELECT on one table for one principal.
type soakGrant struct {
	key, principal, table string
	insert, grantOption   bool // after the change: SELECT, INSERT; WITH GRANT OPTION
}

// soakNames builds the principals: a rotation of users, groups, service
// principals and managed identities, with hostile names (quotes, spaces,
// '@', ';', a template sequence, non-ASCII, some of exactly 63 bytes), all
// starting with prefix so that the server's side can be listed. The
// change sets mfa on a sixth of the users and groups, and admin on a few.
func soakNames(t *testing.T, e *emulator.Emulator, prefix string, n int) []soakPrincipal {
	t.Helper()
	out := make([]soakPrincipal, n)
	for i := range out {
		var kind, name string
		switch {
		case i%97 == 1:
			kind, name = "group", pad(fmt.Sprintf(`%s long "q" 'é' %04d `, prefix, i), 63)
		case i%4 == 0:
			kind, name = "user", fmt.Sprintf("%s-o'brien+%04d@contoso.com", prefix, i)
		case i%4 == 1:
			kind, name = "group", fmt.Sprintf(`%s grp "q"; ü %04d`, prefix, i)
		case i%4 == 2:
			kind, name = "service_principal", fmt.Sprintf(`%s sp 東京 @ %04d`, prefix, i)
		default:
			kind, name = "managed_identity", fmt.Sprintf(`%s mi ${x} %04d`, prefix, i)
		}
		o, err := e.AddObject(context.Background(), emulator.Object{Kind: kind, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		p := soakPrincipal{key: fmt.Sprintf("k%04d", i), name: name, typ: o.ObjectType(), objectID: o.ObjectID}
		p.mfa = p.typ != "service" && i%3 == 0
		p.admin = i%200 == 5
		out[i] = p
	}
	return out
}

// soakGrants spreads the grants over the principals (every kind gets some).
func soakGrants(ps []soakPrincipal, n int) []soakGrant {
	step := len(ps) / n
	out := make([]soakGrant, n)
	for j := range out {
		out[j] = soakGrant{
			key: fmt.Sprintf("g%04d", j), principal: ps[j*step+j%step].key, table: fmt.Sprintf(`t%04d "x"`, j),
			insert: j%2 == 0, grantOption: j%10 == 1,
		}
	}
	return out
}

// seedSoakTables creates, as the superuser, the schema and one table per
// grant, owned by a role the admin is a member of (as on Azure, where the
// admin grants as the owner).
func seedSoakTables(t *testing.T, admin emulator.Object, owner, schema string, gs []soakGrant) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE ROLE %s; GRANT %[1]s TO %s; CREATE SCHEMA %s AUTHORIZATION %[1]s; SET ROLE %[1]s;\n", qi(owner), qi(admin.Name), qi(schema))
	for _, g := range gs {
		fmt.Fprintf(&b, "CREATE TABLE %s (id int);\n", pgx.Identifier{schema, g.table}.Sanitize())
	}
	b.WriteString("RESET ROLE;")
	acctest.SuperExec(t, "postgres", b.String())
}

// soakChunks splits the resources into blocks: principal block i holds the
// principals whose index is i modulo soakChunks, grant block i their grants,
// which name their role as azurepg_principal.pNN[key].name. In one block of
// each, every grant instance would depend on every principal instance in
// Terraform's apply and destroy graphs (1,000,000 edges at 2,000 x 500):
// with Terraform 1.11 an apply then created nothing for 7 minutes after its
// plan, holding 1.2 GB (on a loaded machine), which is not what the soak is
// about. Blocks of 100 principals and 25 grants keep the edges at 50,000.
const soakChunks = 20

func soakChunk(index int) string { return fmt.Sprintf("%02d", index%soakChunks) }

// soakConfig is the configuration before (changed = false) or after the change.
func soakConfig(admin emulator.Object, schema string, ps []soakPrincipal, gs []soakGrant, changed bool) string {
	var b strings.Builder
	b.WriteString(acctest.RequiredProviders)
	b.WriteString(acctest.ProviderBlock(admin, "failover_timeout = 120"))
	chunkOf := map[string]string{}
	for i, p := range ps {
		chunkOf[p.key] = soakChunk(i)
	}
	for c := range soakChunks {
		chunk := soakChunk(c)
		fmt.Fprintf(&b, "\nlocals {\n  p%s = {\n", chunk)
		for i, p := range ps {
			if soakChunk(i) == chunk {
				fmt.Fprintf(&b, "    %s = { name = %s, mfa = %t, admin = %t }\n", p.key, hclquote.String(p.name), changed && p.mfa, changed && p.admin)
			}
		}
		fmt.Fprintf(&b, "  }\n  g%s = {\n", chunk)
		for _, g := range gs {
			if chunkOf[g.principal] != chunk {
				continue
			}
			privileges := `["SELECT"]`
			if changed && g.insert {
				privileges = `["SELECT", "INSERT"]`
			}
			fmt.Fprintf(&b, "    %s = { principal = %q, table = %s, privileges = %s, grant_option = %t }\n",
				g.key, g.principal, hclquote.String(g.table), privileges, changed && g.grantOption)
		}
		fmt.Fprintf(&b, `  }
}

resource "azurepg_principal" "p%[1]s" {
  for_each = local.p%[1]s
  name     = each.value.name
  mfa      = each.value.mfa
  admin    = each.value.admin
}

resource "azurepg_grant" "g%[1]s" {
  for_each          = local.g%[1]s
  role              = azurepg_principal.p%[1]s[each.value.principal].name
  database          = "postgres"
  object_type       = "table"
  schema            = %[2]s
  objects           = [each.value.table]
  privileges        = each.value.privileges
  with_grant_option = each.value.grant_option
}
`, chunk, hclquote.String(schema))
	}
	return b.String()
}

// principalFacts are what a principal is, as the state or the server says.
type principalFacts struct {
	typ, objectID string
	mfa, admin    bool
}

// grantFacts are what a grant is: privileges (sorted) and the grant option.
type grantFacts struct {
	privileges  string
	grantOption bool
}

// soakServer reads the server's side: every role whose name starts with
// prefix (its labels and azure_pg_admin membership), and every privilege
// on the tables of schema held by another role than their owner, by role
// and table.
func soakServer(t *testing.T, prefix, schema string) (map[string]principalFacts, map[[2]string]grantFacts, []string) {
	t.Helper()
	ctx := context.Background()
	super := acctest.Emulator(t).Superuser()
	var problems []string
	rows, err := super.Query(ctx, `SELECT r.rolname, r.rolcanlogin,
		  coalesce((SELECT label FROM pg_shseclabel s WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth'), ''),
		  coalesce((SELECT label FROM pg_shseclabel s WHERE s.objoid = r.oid AND s.classoid = 'pg_authid'::regclass AND s.provider = 'pgaadauth-int'), ''),
		  EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid AND m.roleid = 'azure_pg_admin'::regrole)
		FROM pg_roles r WHERE starts_with(r.rolname, $1)`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	principals := map[string]principalFacts{}
	for rows.Next() {
		var name, label, internal string
		var login, member bool
		if err := rows.Scan(&name, &login, &label, &internal, &member); err != nil {
			t.Fatal(err)
		}
		l := pgaad.ParseLabels(label, internal)
		if !l.Entra || !login || l.Admin != member || l.Conflict != "" {
			problems = append(problems, fmt.Sprintf("role %q on the server: Entra label %t, LOGIN %t, admin label %t but member of azure_pg_admin %t, conflict %q",
				name, l.Entra, login, l.Admin, member, l.Conflict))
		}
		principals[name] = principalFacts{typ: l.Type, objectID: strings.ToLower(l.ObjectID), mfa: l.MFA, admin: member}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err = super.Query(ctx, `SELECT g.rolname, c.relname, x.privilege_type, x.is_grantable
		FROM pg_class c, pg_namespace n, aclexplode(c.relacl) x, pg_roles g
		WHERE n.oid = c.relnamespace AND n.nspname = $1 AND g.oid = x.grantee AND x.grantee <> c.relowner`, schema)
	if err != nil {
		t.Fatal(err)
	}
	privs := map[[2]string][]string{}
	grantable := map[[2]string]map[bool]bool{}
	for rows.Next() {
		var role, table, privilege string
		var withGrant bool
		if err := rows.Scan(&role, &table, &privilege, &withGrant); err != nil {
			t.Fatal(err)
		}
		k := [2]string{role, table}
		privs[k] = append(privs[k], privilege)
		if grantable[k] == nil {
			grantable[k] = map[bool]bool{}
		}
		grantable[k][withGrant] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	grants := map[[2]string]grantFacts{}
	for k, p := range privs {
		sort.Strings(p)
		if len(grantable[k]) != 1 {
			problems = append(problems, fmt.Sprintf("%q on table %q: some privileges with the grant option, some without", k[0], k[1]))
		}
		grants[k] = grantFacts{privileges: strings.Join(p, ","), grantOption: grantable[k][true]}
	}
	return principals, grants, problems
}

// soakState reads the state's side in the same shape.
func soakState(t *testing.T, w *acctest.Workdir) (map[string]principalFacts, map[[2]string]grantFacts, []string) {
	t.Helper()
	principals := map[string]principalFacts{}
	grants := map[[2]string]grantFacts{}
	var problems []string
	str := func(v any) string { s, _ := v.(string); return s }
	for addr, r := range w.State() {
		switch r.Type {
		case "azurepg_principal":
			v := r.Values
			principals[str(v["name"])] = principalFacts{typ: str(v["type"]), objectID: strings.ToLower(str(v["object_id"])),
				mfa: v["mfa"] == true, admin: v["admin"] == true}
		case "azurepg_grant":
			v := r.Values
			objects, _ := v["objects"].([]any)
			if len(objects) != 1 {
				problems = append(problems, fmt.Sprintf("%s: objects %v in the state, want one table", addr, objects))
				continue
			}
			var p []string
			for _, x := range v["privileges"].([]any) {
				p = append(p, str(x))
			}
			sort.Strings(p)
			grants[[2]string{str(v["role"]), str(objects[0])}] = grantFacts{privileges: strings.Join(p, ","), grantOption: v["with_grant_option"] == true}
		}
	}
	return principals, grants, problems
}

// soakWant is what the configuration asks for.
func soakWant(ps []soakPrincipal, gs []soakGrant, changed bool) (map[string]principalFacts, map[[2]string]grantFacts) {
	principals := map[string]principalFacts{}
	byKey := map[string]string{}
	for _, p := range ps {
		principals[p.name] = principalFacts{typ: p.typ, objectID: strings.ToLower(p.objectID), mfa: changed && p.mfa, admin: changed && p.admin}
		byKey[p.key] = p.name
	}
	grants := map[[2]string]grantFacts{}
	for _, g := range gs {
		f := grantFacts{privileges: "SELECT", grantOption: changed && g.grantOption}
		if changed && g.insert {
			f.privileges = "INSERT,SELECT"
		}
		grants[[2]string{byKey[g.principal], g.table}] = f
	}
	return principals, grants
}

// diffFacts lists where two sides disagree (at most 20 lines, then a count).
func diffFacts[K comparable, V comparable](what, a, b string, x, y map[K]V) []string {
	var out []string
	for k, vx := range x {
		vy, ok := y[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s %v: in %s (%+v), not in %s", what, k, a, vx, b))
		case vx != vy:
			out = append(out, fmt.Sprintf("%s %v: %s has %+v, %s has %+v", what, k, a, vx, b, vy))
		}
	}
	for k, vy := range y {
		if _, ok := x[k]; !ok {
			out = append(out, fmt.Sprintf("%s %v: in %s (%+v), not in %s", what, k, b, vy, a))
		}
	}
	sort.Strings(out)
	return out
}

// checkSoakState fails the test unless the state, the server and the
// configuration agree on every principal and every grant, both ways.
func checkSoakState(t *testing.T, w *acctest.Workdir, prefix, schema string, ps []soakPrincipal, gs []soakGrant, changed bool) {
	t.Helper()
	sp, sg, problems := soakState(t, w)
	vp, vg, more := soakServer(t, prefix, schema)
	wp, wg := soakWant(ps, gs, changed)
	problems = append(problems, more...)
	problems = append(problems, diffFacts("principal", "the state", "the server", sp, vp)...)
	problems = append(problems, diffFacts("grant", "the state", "the server", sg, vg)...)
	problems = append(problems, diffFacts("principal", "the configuration", "the state", wp, sp)...)
	problems = append(problems, diffFacts("grant", "the configuration", "the state", wg, sg)...)
	if len(problems) > 0 {
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("... and %d more", len(problems)-20))
		}
		t.Fatalf("the state, the server and the configuration disagree:\n%s", strings.Join(problems, "\n"))
	}
	t.Logf("state = server = configuration: %d principals, %d grants", len(sp), len(sg))
}
