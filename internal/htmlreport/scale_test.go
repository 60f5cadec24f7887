package htmlreport

import (
	"math"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/catalog"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*max(1, math.Abs(b)) }

func labels(ts []tick) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.label
	}
	return strings.Join(out, " ")
}

func TestHTMLNiceStep(t *testing.T) {
	cases := []struct {
		span float64
		n    int
		want float64
	}{
		{10, 5, 2}, {100, 5, 20}, {950, 5, 200}, {1, 4, 0.5}, {12, 8, 2}, {7, 7, 1}, {0, 5, 1}, {30, 3, 10},
	}
	for _, c := range cases {
		if got := niceStep(c.span, c.n); !near(got, c.want) {
			t.Errorf("niceStep(%g, %d) = %g, want %g", c.span, c.n, got, c.want)
		}
	}
}

func TestHTMLLinearTicks(t *testing.T) {
	cases := []struct {
		lo, hi   float64
		n        int
		dlo, dhi float64
		want     string
	}{
		{0, 950, 5, 0, 1000, "0 200 400 600 800 1k"},
		{0, 12, 8, 0, 12, "0s 2s 4s 6s 8s 10s 12s"},
		{0, 23400, 5, 0, 25000, "0 5k 10k 15k 20k 25k"},
		{0, 0.3, 3, 0, 0.3, "0 0.1 0.2 0.3"},
		{0, 0, 5, 0, 1, "0 0.2 0.4 0.6 0.8 1"}, // no data still has an axis
		{5, 5, 5, 5, 10, "5 6 7 8 9 10"},       // a flat line gets a range
	}
	for _, c := range cases {
		format := fmtRate
		if c.want[len(c.want)-1] == 's' {
			format = fmtSeconds
		}
		dlo, dhi, ts := linearTicks(c.lo, c.hi, c.n, format)
		if !near(dlo, c.dlo) || !near(dhi, c.dhi) || labels(ts) != c.want {
			t.Errorf("linearTicks(%g, %g) = [%g, %g] %q, want [%g, %g] %q", c.lo, c.hi, dlo, dhi, labels(ts), c.dlo, c.dhi, c.want)
		}
	}
}

func TestHTMLLogTicks(t *testing.T) {
	cases := []struct {
		lo, hi   float64
		dlo, dhi float64
		want     string
	}{
		// within three decades every 1-2-5 value is labelled
		{800, 1200, 500, 2000, "500µs 1ms 2ms"},
		{300, 48000, 200, 50000, "200µs 500µs 1ms 2ms 5ms 10ms 20ms 50ms"},
		// beyond, only the decades
		{3, 4_000_000, 2, 5_000_000, "10µs 100µs 1ms 10ms 100ms 1s"},
		// zero (a 0µs minimum) is taken as the histograms' 1µs
		{0, 90, 1, 100, "1µs 2µs 5µs 10µs 20µs 50µs 100µs"},
		// one value on the sequence gets room above it
		{1000, 1000, 1000, 2000, "1ms 2ms"},
	}
	for _, c := range cases {
		dlo, dhi, ts := logTicks(c.lo, c.hi, fmtMicros)
		if !near(dlo, c.dlo) || !near(dhi, c.dhi) || labels(ts) != c.want {
			t.Errorf("logTicks(%g, %g) = [%g, %g] %q, want [%g, %g] %q", c.lo, c.hi, dlo, dhi, labels(ts), c.dlo, c.dhi, c.want)
		}
	}
}

func TestHTMLScale(t *testing.T) {
	lin := scale{lo: 0, hi: 100, r0: 50, r1: 850}
	log := scale{lo: 10, hi: 10000, r0: 300, r1: 0, log: true}
	cases := []struct {
		name      string
		got, want float64
	}{
		{"linear low end", lin.at(0), 50}, {"linear high end", lin.at(100), 850}, {"linear middle", lin.at(25), 250},
		{"log low end", log.at(10), 300}, {"log one decade up", log.at(100), 200}, {"log top", log.at(10000), 0},
		{"log clamps zero to the bottom", log.at(0), 300},
		{"empty domain is the middle", scale{lo: 5, hi: 5, r0: 0, r1: 100}.at(5), 50},
	}
	for _, c := range cases {
		if !near(c.got, c.want) {
			t.Errorf("%s: %g, want %g", c.name, c.got, c.want)
		}
	}
}

