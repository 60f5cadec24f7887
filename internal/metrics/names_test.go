package metrics

import "testing"

// TestEveryFigureHasItsNames: a kind or counter added without its names
// fails here, not in a report.
func TestEveryFigureHasItsNames(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds() {
		i := k.Info()
		if i.Key == "" || i.Label == "" || i.Short == "" || i.Prom == "" || seen[i.Prom] {
			t.Errorf("kind %d: %+v", k, i)
		}
		seen[i.Prom] = true
	}
	for c := Counter(0); c < NumCounters; c++ {
		if c.Prom() == "" || seen[c.Prom()] {
			t.Errorf("counter %d has no (or a repeated) Prometheus name %q", c, c.Prom())
		}
		seen[c.Prom()] = true
	}
}
