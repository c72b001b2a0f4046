package bench

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A server log as the emulator writes it (log_line_prefix '%m [%p] %q%u@%d ').
const sampleLog = `2026-11-28 15:44:02.101 UTC [901] @ LOG:  connection received: host=127.0.0.1 port=50000
2026-11-28 15:44:02.120 UTC [901] ci-pipeline-mi@postgres LOG:  connection authorized: user=ci-pipeline-mi database=postgres application_name=terraform-provider-azurepg/dev SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)
2026-11-28 15:44:02.130 UTC [901] ci-pipeline-mi@postgres LOG:  statement: begin
2026-11-28 15:44:02.131 UTC [901] ci-pipeline-mi@postgres LOG:  execute stmtcache_1: SELECT pgaadauth_create_principal($1, $2, $3)
2026-11-28 15:44:02.131 UTC [901] ci-pipeline-mi@postgres DETAIL:  parameters: $1 = 'a@contoso.com', $2 = 'f', $3 = 'f'
2026-11-28 15:44:02.140 UTC [901] ci-pipeline-mi@postgres LOG:  execute stmtcache_2: 
	SELECT r.rolname,
	       (SELECT s.label FROM pg_shseclabel s WHERE s.provider = 'pgaadauth')
	  FROM pg_roles r WHERE r.rolname = $1
2026-11-28 15:44:02.150 UTC [901] ci-pipeline-mi@postgres LOG:  statement: commit
2026-11-28 15:44:02.151 UTC [901] ci-pipeline-mi@postgres LOG:  statement: DROP ROLE "a ""b""@contoso.com"
2026-11-28 15:44:02.152 UTC [901] ci-pipeline-mi@postgres LOG:  statement: DROP ROLE "c@contoso.com"
2026-11-28 15:44:02.160 UTC [902] azuresu@postgres LOG:  connection authorized: user=azuresu database=postgres
2026-11-28 15:44:02.161 UTC [902] azuresu@postgres LOG:  execute <unnamed>: ALTER ROLE "ci-pipeline-mi" PASSWORD 'x'
2026-11-28 15:44:02.170 UTC [903] ci-pipeline-mi2@postgres LOG:  connection authorized: user=ci-pipeline-mi2 database=postgres
2026-11-28 15:44:02.171 UTC [903] ci-pipeline-mi2@postgres LOG:  statement: SELECT 1
2026-11-28 15:44:02.180 UTC [904] ci-pipeline-mi@postgres FATAL:  password authentication failed for user "ci-pipeline-mi"
2026-11-28 15:44:02.190 UTC [905] ci-pipeline-mi@postgres LOG:  connection authorized: user=ci-pipeline-mi database=postgres application_name=x
`

func TestCountLines(t *testing.T) {
	c := countLines(strings.NewReader(sampleLog), "ci-pipeline-mi")
	if c.conns != 2 || c.stmts != 6 {
		t.Fatalf("counted %d connections and %d statements, want 2 and 6 (the superuser's and another role's lines must not count)", c.conns, c.stmts)
	}
	want := map[string]int{"begin": 1, "commit": 1, `DROP ROLE "…"`: 2, "SELECT pgaadauth_create_principal(…)": 1, "SELECT r.rolname, (…)": 1}
	if len(c.shapes) != len(want) {
		t.Errorf("shapes = %v, want %v", c.shapes, want)
	}
	for k, v := range want {
		if c.shapes[k] != v {
			t.Errorf("shapes = %v, want %v", c.shapes, want)
		}
	}
}

func TestCountLogFromOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.log")
	if err := os.WriteFile(path, []byte(sampleLog), 0o600); err != nil {
		t.Fatal(err)
	}
	off := int64(strings.Index(sampleLog, "2026-11-28 15:44:02.150"))
	c, err := countLog(path, off, "ci-pipeline-mi")
	if err != nil {
		t.Fatal(err)
	}
	if c.conns != 1 || c.stmts != 3 || c.shapes["commit"] != 1 {
		t.Fatalf("from the commit on: %+v; want 1 connection and 3 statements (commit, 2 drops)", c)
	}
}

func TestConfigurationNamesMatchTheTenant(t *testing.T) {
	for _, kind := range Kinds {
		c := configuration(kind, 7)
		if !strings.Contains(c, "count = 7") || !strings.Contains(c, `format("bench-%05d@contoso.com", count.index + 1)`) {
			t.Errorf("%s configuration:\n%s", kind, c)
		}
	}
}

