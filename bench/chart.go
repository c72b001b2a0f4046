package bench

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

var kindColors = map[string]string{
	KindTerraformData: "#7f7f7f",
	KindNoop:          "#1f77b4",
	KindAzurepg:       "#d62728",
	KindAzurepgRTT:    "#ff7f0e",
}

// chartKinds are the configurations the chart draws, when they ran.
var chartKinds = []string{KindTerraformData, KindNoop, KindAzurepg, KindAzurepgRTT}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// SVG draws median wall time against N, one panel per phase, one line per
// configuration; azurepg's points carry their ratio to the no-op provider.
func (r *Result) SVG() string {
	const (
		panelW, panelH = 460, 300
		left, right    = 60, 20
		top, bottom    = 34, 46
		header         = 64
	)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	width, height := 2*panelW, header+2*panelH
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	w(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	w(`<text x="%d" y="22" font-size="16" text-anchor="middle">Median wall time of one terraform command against N resources (%d repetitions, %s)</text>`+"\n",
		width/2, r.Reps, html.EscapeString(r.Started.Format("2006-01-02")))
	lx := 60
	for _, k := range chartKinds {
		if !r.has(k) {
			continue
		}
		label := k
		switch k {
		case KindAzurepg:
			label = "azurepg, 0 ms"
		case KindAzurepgRTT:
			label = fmt.Sprintf("azurepg, %s round trip", r.RTT)
		}
		w(`<line x1="%d" y1="44" x2="%d" y2="44" stroke="%s" stroke-width="3"/><text x="%d" y="48">%s</text>`+"\n", lx, lx+24, kindColors[k], lx+30, html.EscapeString(label))
		lx += 210
	}
	w(`<text x="%d" y="60" font-size="11" fill="#555" text-anchor="middle">labels: azurepg ÷ noop in the same repetition (median); noop is the floor at any round trip; %d cores, %s</text>`+"\n",
		width/2, r.Machine.Cores, html.EscapeString(r.Machine.CPU))

	counts := slices.Clone(r.Counts)
	slices.Sort(counts)
	maxN := float64(counts[len(counts)-1])
	for i, phase := range Phases {
		ox, oy := (i%2)*panelW, header+(i/2)*panelH
		pw, ph := float64(panelW-left-right), float64(panelH-top-bottom)
		ymax := 0.0
		for _, k := range chartKinds {
			for _, n := range counts {
				if v := r.MedianWall(k, n, phase); !math.IsNaN(v) {
					ymax = math.Max(ymax, v)
				}
			}
		}
		ymax = niceCeil(ymax * 1.05)
		x := func(n int) float64 { return float64(ox+left) + float64(n)/maxN*pw }
		y := func(v float64) float64 { return float64(oy+top) + ph - v/ymax*ph }
		w(`<text x="%d" y="%d" font-size="14" font-weight="bold" text-anchor="middle">%s</text>`+"\n", ox+left+int(pw/2), oy+top-12, html.EscapeString(phase))
		w(`<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", ox+left, oy+top, pw, ph)
		for t := 0; t <= 5; t++ {
			v := ymax * float64(t) / 5
			w(`<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, ox+left, y(v), float64(ox+left)+pw, y(v))
			w(`<text x="%d" y="%.1f" text-anchor="end" font-size="11">%s</text>`+"\n", ox+left-5, y(v)+4, trimFloat(v))
		}
		for _, n := range counts {
			w(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11">%d</text>`+"\n", x(n), float64(oy+top)+ph+15, n)
		}
		w(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="#555">N resources</text>`+"\n", float64(ox+left)+pw/2, float64(oy+top)+ph+32)
		w(`<text transform="translate(%d %.1f) rotate(-90)" text-anchor="middle" font-size="11" fill="#555">seconds</text>`+"\n", ox+16, float64(oy+top)+ph/2)
		for _, k := range chartKinds {
			var pts []string
			for _, n := range counts {
				if v := r.MedianWall(k, n, phase); !math.IsNaN(v) {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(n), y(v)))
				}
			}
			if len(pts) == 0 {
				continue
			}
			w(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), kindColors[k])
			for _, n := range counts {
				v := r.MedianWall(k, n, phase)
				if math.IsNaN(v) {
					continue
				}
				w(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, x(n), y(v), kindColors[k])
				if k == KindAzurepg || k == KindAzurepgRTT {
					if ratio := r.Ratio(k, KindNoop, n, phase); !math.IsNaN(ratio) {
						w(`<text x="%.1f" y="%.1f" font-size="11" fill="%s" text-anchor="end">×%.2f</text>`, x(n)-6, y(v)-6, kindColors[k], ratio)
					}
				}
				w("\n")
			}
		}
	}
	w("</svg>\n")
	return b.String()
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
