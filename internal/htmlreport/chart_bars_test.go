package htmlreport

import (
	"math"
	"testing"

	"github.com/mqbench/mqbench/internal/catalog"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*max(1, math.Abs(b)) }

// TestHTMLBarSlot: bars of a group share its middle 80% without overlapping,
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

// TestHTMLBarAxis: latencies that span orders of magnitude get a log axis;
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
		if a.Log != c.log || !near(a.Lo, c.bottom) {
			t.Errorf("%s: log %v from %g, want log %v from %g", c.name, a.Log, a.Lo, c.log, c.bottom)
		}
	}
}
