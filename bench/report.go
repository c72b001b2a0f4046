package bench

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// samples returns the samples of one cell, ordered by repetition.
func (r *Result) samples(kind string, n int, phase string) []Sample {
	var out []Sample
	for _, s := range r.Samples {
		if s.Kind == kind && s.N == n && s.Phase == phase {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Sample) int { return a.Rep - b.Rep })
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func values(ss []Sample, f func(Sample) float64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

func wall(s Sample) float64 { return s.Wall.Seconds() }

// MedianWall is the median wall time of a cell, in seconds (NaN when not run).
func (r *Result) MedianWall(kind string, n int, phase string) float64 {
	return median(values(r.samples(kind, n, phase), wall))
}

// MedianOf is the median of any per-sample value of a cell.
func (r *Result) MedianOf(kind string, n int, phase string, f func(Sample) float64) float64 {
	return median(values(r.samples(kind, n, phase), f))
}

// MaxOf is the largest per-sample value of a cell.
func (r *Result) MaxOf(kind string, n int, phase string, f func(Sample) float64) float64 {
	v := values(r.samples(kind, n, phase), f)
	if len(v) == 0 {
		return math.NaN()
	}
	return slices.Max(v)
}

// Ratio is the median over repetitions of kind's wall time divided by
// base's in the same repetition (the two ran minutes apart at most).
func (r *Result) Ratio(kind, base string, n int, phase string) float64 {
	return r.RatioOf(kind, base, n, phase, wall)
}

// RatioOf is Ratio of any per-sample value.
func (r *Result) RatioOf(kind, base string, n int, phase string, f func(Sample) float64) float64 {
	a, b := r.samples(kind, n, phase), r.samples(base, n, phase)
	var ratios []float64
	for _, sa := range a {
		for _, sb := range b {
			if sa.Rep == sb.Rep && f(sb) > 0 {
				ratios = append(ratios, f(sa)/f(sb))
			}
		}
	}
	return median(ratios)
}

// Spread is (max − min) / median of a cell's wall times.
func (r *Result) Spread(kind string, n int, phase string) float64 {
	v := values(r.samples(kind, n, phase), wall)
	if len(v) < 2 {
		return math.NaN()
	}
	return (slices.Max(v) - slices.Min(v)) / median(v)
}

func (r *Result) has(kind string) bool {
	for _, s := range r.Samples {
		if s.Kind == kind {
			return true
		}
	}
	return false
}

func (r *Result) hasN(n int) bool { return slices.Contains(r.Counts, n) }

func f2(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.0f %%", v*100)
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// pingShape is pgxpool's health check of a connection idle for over a second.
const pingShape = "-- ping"

// Target is one of the report's targets, as measured.
type Target struct {
	What     string
	Measured string
	Met      bool
	Known    bool
}

// Limits are the targets the report checks a run against, on loopback and
// through the latency proxy. Each is a flag of cmd/bench (-target-...); a
// run records its limits in results.json.
type Limits struct {
	// N is the N of the ratio targets at 0 ms; ScaleN the N whose cost per
	// resource is held to Scale × that at N.
	N      int `json:"n"`
	ScaleN int `json:"scale_n"`
	// Plan, PlanNoRefresh, Apply and Destroy bound azurepg's wall time at N
	// over the no-op provider's, by phase.
	Plan          float64 `json:"plan"`
	PlanNoRefresh float64 `json:"plan_no_refresh"`
	Apply         float64 `json:"apply"`
	Destroy       float64 `json:"destroy"`
	Scale         float64 `json:"scale"`
	// ExtraConnections: connections opened per command ≤ max_connections + ExtraConnections.
	ExtraConnections int `json:"extra_connections"`
	// Tokens: token requests per command (one token is valid for the whole command).
	Tokens int `json:"tokens"`
	// StatementsPerRead bounds the statements per resource of a refresh plan
	// (azurepg_principal and azurepg_grant), pgxpool's pings aside.
	StatementsPerRead float64 `json:"statements_per_read"`
	// RTTCounts are the N of the targets over the latency proxy, RTTPlan,
	// RTTApply and RTTDestroy their bounds over the no-op provider.
	RTTCounts  []int   `json:"rtt_counts"`
	RTTPlan    float64 `json:"rtt_plan"`
	RTTApply   float64 `json:"rtt_apply"`
	RTTDestroy float64 `json:"rtt_destroy"`
	// A refresh plan runs at most N/RefreshPer + RefreshSlack statements
	// (one per RefreshPer principals and a few: the snapshot of
	// principals, and of the extensions and azure_ai settings of each
	// database the configuration uses).
	RefreshPer   int `json:"refresh_per"`
	RefreshSlack int `json:"refresh_slack"`
	// GrantRTTApply bounds the apply of the grants dimension through the
	// latency proxy over noop_grant's (0: no such target, as in a
	// results.json written before it was recorded).
	GrantRTTApply float64 `json:"grant_rtt_apply,omitempty"`
}

// DefaultLimits are the targets docs/design/performance.md measures against.
func DefaultLimits() Limits {
	return Limits{
		N: 500, ScaleN: 2000,
		Plan: 1.2, PlanNoRefresh: 1.1, Apply: 1.3, Destroy: 1.3, Scale: 1.2,
		ExtraConnections: 1, Tokens: 1, StatementsPerRead: 1,
		RTTCounts: []int{500, 2000}, RTTPlan: 1.2, RTTApply: 1.3, RTTDestroy: 1.3,
		RefreshPer: 100, RefreshSlack: 5,
		GrantRTTApply: 1.3,
	}
}

// limits are the run's limits; a results.json written before they were
// recorded gets DefaultLimits.
func (r *Result) limits() Limits {
	if r.Limits != nil {
		return *r.Limits
	}
	return DefaultLimits()
}

// Targets checks the run against its limits (DefaultLimits when it has none).
func (r *Result) Targets() []Target {
	lim := r.limits()
	var out []Target
	ratio := func(n int, phase string, limit float64) {
		t := Target{What: fmt.Sprintf("%s of %d principals ≤ %s × no-op", phase, n, factor(limit))}
		if r.hasN(n) && r.has(KindAzurepg) && r.has(KindNoop) {
			v := r.Ratio(KindAzurepg, KindNoop, n, phase)
			t.Known, t.Met = true, v <= limit
			t.Measured = fmt.Sprintf("%.2f × (%.2f s vs %.2f s)", v, r.MedianWall(KindAzurepg, n, phase), r.MedianWall(KindNoop, n, phase))
		}
		out = append(out, t)
	}
	// A run of the dimensions alone (-kinds) has no principal targets.
	principals := r.ranPrincipals()
	if principals {
		ratio(lim.N, PhasePlan, lim.Plan)
		ratio(lim.N, PhasePlanNoRefresh, lim.PlanNoRefresh)
		ratio(lim.N, PhaseApply, lim.Apply)
		ratio(lim.N, PhaseDestroy, lim.Destroy)
	}
	for _, phase := range Phases {
		if !principals {
			break
		}
		t := Target{What: fmt.Sprintf("%s: cost per resource at %d ≤ %s × at %d", phase, lim.ScaleN, factor(lim.Scale), lim.N)}
		if r.hasN(lim.N) && r.hasN(lim.ScaleN) && r.has(KindAzurepg) {
			a := r.MedianWall(KindAzurepg, lim.N, phase) / float64(lim.N)
			b := r.MedianWall(KindAzurepg, lim.ScaleN, phase) / float64(lim.ScaleN)
			t.Known, t.Met = true, b <= lim.Scale*a
			t.Measured = fmt.Sprintf("%.2f × (%.2f ms vs %.2f ms)", b/a, b*1000, a*1000)
		}
		out = append(out, t)
	}
	if r.has(KindAzurepg) {
		var conns, tokens, perRead, pings float64
		for _, n := range r.Counts {
			for _, phase := range Phases {
				conns = math.Max(conns, r.MaxOf(KindAzurepg, n, phase, func(s Sample) float64 { return float64(s.Connections) }))
				tokens = math.Max(tokens, r.MaxOf(KindAzurepg, n, phase, func(s Sample) float64 { return float64(s.TokenRequests) }))
			}
			// pgxpool's "-- ping" on a connection idle for over a second is not part of a read.
			perRead = math.Max(perRead, r.MaxOf(KindAzurepg, n, PhasePlan, func(s Sample) float64 {
				return float64(s.Statements-s.Shapes[pingShape]) / float64(s.N)
			}))
			for _, p := range Phases {
				pings = math.Max(pings, r.MaxOf(KindAzurepg, n, p, func(s Sample) float64 { return float64(s.Shapes[pingShape]) }))
			}
		}
		maxConns := r.MaxConns + lim.ExtraConnections
		out = append(out,
			Target{What: fmt.Sprintf("connections opened per command ≤ max_connections + %d = %d", lim.ExtraConnections, maxConns),
				Measured: fmt.Sprintf("at most %.0f", conns), Met: conns <= float64(maxConns), Known: true},
			Target{What: fmt.Sprintf("token requests per command ≤ %d (token valid)", lim.Tokens),
				Measured: fmt.Sprintf("at most %.0f", tokens), Met: tokens <= float64(lim.Tokens), Known: true},
			Target{What: fmt.Sprintf("statements per resource read (refresh plan) ≤ %s", plain(lim.StatementsPerRead)),
				Known: true, Met: perRead <= lim.StatementsPerRead,
				Measured: fmt.Sprintf("at most %.2f (pgxpool health-check pings aside: at most %.0f per command)", perRead, pings)})
	}
	// Over a network (azurepg_rtt), against the no-op floor, which does not depend on the round trip.
	rtt := func(n int, phase string, limit float64) {
		t := Target{What: fmt.Sprintf("%s of %d principals at %s round trip ≤ %s × no-op", phase, n, r.RTT, factor(limit))}
		if r.hasN(n) && r.has(KindAzurepgRTT) && r.has(KindNoop) {
			v := r.Ratio(KindAzurepgRTT, KindNoop, n, phase)
			t.Known, t.Met = true, v <= limit
			t.Measured = fmt.Sprintf("%.2f × (%.2f s vs %.2f s)", v, r.MedianWall(KindAzurepgRTT, n, phase), r.MedianWall(KindNoop, n, phase))
		}
		out = append(out, t)
	}
	for _, n := range lim.RTTCounts {
		if !principals {
			break
		}
		rtt(n, PhasePlan, lim.RTTPlan)
		rtt(n, PhaseApply, lim.RTTApply)
		rtt(n, PhaseDestroy, lim.RTTDestroy)
	}
	for _, kind := range []string{KindAzurepg, KindAzurepgRTT} {
		if !r.has(kind) || lim.RefreshPer <= 0 {
			continue
		}
		t := Target{What: fmt.Sprintf("%s: statements per refresh plan ≤ N/%d + %d (pgxpool pings aside)", kind, lim.RefreshPer, lim.RefreshSlack), Known: true, Met: true}
		var parts []string
		for _, n := range r.Counts {
			v := r.MaxOf(kind, n, PhasePlan, func(s Sample) float64 { return float64(s.Statements - s.Shapes[pingShape]) })
			if math.IsNaN(v) {
				continue
			}
			limit := float64(n)/float64(lim.RefreshPer) + float64(lim.RefreshSlack)
			t.Met = t.Met && v <= limit
			parts = append(parts, fmt.Sprintf("N = %d: %.0f (limit %.0f)", n, v, limit))
		}
		t.Measured = strings.Join(parts, "; ")
		out = append(out, t)
	}
	for _, d := range Dimensions {
		if !r.has(d.Azurepg) {
			continue
		}
		var perRead float64
		for _, n := range r.DimensionCounts(d) {
			perRead = math.Max(perRead, r.MaxOf(d.Azurepg, n, PhasePlan, func(s Sample) float64 {
				return float64(s.Statements-s.Shapes[pingShape]) / float64(s.N)
			}))
		}
		out = append(out, Target{What: fmt.Sprintf("statements per %s read (refresh plan) ≤ %s", d.Resource, plain(lim.StatementsPerRead)),
			Measured: fmt.Sprintf("at most %.2f (pgxpool health-check pings aside)", perRead), Met: perRead <= lim.StatementsPerRead, Known: true})
	}
	if lim.GrantRTTApply > 0 {
		for _, n := range r.GrantCounts {
			t := Target{What: fmt.Sprintf("apply of %d grants at %s round trip ≤ %s × %s", n, r.RTT, factor(lim.GrantRTTApply), KindNoopGrant)}
			if r.has(KindAzurepgGrantRTT) && r.has(KindNoopGrant) {
				v := r.Ratio(KindAzurepgGrantRTT, KindNoopGrant, n, PhaseApply)
				t.Known, t.Met = true, v <= lim.GrantRTTApply
				t.Measured = fmt.Sprintf("%.2f × (%.2f s vs %.2f s)", v, r.MedianWall(KindAzurepgGrantRTT, n, PhaseApply), r.MedianWall(KindNoopGrant, n, PhaseApply))
			}
			out = append(out, t)
		}
	}
	return out
}

// plain writes a number as short as it goes (1, 0.5).
func plain(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// factor writes a limit with one decimal (1.2, 1.0), or more when it has more (1.25).
func factor(v float64) string {
	s := plain(v)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// tokenNote says how far the identity endpoint was from the provider.
func (r *Result) tokenNote() string {
	if r.TokenRTT > 0 {
		return fmt.Sprintf("the identity endpoint is %s away, behind a proxy of its own", r.TokenRTT)
	}
	return "the token endpoint is not delayed"
}

// networkMarkdown is the network dimension: azurepg at 0 ms (loopback) and
// through the latency proxy, against the no-op provider.
func (r *Result) networkMarkdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("\n## Network dimension: azurepg at 0 ms and %s round trip\n\n", r.RTT)
	w("`azurepg_rtt` is azurepg with its PostgreSQL connections through a loopback proxy that delays every chunk by half the round-trip time each way ")
	w("(%s): a runner and a server in neighbouring regions, or a hosted runner and a private endpoint. ", r.tokenNote())
	w("On loopback (0 ms) the emulator's round trips cost almost nothing. The no-op provider does not talk to a server, so it is the floor for both. ")
	w("Round trips are the provider's flights through the proxy: each time it sends after the server answered (a pipelined batch is one; TLS and login included).\n\n")
	w("| N | phase | noop (s) | azurepg 0 ms (s) | azurepg %s (s) | 0 ms / noop | %s / noop | statements 0 ms | statements %s | round trips %s | connections %s |\n", r.RTT, r.RTT, r.RTT, r.RTT, r.RTT)
	w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	count := func(kind string, n int, p string, f func(Sample) int) string {
		return num(r.MedianOf(kind, n, p, func(s Sample) float64 { return float64(f(s)) }))
	}
	for _, n := range r.Counts {
		for _, p := range Phases {
			w("| %d | %s | %s | %s | %s | **%s** | **%s** | %s | %s | %s | %s |\n", n, p,
				f2(r.MedianWall(KindNoop, n, p)), f2(r.MedianWall(KindAzurepg, n, p)), f2(r.MedianWall(KindAzurepgRTT, n, p)),
				f2(r.Ratio(KindAzurepg, KindNoop, n, p)), f2(r.Ratio(KindAzurepgRTT, KindNoop, n, p)),
				count(KindAzurepg, n, p, func(s Sample) int { return s.Statements }),
				count(KindAzurepgRTT, n, p, func(s Sample) int { return s.Statements }),
				count(KindAzurepgRTT, n, p, func(s Sample) int { return s.RoundTrips }),
				count(KindAzurepgRTT, n, p, func(s Sample) int { return s.Connections }))
		}
	}
	return b.String()
}

// dimensionMarkdown is a dimension's section.
func (r *Result) dimensionMarkdown(w func(format string, args ...any), d Dimension) {
	w("\n## %s: `%s` against `%s` (median of %d)\n\n", title(d.Name), d.Azurepg, d.Noop, r.Reps)
	w("N `%s` resources, %s. `%s` has the same schema and does nothing. ", d.Resource, d.What, d.Noop)
	w("Statements are the provider's, from the server log, pgxpool's health-check pings included.\n\n")
	rtt := r.has(d.RTT)
	if rtt {
		w("`%s` is `%s` through the latency proxy (%s round trip; %s), which counts its round trips.\n\n", d.RTT, d.Azurepg, r.RTT, r.tokenNote())
		w("| N | phase | %[1]s (s) | %[2]s (s) | %[2]s / %[1]s | %[3]s (s) | %[3]s / %[1]s | connections | statements | statements per resource | round trips per resource |\n",
			d.Noop, d.Azurepg, d.RTT)
		w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	} else {
		w("| N | phase | %[1]s (s) | %[2]s (s) | %[2]s / %[1]s | connections | statements | statements per resource |\n", d.Noop, d.Azurepg)
		w("|---:|---|---:|---:|---:|---:|---:|---:|\n")
	}
	counts := r.DimensionCounts(d)
	for _, n := range counts {
		for _, p := range Phases {
			st := r.MedianOf(d.Azurepg, n, p, func(s Sample) float64 { return float64(s.Statements) })
			conns := num(r.MedianOf(d.Azurepg, n, p, func(s Sample) float64 { return float64(s.Connections) }))
			zero := fmt.Sprintf("| %d | %s | %s | %s | **%s** |", n, p, f2(r.MedianWall(d.Noop, n, p)), f2(r.MedianWall(d.Azurepg, n, p)),
				f2(r.Ratio(d.Azurepg, d.Noop, n, p)))
			if !rtt {
				w("%s %s | %s | %s |\n", zero, conns, num(st), f2(st/float64(n)))
				continue
			}
			trips := r.MedianOf(d.RTT, n, p, func(s Sample) float64 { return float64(s.RoundTrips) })
			w("%s %s | **%s** | %s | %s | %s | %s |\n", zero, f2(r.MedianWall(d.RTT, n, p)),
				f2(r.Ratio(d.RTT, d.Noop, n, p)), conns, num(st), f2(st/float64(n)), f2(trips/float64(n)))
		}
	}
	maxN := slices.Max(counts)
	w("\nStatements of `%s` by their first words, N = %d, first repetition:\n\n| phase | statement | count | per resource |\n|---|---|---:|---:|\n", d.Azurepg, maxN)
	for _, p := range Phases {
		ss := r.samples(d.Azurepg, maxN, p)
		if len(ss) == 0 {
			continue
		}
		keys := make([]string, 0, len(ss[0].Shapes))
		for k := range ss[0].Shapes {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return cmp.Or(ss[0].Shapes[b]-ss[0].Shapes[a], strings.Compare(a, b)) })
		for _, k := range keys {
			w("| %s | `%s` | %d | %.3f |\n", p, strings.ReplaceAll(k, "|", "\\|"), ss[0].Shapes[k], float64(ss[0].Shapes[k])/float64(maxN))
		}
	}
}

// title is a dimension's name as a heading starts it.
func title(name string) string {
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// principalsMarkdown is the principals' tables: wall time, CPU time, what
// azurepg did.
func (r *Result) principalsMarkdown(w func(format string, args ...any)) {
	w("## Wall time, median of %d (seconds), and ratios within a repetition\n\n", r.Reps)
	w("![Wall time per phase against N](chart.svg)\n\n")
	w("| N | phase | terraform_data | noop | azurepg | azurepg / noop | noop / terraform_data | spread azurepg | spread noop |\n")
	w("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range r.Counts {
		for _, p := range Phases {
			w("| %d | %s | %s | %s | %s | **%s** | %s | %s | %s |\n", n, p,
				f2(r.MedianWall(KindTerraformData, n, p)), f2(r.MedianWall(KindNoop, n, p)), f2(r.MedianWall(KindAzurepg, n, p)),
				f2(r.Ratio(KindAzurepg, KindNoop, n, p)), f2(r.Ratio(KindNoop, KindTerraformData, n, p)),
				pct(r.Spread(KindAzurepg, n, p)), pct(r.Spread(KindNoop, n, p)))
		}
	}
	w("\nSpread is (slowest − fastest) / median of the %d repetitions of a cell.\n\n", r.Reps)

	w("## CPU time, median (seconds)\n\n")
	w("CPU time depends less on the other jobs than wall time does, so its ratio is the steadier of the two.\n\n")
	w("| N | phase | terraform_data | noop | azurepg (terraform + provider) | azurepg / noop | azurepg server backends |\n|---:|---|---:|---:|---:|---:|---:|\n")
	cpu := func(s Sample) float64 { return s.CPU.Seconds() }
	scpu := func(s Sample) float64 { return s.ServerCPU.Seconds() }
	for _, n := range r.Counts {
		for _, p := range Phases {
			w("| %d | %s | %s | %s | %s | **%s** | %s |\n", n, p, f2(r.MedianOf(KindTerraformData, n, p, cpu)),
				f2(r.MedianOf(KindNoop, n, p, cpu)), f2(r.MedianOf(KindAzurepg, n, p, cpu)),
				f2(r.RatioOf(KindAzurepg, KindNoop, n, p, cpu)), f2(r.MedianOf(KindAzurepg, n, p, scpu)))
		}
	}

	w("\n## What azurepg did per Terraform command (median of %d)\n\n", r.Reps)
	w("| N | phase | connections | statements | statements per resource | token requests |\n|---:|---|---:|---:|---:|---:|\n")
	for _, n := range r.Counts {
		for _, p := range Phases {
			st := r.MedianOf(KindAzurepg, n, p, func(s Sample) float64 { return float64(s.Statements) })
			w("| %d | %s | %s | %s | %s | %s |\n", n, p,
				num(r.MedianOf(KindAzurepg, n, p, func(s Sample) float64 { return float64(s.Connections) })),
				num(st), f2(st/float64(n)),
				num(r.MedianOf(KindAzurepg, n, p, func(s Sample) float64 { return float64(s.TokenRequests) })))
		}
	}

	if r.has(KindAzurepg) {
		maxN := slices.Max(r.Counts)
		w("\nStatements by their first words, N = %d, first repetition:\n\n| phase | statement | count | per resource |\n|---|---|---:|---:|\n", maxN)
		for _, p := range Phases {
			ss := r.samples(KindAzurepg, maxN, p)
			if len(ss) == 0 {
				continue
			}
			keys := make([]string, 0, len(ss[0].Shapes))
			for k := range ss[0].Shapes {
				keys = append(keys, k)
			}
			slices.SortFunc(keys, func(a, b string) int { return cmp.Or(ss[0].Shapes[b]-ss[0].Shapes[a], strings.Compare(a, b)) })
			for _, k := range keys {
				w("| %s | `%s` | %d | %.3f |\n", p, strings.ReplaceAll(k, "|", "\\|"), ss[0].Shapes[k], float64(ss[0].Shapes[k])/float64(maxN))
			}
		}
	}
}

// costMarkdown is the principals' cost per resource.
func (r *Result) costMarkdown(w func(format string, args ...any)) {
	w("\n## Cost per resource (median wall time / N, milliseconds)\n\n")
	w("| phase |")
	for _, k := range Kinds {
		for _, n := range r.Counts {
			w(" %s %d |", k, n)
		}
	}
	w("\n|---|%s\n", strings.Repeat("---:|", len(Kinds)*len(r.Counts)))
	for _, p := range Phases {
		w("| %s |", p)
		for _, k := range Kinds {
			for _, n := range r.Counts {
				w(" %s |", f2(r.MedianWall(k, n, p)/float64(n)*1000))
			}
		}
		w("\n")
	}
}

// ranPrincipals: some of the principals' configurations ran (not only the dimensions).
func (r *Result) ranPrincipals() bool { return slices.ContainsFunc(Kinds, r.has) }

// countsLine says which N ran: the principals' and each dimension's.
func (r *Result) countsLine() string {
	var parts []string
	if r.ranPrincipals() || len(r.Samples) == 0 {
		parts = append(parts, "N = "+joinInts(r.Counts))
	}
	for _, d := range Dimensions {
		if c := r.DimensionCounts(d); len(c) > 0 {
			parts = append(parts, d.Name+" N = "+joinInts(c))
		}
	}
	return strings.Join(parts, ", ")
}

// Markdown is the report: machine, tables of medians, targets, noise.
func (r *Result) Markdown(profileTop map[string]string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.Machine
	w("# Benchmark: the azurepg provider at scale\n\n")
	w("Generated by `make bench` (`go run ./cmd/bench` in `bench/`); do not edit by hand — the analysis is in `docs/design/performance.md`, the latest summary in `docs/design/benchmark-summary.md`.\n")
	w("Run of %s UTC, %s in all, commit `%s`: %s, %d repetitions, configurations interleaved within each repetition.\n\n",
		r.Started.Format("2006-01-02 15:04"), r.Elapsed.Round(time.Second), m.Commit, r.countsLine(), r.Reps)
	if len(r.Env) > 0 {
		w("Extra environment of every terraform command: `%s`.\n\n", strings.Join(r.Env, " "))
	}
	if r.GrantsSetOnly {
		w("The Entra admin held the grant tables' owner with SET and not INHERIT (`-grants-set-only`): it granted as the owner by SET ROLE.\n\n")
	}
	if r.Stopped != "" {
		w("**Incomplete run: %s.** Medians and ratios are over the repetitions that ran.\n\n", r.Stopped)
	}
	w("Each configuration manages N resources through the real `terraform` binary (providers installed with `dev_overrides`, default `-parallelism=10`)")
	if r.ranPrincipals() {
		w(":\n\n")
		w("- **azurepg**: `azurepg_principal` for N users of the emulator's tenant, the provider logging in as the Entra admin with the managed identity (fake endpoint), default `max_connections = %d`;\n", r.MaxConns)
		w("- **noop**: `noop_principal` of a terraform-plugin-framework provider with the same attributes, defaults and plan modifiers whose CRUD does nothing (`bench/noop`): the floor for any provider;\n")
		w("- **terraform_data**: Terraform's built-in resource: Terraform's own cost, no plugin at all.\n\n")
	} else {
		w(", the provider logging in as the Entra admin with the managed identity (fake endpoint), default `max_connections = %d`; ", r.MaxConns)
		w("each dimension below against its no-op stand-in (`bench/noop`).\n\n")
	}
	w("Phases: `apply` (from an empty state), `plan` (with refresh; must be empty), `plan -refresh=false` (must be empty), `destroy`. ")
	w("Connections are the server log's `connection authorized` lines for the provider's login, statements its `statement:` and `execute` lines ")
	w("(`log_statement = all`, on for every configuration: it slows only azurepg, slightly), token requests the fake endpoint's count. ")
	w("CPU is user + system time of `terraform` and the provider processes it waited for; server CPU is that of the PostgreSQL backends that ended during the command.\n\n")

	w("## Machine\n\n| | |\n|---|---|\n")
	w("| CPU | %s, %d cores (shared with other jobs) |\n| memory | %s |\n| kernel | %s |\n", m.CPU, m.Cores, m.Memory, m.Kernel)
	w("| Go / Terraform / PostgreSQL | %s / %s / %s |\n", m.Go, m.Terraform, m.PostgreSQL)
	w("| load average (1, 5, 15 min) at start | %.2f, %.2f, %.2f |\n| load average at end | %.2f, %.2f, %.2f |\n\n",
		m.LoadStart[0], m.LoadStart[1], m.LoadStart[2], m.LoadEnd[0], m.LoadEnd[1], m.LoadEnd[2])

	if r.ranPrincipals() {
		r.principalsMarkdown(w)
	}

	for _, d := range Dimensions {
		if r.has(d.Azurepg) && len(r.DimensionCounts(d)) > 0 {
			r.dimensionMarkdown(w, d)
		}
	}

	if r.has(KindAzurepgRTT) {
		b.WriteString(r.networkMarkdown())
	}

	if r.ranPrincipals() {
		r.costMarkdown(w)
	}

	w("\n## Targets (on loopback and over a network)\n\n| target | measured | met |\n|---|---|---|\n")
	for _, t := range r.Targets() {
		w("| %s | %s | %s |\n", t.What, or(t.Measured, "–"), met(t))
	}

	w("\n## Noise\n\n")
	var loads, spreads []float64
	for _, s := range r.Samples {
		loads = append(loads, s.Load1)
	}
	worst, worstAt := 0.0, ""
	for _, k := range Kinds {
		for _, n := range r.Counts {
			for _, p := range Phases {
				if v := r.Spread(k, n, p); !math.IsNaN(v) {
					spreads = append(spreads, v)
					if v > worst {
						worst, worstAt = v, fmt.Sprintf("%s, N = %d, %s", k, n, p)
					}
				}
			}
		}
	}
	if len(loads) > 0 {
		w("One-minute load average at the end of each command (%d cores): min %.2f, median %.2f, max %.2f. ",
			m.Cores, slices.Min(loads), median(loads), slices.Max(loads))
	}
	if len(spreads) > 0 {
		w("Spread of a cell's repetitions: median %s, worst %s (%s). ", pct(median(spreads)), pct(worst), worstAt)
	}
	w("Other jobs shared the machine, so single times are noisy; the ratios compare configurations run back to back in the same repetition.\n")

	if r.Profile != nil {
		b.WriteString(r.ProfileMarkdown(profileTop))
	} else {
		w("\nThis run had no profiling pass; `-profile-only` runs one alone and writes [profile.md](profile.md).\n")
	}
	return b.String()
}

// Summary is the short form of the report: the run, the wall times and
// ratios, the targets. cmd/bench writes it as summary.md beside README.md;
// docs/design/benchmark-summary.md is a copy of the latest run worth keeping.
func (r *Result) Summary() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.Machine
	w("# Benchmark summary: `azurepg_principal`, `azurepg_grant`, `azurepg_role` and `azurepg_role_membership` at scale\n\n")
	w("Generated by `make bench` (`go run ./cmd/bench` in `bench/`, `summary.md` beside the full report `README.md`); do not edit by hand. ")
	w("`docs/design/benchmark-summary.md` is a copy of the latest run worth keeping; the analysis is in `docs/design/performance.md`.\n\n")
	w("Run of %s UTC, %s in all, commit `%s`: %s, %d repetitions, configurations interleaved within each repetition. ",
		r.Started.Format("2006-01-02 15:04"), r.Elapsed.Round(time.Second), m.Commit, r.countsLine(), r.Reps)
	w("%s, %d cores shared with other jobs, load average %.2f at start and %.2f at end; Go %s, Terraform %s, PostgreSQL %s.\n\n",
		or(m.CPU, "unknown CPU"), m.Cores, m.LoadStart[0], m.LoadEnd[0], m.Go, m.Terraform, m.PostgreSQL)
	if len(r.Env) > 0 {
		w("Extra environment of every terraform command: `%s`.\n\n", strings.Join(r.Env, " "))
	}
	if r.GrantsSetOnly {
		w("The Entra admin held the grant tables' owner with SET and not INHERIT (`-grants-set-only`): it granted as the owner by SET ROLE.\n\n")
	}
	if r.Stopped != "" {
		w("**Incomplete run: %s.**\n\n", r.Stopped)
	}
	if r.ranPrincipals() {
		rtt := r.has(KindAzurepgRTT)
		w("## Wall time, median of %d (seconds), and ratios within a repetition\n\n", r.Reps)
		if rtt {
			w("| N | phase | terraform_data | noop | azurepg | azurepg / noop | azurepg %s | %s / noop |\n|---:|---|---:|---:|---:|---:|---:|---:|\n", r.RTT, r.RTT)
		} else {
			w("| N | phase | terraform_data | noop | azurepg | azurepg / noop |\n|---:|---|---:|---:|---:|---:|\n")
		}
		for _, n := range r.Counts {
			for _, p := range Phases {
				w("| %d | %s | %s | %s | %s | **%s** |", n, p, f2(r.MedianWall(KindTerraformData, n, p)), f2(r.MedianWall(KindNoop, n, p)),
					f2(r.MedianWall(KindAzurepg, n, p)), f2(r.Ratio(KindAzurepg, KindNoop, n, p)))
				if rtt {
					w(" %s | **%s** |", f2(r.MedianWall(KindAzurepgRTT, n, p)), f2(r.Ratio(KindAzurepgRTT, KindNoop, n, p)))
				}
				w("\n")
			}
		}
	}
	for _, d := range Dimensions {
		if !r.has(d.Azurepg) || len(r.DimensionCounts(d)) == 0 {
			continue
		}
		drtt := r.has(d.RTT)
		w("\n## %s, median of %d (seconds)\n\n", title(d.Name), r.Reps)
		if drtt {
			w("| N | phase | %[1]s | %[2]s | %[2]s / %[1]s | %[2]s %[3]s | %[3]s / %[1]s | round trips per resource at %[3]s |\n|---:|---|---:|---:|---:|---:|---:|---:|\n",
				d.Noop, d.Azurepg, r.RTT)
		} else {
			w("| N | phase | %[1]s | %[2]s | %[2]s / %[1]s |\n|---:|---|---:|---:|---:|\n", d.Noop, d.Azurepg)
		}
		for _, n := range r.DimensionCounts(d) {
			for _, p := range Phases {
				w("| %d | %s | %s | %s | **%s** |", n, p, f2(r.MedianWall(d.Noop, n, p)), f2(r.MedianWall(d.Azurepg, n, p)),
					f2(r.Ratio(d.Azurepg, d.Noop, n, p)))
				if drtt {
					trips := r.MedianOf(d.RTT, n, p, func(s Sample) float64 { return float64(s.RoundTrips) })
					w(" %s | **%s** | %s |", f2(r.MedianWall(d.RTT, n, p)), f2(r.Ratio(d.RTT, d.Noop, n, p)), f2(trips/float64(n)))
				}
				w("\n")
			}
		}
	}
	w("\n## Targets\n\n")
	w("The limits are flags of the bench command (`-target-...`, `go run ./cmd/bench -help` in `bench/`).\n\n")
	w("| target | measured | met |\n|---|---|---|\n")
	for _, t := range r.Targets() {
		w("| %s | %s | %s |\n", t.What, or(t.Measured, "–"), met(t))
	}
	return b.String()
}

func met(t Target) string {
	switch {
	case !t.Known:
		return "not measured"
	case t.Met:
		return "yes"
	default:
		return "no"
	}
}

// ProfileMarkdown is the profiling pass's section of the report.
func (r *Result) ProfileMarkdown(profileTop map[string]string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("\n## CPU profile of the providers (N = %d, one pass with profiled builds)\n\n", r.Profile.N)
	w("Provider CPU is the user + system time of the provider processes alone (each writes its own at exit); ")
	w("it depends far less on the other jobs on the machine than wall time does. ")
	w("Profiles: `profile-<configuration>-<phase>.pb.gz` (`go tool pprof -top -cum FILE`; `-diff_base` compares the two), top functions in the `.txt` files.\n\n")
	w("| phase | noop processes | noop provider CPU (s) | azurepg processes | azurepg provider CPU (s) | azurepg / noop | azurepg top functions |\n")
	w("|---|---:|---:|---:|---:|---:|---|\n")
	for _, p := range Phases {
		a, aok := r.Profile.Kinds[KindAzurepg][p]
		nn, nok := r.Profile.Kinds[KindNoop][p]
		ratio := math.NaN()
		if aok && nok && nn.ProviderCPU > 0 {
			ratio = a.ProviderCPU.Seconds() / nn.ProviderCPU.Seconds()
		}
		link := ProfileName(KindAzurepg, p) + ".txt"
		w("| %s | %d | %.2f | %d | %.2f | %s | [%s](%s) |\n", p, nn.Processes, nn.ProviderCPU.Seconds(),
			a.Processes, a.ProviderCPU.Seconds(), f2(ratio), link, link)
	}
	for _, p := range Phases {
		if top := profileTop[p]; top != "" {
			w("\n### azurepg, %s: top functions by cumulative provider CPU\n\n```\n%s```\n", p, top)
		}
	}
	return b.String()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// ProfileName is the file name stem of a configuration's profile of a phase.
func ProfileName(kind, phase string) string {
	return "profile-" + kind + "-" + strings.NewReplacer(" ", "", "=", "-").Replace(phase)
}
