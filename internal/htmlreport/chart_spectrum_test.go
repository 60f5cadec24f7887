package htmlreport

import "testing"

// TestHTMLPercentileLabels: a spectrum's tooltips name the percentile as
// the tables do, and the last point as the maximum.
func TestHTMLPercentileLabels(t *testing.T) {
	cases := []struct{ got, want string }{
		{pctLabel(99.9), "p99.9"}, {pctLabel(50), "p50"}, {pctLabel(100), "max"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
}