// TestNinesAxis: each nine is one unit of x, and labels say which.
func TestHTMLNinesAxis(t *testing.T) {
	cases := []struct {
		q, x  float64
		label string
	}{
		{0, 0, "0%"}, {0.9, 1, "90%"}, {0.99, 2, "99%"}, {0.999, 3, "99.9%"}, {0.9999, 4, "99.99%"},
		{0.99999, 5, "99.999%"}, {0.999999, 6, "99.9999%"},
	}
	for _, c := range cases {
		if got := ninesX(c.q); !near(got, c.x) {
			t.Errorf("ninesX(%g) = %g, want %g", c.q, got, c.x)
		}
		if got := ninesPercentile(c.x); !near(got, c.q*100) {
			t.Errorf("ninesPercentile(%g) = %g, want %g", c.x, got, c.q*100)
		}
		if got := ninesLabel(int(c.x)); got != c.label {
			t.Errorf("ninesLabel(%g) = %q, want %q", c.x, got, c.label)
		}
	}
	if got := ninesX(0.5); !near(got, math.Log10(2)) {
		t.Errorf("the median sits at log10(2), got %g", got)
	}
	if got := labels(ninesTicks(3)); got != "0% 90% 99% 99.9%" {
		t.Errorf("ninesTicks(3) = %q", got)
	}
}

func TestHTMLTickFormats(t *testing.T) {
	cases := []struct{ got, want string }{
		{fmtMicros(1), "1µs"}, {fmtMicros(500), "500µs"}, {fmtMicros(1000), "1ms"}, {fmtMicros(2500), "2.5ms"},
		{fmtMicros(123456), "123ms"}, {fmtMicros(1e6), "1s"}, {fmtMicros(6.4e6), "6.4s"}, {fmtMicros(3.6e9), "3600s"},
		{fmtRate(0), "0"}, {fmtRate(950), "950"}, {fmtRate(1000), "1k"}, {fmtRate(12500), "12.5k"},
		{fmtRate(1.5e6), "1.5M"}, {fmtRate(2e9), "2G"}, {fmtSeconds(0), "0s"}, {fmtSeconds(2.5), "2.5s"},
		{fmtSeconds(1200), "1200s"}, {sig3(0.1 + 0.2), "0.3"}, {sig3(12.345), "12.3"},
		{num(1.26), "1.3"}, {num(1.24), "1.2"}, {num(10.0), "10"}, {num(-0.01), "0"}, {num(299.96), "300"},
		{pctLabel(99.9), "p99.9"}, {pctLabel(50), "p50"}, {pctLabel(100), "max"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
}

// TestBarSlot: bars of a group share its middle 80% without overlapping,
// and groups stay apart.
func TestHTMLBarSlot(t *testing.T) {
	cases := []struct {
		g, s, n     int
		left, width float64
	}{
		{0, 0, 1, 0.1, 0.8}, {2, 0, 1, 2.1, 0.8},
		{0, 0, 2, 0.1, 0.4}, {0, 1, 2, 0.5, 0.4},
		{1, 0, 4, 1.1, 0.2}, {1, 3, 4, 1.7, 0.2},
	}
	for _, c := range cases {
		l, w := barSlot(c.g, c.s, c.n)
		if !near(l, c.left) || !near(w, c.width) {
			t.Errorf("barSlot(%d, %d, %d) = %g, %g; want %g, %g", c.g, c.s, c.n, l, w, c.left, c.width)
		}
	}
	l, w := barSlot(0, 2, 3)
	if next, _ := barSlot(1, 0, 3); l+w >= next {
		t.Errorf("the last bar of a group (ends %g) touches the next group (starts %g)", l+w, next)
	}
}

// TestBarAxis: latencies that span orders of magnitude get a log axis;
// rates and close latencies start at zero.
func TestHTMLBarAxis(t *testing.T) {
	cases := []struct {
		name   string
		unit   catalog.Unit
		lo, hi float64
		log    bool
		bottom float64
	}{
		{"spread latencies", catalog.Micros, 39000, 6_400_000, true, 20000},
		{"close latencies", catalog.Micros, 39000, 118000, false, 0},
		{"rates", catalog.PerSecond, 380, 23400, false, 0},
	}
	for _, c := range cases {
		a := barAxis(c.unit, c.lo, c.hi, "y")
		if a.log != c.log || !near(a.lo, c.bottom) {
			t.Errorf("%s: log %v from %g, want log %v from %g", c.name, a.log, a.lo, c.log, c.bottom)
		}
	}
}

func TestHTMLLegendWraps(t *testing.T) {
	var items []legendItem
	for range 6 {
		items = append(items, legendItem{label: "results/2026-11-26T12-00-00Z-some-long-name.json"})
	}
	xs, rows, n := legendRows(items, 60)
	if n < 3 {
		t.Fatalf("%d legend rows for six long labels, want them wrapped", n)
	}
	for i := range xs {
		if rows[i] > 0 && i > 0 && rows[i] != rows[i-1] && xs[i] != 60 {
			t.Errorf("item %d starts a row at x=%g, want the left margin", i, xs[i])
		}
	}
}
