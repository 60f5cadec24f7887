package chart

import "testing"

func TestHTMLLegendWraps(t *testing.T) {
	var items []LegendItem
	for range 6 {
		items = append(items, LegendItem{Label: "results/2026-11-26T12-00-00Z-some-long-name.json"})
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