// synthetic builds a result in which azurepg takes ratio × the no-op's
// time, the no-op 2 × terraform_data's, with per-repetition noise.
func synthetic(ratio float64) *Result {
	r := &Result{Counts: []int{500, 2000}, Reps: 3, MaxConns: 4, RTT: DefaultRTT, Started: time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC)}
	noise := []float64{1.0, 1.3, 0.9}
	for rep := 1; rep <= 3; rep++ {
		for _, n := range r.Counts {
			for _, p := range Phases {
				base := float64(n) / 500 * noise[rep-1]
				for kind, f := range map[string]float64{KindTerraformData: 0.5, KindNoop: 1, KindAzurepg: ratio, KindAzurepgRTT: ratio} {
					s := Sample{Kind: kind, N: n, Rep: rep, Phase: p, Wall: time.Duration(base * f * float64(time.Second)), Load1: 2}
					if isAzurepg(kind) && p == PhasePlan {
						// A snapshot: one statement for every principal, and a ping.
						s.Connections, s.TokenRequests, s.Statements = 4, 1, 2
						s.Shapes = map[string]int{"SELECT r.rolname, (…)": 1, pingShape: 1}
					}
					if kind == KindAzurepgRTT && p == PhasePlan {
						s.RoundTrips = 7
					}
					r.Samples = append(r.Samples, s)
				}
			}
		}
	}
	return r
}

func TestRatiosAndTargets(t *testing.T) {
	r := synthetic(1.15)
	if got := r.Ratio(KindAzurepg, KindNoop, 500, PhasePlan); math.Abs(got-1.15) > 1e-6 {
		t.Errorf("ratio = %v, want 1.15 (taken within each repetition, whatever the noise)", got)
	}
	if got := r.MedianWall(KindNoop, 2000, PhaseApply); math.Abs(got-4) > 1e-6 {
		t.Errorf("median = %v, want 4", got)
	}
	if got := r.Spread(KindNoop, 500, PhaseApply); math.Abs(got-0.4) > 1e-6 {
		t.Errorf("spread = %v, want 0.4", got)
	}
	for _, tg := range r.Targets() {
		if !tg.Known {
			t.Errorf("target %q not measured", tg.What)
		}
		// Only plan -refresh=false (1.15 > 1.1) misses.
		if want := tg.What != "plan -refresh=false of 500 principals ≤ 1.1 × no-op"; tg.Met != want {
			t.Errorf("target %q: met = %v, want %v (%s)", tg.What, tg.Met, want, tg.Measured)
		}
	}
	slow := synthetic(1.5)
	for _, tg := range slow.Targets() {
		if strings.Contains(tg.What, "× no-op") && tg.Met {
			t.Errorf("1.5 × the no-op must miss %q", tg.What)
		}
	}
}

// TestLimitsAreTheTargets: the targets follow the run's limits (the flags
// of cmd/bench), and a result without limits (an older results.json) is
// held to DefaultLimits.
func TestLimitsAreTheTargets(t *testing.T) {
	r := synthetic(1.15)
	l := DefaultLimits()
	l.PlanNoRefresh, l.Plan, l.RTTCounts, l.RefreshPer = 1.25, 1.1, []int{2000}, 0
	r.Limits = &l
	whats := map[string]Target{}
	for _, tg := range r.Targets() {
		whats[tg.What] = tg
	}
	for what, met := range map[string]bool{
		"plan -refresh=false of 500 principals ≤ 1.25 × no-op":     true,
		"plan of 500 principals ≤ 1.1 × no-op":                     false,
		"apply of 500 principals ≤ 1.3 × no-op":                    true,
		"plan of 2000 principals at 20ms round trip ≤ 1.2 × no-op": true,
	} {
		tg, ok := whats[what]
		if !ok || !tg.Known || tg.Met != met {
			t.Errorf("target %q: %+v (found %v), want met = %v; targets: %v", what, tg, ok, met, whats)
		}
	}
	for what := range whats {
		if strings.Contains(what, "of 500 principals at") || strings.Contains(what, "statements per refresh plan ≤ N/") {
			t.Errorf("target %q is not among the limits", what)
		}
	}
	if d := DefaultLimits(); !reflect.DeepEqual(synthetic(1).limits(), d) {
		t.Errorf("a result without limits is held to %+v, want DefaultLimits %+v", synthetic(1).limits(), d)
	}
}

func TestSummaryRenders(t *testing.T) {
	md := synthetic(1.25).Summary()
	for _, want := range []string{"# Benchmark summary", "| 500 | plan | 0.50 | 1.00 | 1.25 | **1.25** | 1.25 | **1.25** |",
		"| plan of 2000 principals at 20ms round trip ≤ 1.2 × no-op | 1.25 × (5.00 s vs 4.00 s) | no |", "`docs/design/performance.md`"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "](") {
		t.Errorf("summary has a Markdown link; its copy under docs/ is held to the registry's link rules:\n%s", md)
	}
}

