package catalog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// phased is a result with two phases whose every figure has a value of
// its own.
func phased() *result.Result {
	r := &result.Result{}
	n := int64(1000)
	next := func() int64 { n++; return n }
	i64 := func() *int64 { v := next(); return &v }
	f64 := func() *float64 { v := float64(next()) + 0.5; return &v }
	for _, name := range []string{"fill", "drain"} {
		ph := result.Phase{Name: name, StartS: float64(next()), EndS: float64(next()), Seconds: float64(next()),
			Totals:       result.PhaseTotals{Published: next(), Confirmed: next(), Consumed: next(), Returned: next(), Nacked: next()},
			Rates:        result.PhaseRates{PublishedPerS: float64(next()), ConfirmedPerS: float64(next()), ConsumedPerS: float64(next())},
			BacklogStart: i64(), BacklogEnd: i64(), BacklogPeak: i64(), DrainS: f64(), RecoveryS: f64()}
		ph.Latency[metrics.EndToEnd] = &metrics.Summary{Count: next(), MinUs: next(), MeanUs: float64(next()), P50Us: next(), P75Us: next(),
			P90Us: next(), P95Us: next(), P99Us: next(), P999Us: next(), P9999Us: next(), MaxUs: next()}
		r.Phases = append(r.Phases, ph)
	}
	return r
}

// TestPhasePathsAreTheJSONPaths: every figure Present lists for a phased
// result reads the number its JSON holds at that path, the phase found
// by its name in the phases list.
func TestPhasePathsAreTheJSONPaths(t *testing.T) {
	r := phased()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[float64]string{}
	count := 0
	for _, f := range Present(r) {
		parts := strings.Split(f.Path, ".")
		if parts[0] != "phases" {
			continue
		}
		count++
		got, ok := f.Value(r)
		if !ok {
			t.Errorf("%s: no value", f.Path)
			continue
		}
		var cur any
		for _, ph := range doc["phases"].([]any) {
			if m := ph.(map[string]any); m["name"] == parts[1] {
				cur = m
			}
		}
		for _, part := range parts[2:] {
			m, _ := cur.(map[string]any)
			cur = m[part]
		}
		if want, _ := cur.(float64); want != got || cur == nil {
			t.Errorf("%s reads %v, the JSON holds %v", f.Path, got, cur)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s and %s read the same field", f.Path, other)
		}
		seen[got] = f.Path
	}
	if want := 2 * (len(phaseScalars) + len(phaseCounts) + len(phaseRates) + len(latencyStats)); count != want {
		t.Errorf("%d phase figures, want %d", count, want)
	}
	for p, gate := range map[string]bool{"phases.drain.drain_s": true, "phases.drain.recovery_s": true, "phases.drain.backlog_peak": true,
		"phases.fill.rates.published_per_s": true, "phases.fill.latency.end_to_end.p99_us": true, "phases.fill.s": false,
		"phases.fill.totals.published": false, "phases.fill.latency.end_to_end.count": false} {
		f, err := Gateable(p)
		if (err == nil) != gate {
			t.Errorf("Gateable(%s): %v, want gateable %v (%+v)", p, err, gate, f)
		}
	}
	for _, bad := range []string{"phases.fill", "phases.fill.nope", "phases.fill.latency.end_to_end.p42_us", "phases.fill.latency.nope.p99_us", "phases.fill.rates.x"} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("%s found", bad)
		}
	}
	if v, ok := Lookup("phases.absent.drain_s"); !ok {
		t.Error("a phase's figure is a figure whatever the phase")
	} else if _, has := v.Value(r); has {
		t.Error("a phase the result does not have has a value")
	}
}