func TestReportRenders(t *testing.T) {
	r := synthetic(1.25)
	md := r.Markdown(map[string]string{PhasePlan: "flat flat% sum% cum cum%\n"})
	for _, want := range []string{"| 500 | plan | 0.50 | 1.00 | 1.25 | **1.25** |", "| 2000 | destroy |", "![Wall time per phase against N](chart.svg)", "## Targets (on loopback and over a network)",
		"## Network dimension: azurepg at 0 ms and 20ms round trip", "| 500 | plan | 1.00 | 1.25 | 1.25 | **1.25** | **1.25** | 2 | 2 | 7 | 4 |",
		"| plan of 2000 principals at 20ms round trip ≤ 1.2 × no-op | 1.25 × (5.00 s vs 4.00 s) | no |",
		"| azurepg_rtt: statements per refresh plan ≤ N/100 + 5 (pgxpool pings aside) | N = 500: 1 (limit 10); N = 2000: 1 (limit 25) | yes |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	svg := r.SVG()
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart.svg is not well-formed XML: %v", err)
		}
	}
	if n := strings.Count(svg, "<polyline"); n != 16 {
		t.Errorf("chart has %d lines, want 16 (4 configurations × 4 phases)", n)
	}
	if !strings.Contains(svg, "azurepg, 20ms round trip") {
		t.Error("chart lacks the network dimension's legend")
	}
	if !strings.Contains(svg, "×1.25") {
		t.Error("chart lacks azurepg's ratio labels")
	}
}

// TestSmoke runs the whole benchmark for 10 principals, once, without
// terraform_data and the profile (azurepg at 0 ms and 20 ms): real terraform, real providers, the
// emulator. Run(...) itself fails when a plan after apply is not empty or
// the server does not hold the principals it should. It takes 20 s on a
// quiet 2-core machine and a minute on a busy one, so `make test` leaves it
// out: AZUREPG_BENCH_SMOKE=1 TF_ACC=1 go test . -run TestSmoke (in bench/)
func TestSmoke(t *testing.T) {
	if os.Getenv("TF_ACC") == "" || os.Getenv("AZUREPG_BENCH_SMOKE") == "" {
		t.Skip("benchmark smoke test: set TF_ACC=1 and AZUREPG_BENCH_SMOKE=1")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..") // the provider module; this module is its bench/
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()
	res, err := Run(ctx, Options{RepoRoot: root, Counts: []int{10}, Reps: 1, Kinds: []string{KindNoop, KindAzurepg, KindAzurepgRTT}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("smoke run took %s", time.Since(began).Round(time.Millisecond))
	if len(res.Samples) != 12 {
		t.Fatalf("%d samples, want 12", len(res.Samples))
	}
	one := func(phase string) Sample { return res.samples(KindAzurepg, 10, phase)[0] }
	// The network dimension: the proxy carried the azurepg_rtt commands, and
	// a refresh is one statement (the snapshot) in a few round trips.
	rtt := func(phase string) Sample { return res.samples(KindAzurepgRTT, 10, phase)[0] }
	if s := rtt(PhasePlan); s.RoundTrips < 1 || s.RoundTrips > 10 || s.Statements-s.Shapes[pingShape] != 1 {
		t.Errorf("refresh plan at %s: %d round trips, %d statements (%v); want 1 statement in at most 10 round trips", res.RTT, s.RoundTrips, s.Statements, s.Shapes)
	}
	if s := rtt(PhaseApply); s.RoundTrips < 10 {
		t.Errorf("apply of 10 principals at %s: %d round trips counted", res.RTT, s.RoundTrips)
	}
	if s := one(PhasePlan); s.RoundTrips != 0 {
		t.Errorf("azurepg at 0 ms does not go through the proxy, yet %d round trips were counted", s.RoundTrips)
	}
	for _, s := range res.Samples {
		if s.Wall <= 0 {
			t.Errorf("%s %s: no wall time", s.Kind, s.Phase)
		}
		if s.Kind == KindNoop && s.Connections+s.Statements+s.TokenRequests != 0 {
			t.Errorf("noop %s: counted %+v against the server", s.Phase, s)
		}
	}
	if s := one(PhaseApply); s.Connections < 1 || s.TokenRequests < 1 || s.Statements < 10 {
		t.Errorf("apply of 10 principals: %d connections, %d tokens, %d statements; want at least 1, 1, 10", s.Connections, s.TokenRequests, s.Statements)
	}
	if s := one(PhasePlan); s.Connections < 1 || s.Statements < 1 || s.Statements-s.Shapes[pingShape] > 1 {
		t.Errorf("refresh plan: %d connections, %d statements; the reads must reach the server, in one statement (the snapshot)", s.Connections, s.Statements)
	}
	if s := one(PhasePlanNoRefresh); s.Connections != 0 || s.TokenRequests != 0 {
		t.Errorf("plan -refresh=false: %d connections, %d tokens; the provider must not connect when it reads nothing", s.Connections, s.TokenRequests)
	}
	if s := one(PhaseDestroy); s.Statements < 10 {
		t.Errorf("destroy of 10 principals ran %d statements", s.Statements)
	}
	if md := res.Markdown(nil); !strings.Contains(md, "| 10 | plan |") {
		t.Errorf("report:\n%s", md)
	}
}

func TestGrantConfigurations(t *testing.T) {
	for _, kind := range GrantKinds {
		c := configuration(kind, 7)
		for _, want := range []string{"count       = 7", `objects     = [format("t%05d", count.index + 1)]`, `schema      = "bench"`,
			`role        = "bench-reader@contoso.com"`, `resource "` + strings.TrimSuffix(strings.TrimSuffix(kind, "_rtt"), "_grant") + `_grant" "g"`} {
			if !strings.Contains(c, want) {
				t.Errorf("%s configuration lacks %q:\n%s", kind, want, c)
			}
		}
	}
}

func TestDimensionConfigurations(t *testing.T) {
	for _, d := range Dimensions {
		for _, kind := range d.Kinds() {
			c := configuration(kind, 7)
			provider := "azurepg"
			if kind == d.Noop {
				provider = "noop"
			}
			resource := provider + strings.TrimPrefix(d.Resource, "azurepg")
			for _, want := range []string{`resource "` + resource + `"`, "= 7\n", `source = "azurepg/` + provider + `"`} {
				if !strings.Contains(c, want) {
					t.Errorf("%s configuration lacks %q:\n%s", kind, want, c)
				}
			}
			if got := strings.Contains(c, `provider "azurepg" {}`); got != (provider == "azurepg") {
				t.Errorf("%s configuration: provider block %v:\n%s", kind, got, c)
			}
		}
	}
	if c := configuration(KindAzurepgRole, 3); !strings.Contains(c, `name  = format("bench-role-%05d", count.index + 1)`) {
		t.Errorf("roles:\n%s", c)
	}
	if c := configuration(KindNoopMembership, 3); !strings.Contains(c, `role   = "bench_group"`) ||
		!strings.Contains(c, `member = format("bench-member-%05d", count.index + 1)`) {
		t.Errorf("memberships:\n%s", c)
	}
}

func TestKindClasses(t *testing.T) {
	for kind, want := range map[string][3]bool{ // dimension, azurepg, through the proxy
		KindNoop: {false, false, false}, KindAzurepgRTT: {false, true, true}, KindTerraformData: {false, false, false},
		KindNoopGrant: {true, false, false}, KindAzurepgRole: {true, true, false}, KindAzurepgMembershipRTT: {true, true, true},
		KindNoopMembership: {true, false, false}, KindAzurepgGrantRTT: {true, true, true},
	} {
		if got := [3]bool{isDimensionKind(kind), isAzurepg(kind), viaProxy(kind)}; got != want {
			t.Errorf("%s: dimension, azurepg, proxy = %v, want %v", kind, got, want)
		}
	}
	if all := AllKinds(); len(all) != len(Kinds)+3*len(Dimensions) {
		t.Errorf("AllKinds = %v", all)
	}
}

// TestDimensionsRender: each dimension that ran has its table (seconds,
// ratios, round trips per resource) in the report and the summary, and
// its read target; the grants' apply at the round trip has its target.
func TestDimensionsRender(t *testing.T) {
	r := synthetic(1.1)
	r.GrantCounts, r.RoleCounts, r.MembershipCounts = []int{500}, []int{500}, []int{500}
	for rep := 1; rep <= 3; rep++ {
		for _, d := range Dimensions {
			for _, p := range Phases {
				for kind, f := range map[string]float64{d.Noop: 4, d.Azurepg: 4.4, d.RTT: 5.6} {
					s := Sample{Kind: kind, N: 500, Rep: rep, Phase: p, Wall: time.Duration(f * float64(time.Second)), Load1: 3}
					if kind != d.Noop {
						s.Statements, s.Shapes = 501, map[string]int{"SELECT r.rolcanlogin, (…)": 500, pingShape: 1}
					}
					if kind == d.RTT {
						s.RoundTrips = 1000
					}
					r.Samples = append(r.Samples, s)
				}
			}
		}
	}
	md, sum := r.Markdown(nil), r.Summary()
	for _, want := range []string{
		"## Roles: `azurepg_role` against `noop_role` (median of 3)",
		"## Memberships: `azurepg_role_membership` against `noop_role_membership`",
		"| 500 | apply | 4.00 | 4.40 | **1.10** | 5.60 | **1.40** | 0 | 501 | 1.00 | 2.00 |",
		"Statements of `azurepg_role_membership` by their first words",
		"| statements per azurepg_role read (refresh plan) ≤ 1 | at most 1.00 (pgxpool health-check pings aside) | yes |",
		"| apply of 500 grants at 20ms round trip ≤ 1.3 × noop_grant | 1.40 × (5.60 s vs 4.00 s) | no |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, want := range []string{"## Grants, median of 3", "## Memberships, median of 3",
		"| 500 | destroy | 4.00 | 4.40 | **1.10** | 5.60 | **1.40** | 2.00 |"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
}

// TestSmokeDimensions runs the grants, roles and memberships dimensions for
// 5 resources each, once, without the principals and the profile: real
// terraform, real providers, the emulator. Run(...) itself fails when a plan
// after apply is not empty or the server does not hold what each phase
// should have left (check). Opt-in like TestSmoke:
// AZUREPG_BENCH_SMOKE=1 TF_ACC=1 go test . -run TestSmokeDimensions (in bench/)
func TestSmokeDimensions(t *testing.T) {
	if os.Getenv("TF_ACC") == "" || os.Getenv("AZUREPG_BENCH_SMOKE") == "" {
		t.Skip("benchmark smoke test: set TF_ACC=1 and AZUREPG_BENCH_SMOKE=1")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var kinds []string
	for _, d := range Dimensions {
		kinds = append(kinds, d.Kinds()...)
	}
	res, err := Run(ctx, Options{RepoRoot: root, GrantCounts: []int{5}, RoleCounts: []int{5}, MembershipCounts: []int{5},
		Reps: 1, Kinds: kinds, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(Dimensions) * 3 * len(Phases); len(res.Samples) != want {
		t.Fatalf("%d samples, want %d", len(res.Samples), want)
	}
	for _, d := range Dimensions {
		if got := res.DimensionCounts(d); !reflect.DeepEqual(got, []int{5}) {
			t.Errorf("%s: counts %v, want [5]", d.Name, got)
		}
		for _, s := range res.Samples {
			switch {
			case !d.has(s.Kind):
			case s.Kind == d.Noop && s.Connections+s.Statements+s.TokenRequests+s.RoundTrips != 0:
				t.Errorf("%s %s: counted %+v against the server", s.Kind, s.Phase, s)
			case s.Kind == d.RTT && (s.Phase == PhaseApply || s.Phase == PhaseDestroy) && s.RoundTrips < 5:
				t.Errorf("%s %s of 5 resources: %d round trips counted", s.Kind, s.Phase, s.RoundTrips)
			case s.Kind == d.Azurepg && s.Phase == PhaseApply && s.Statements < 5:
				t.Errorf("%s apply of 5 resources ran %d statements", s.Kind, s.Statements)
			}
		}
	}
	if md := res.Markdown(nil); !strings.Contains(md, "## Memberships: `azurepg_role_membership` against `noop_role_membership`") {
		t.Errorf("report:\n%s", md)
	}
}

// TestDimensionsAloneRender: a run of the dimensions alone (-kinds) shows
// no empty principal tables and no principal targets, and says which N ran.
func TestDimensionsAloneRender(t *testing.T) {
	r := &Result{Counts: []int{100, 500, 2000}, RoleCounts: []int{500}, Reps: 1, RTT: DefaultRTT}
	for _, kind := range RoleKinds {
		for _, p := range Phases {
			r.Samples = append(r.Samples, Sample{Kind: kind, N: 500, Rep: 1, Phase: p, Wall: time.Second, Load1: 1})
		}
	}
	md, sum := r.Markdown(nil), r.Summary()
	for _, text := range []string{md, sum} {
		if strings.Contains(text, "| 100 |") || strings.Contains(text, "principals ≤") || strings.Contains(text, "N = 100") {
			t.Errorf("principal tables or targets in a run without principals:\n%s", text)
		}
		if !strings.Contains(text, "roles N = 500") || !strings.Contains(text, "\n\n## Roles") {
			t.Errorf("no roles N or heading:\n%s", text)
		}
	}
}
