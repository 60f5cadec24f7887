package htmlreport

import (
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/result"
)

// TestChartsFoldShortIntervals: the time charts show a run's intervals
// folded (result.Fold), so a millisecond-long interval at the end of the
// warm-up (5 messages in 1 ms: 5,000/s) and a short last interval (2 in
// 10 ms) draw no spike or dip, and each point is one interval of the run.
func TestChartsFoldShortIntervals(t *testing.T) {
	r := sampleRun(t, "fold", 1)
	ms := result.Interval{TS: 2.001, Seconds: 0.001, Published: 5, Confirmed: 5, Consumed: 5, E2EP50Us: i64(90000), E2EP99Us: i64(90000)}
	r.Intervals = append(r.Intervals[:2], append([]result.Interval{ms}, r.Intervals[2:]...)...)
	r.Intervals[3].Seconds = 0.999
	r.Intervals = append(r.Intervals, result.Interval{TS: 12.01, Seconds: 0.01, Published: 2, Confirmed: 2, Consumed: 2})
	for _, s := range rateSeries(r) {
		if len(s.xs) != 12 {
			t.Errorf("%s: %d points, want the run's 12 seconds", s.label, len(s.xs))
		}
		for i, y := range s.ys {
			if y < 900 || y > 1100 {
				t.Errorf("%s at %.3f s: %.0f/s, want about 1,000/s (no spike, no dip)", s.label, s.xs[i], y)
			}
		}
	}
	for _, s := range latencySeries(r) {
		for i, y := range s.ys {
			if y >= 90000 {
				t.Errorf("%s at %.3f s: %.0f µs, the millisecond interval's own figure", s.label, s.xs[i], y)
			}
		}
	}
	if b := runBands(chartIntervals(r)); len(b) == 0 || b[0].class != "warmup" || b[0].to != 2 {
		t.Errorf("bands %+v: want the warm-up band to end at 2 s", b)
	}
}

// TestPhasesShadedAndNamed: a phased run's time charts shade each phase
// in turn and write its name; its backlog is charted and its phases
// tabled; a run without phases has neither.
func TestPhasesShadedAndNamed(t *testing.T) {
	r := sampleRun(t, "phases", 1)
	names := []string{"steady", "steady", "steady", "steady", "outage", "outage", "outage", "outage", "recovery", "recovery", "recovery", "recovery"}
	for i := range r.Intervals {
		r.Intervals[i].Warmup, r.Intervals[i].Phase = false, names[i]
	}
	r.Intervals = append(r.Intervals, result.Interval{TS: 12.5, Seconds: 0.5, Drain: true})
	f64 := func(v float64) *float64 { return &v }
	r.Phases = []result.Phase{{Name: "steady", EndS: 4, Seconds: 4, Ended: result.StopDuration},
		{Name: "outage", StartS: 4, EndS: 8, Seconds: 4, Ended: result.StopDuration, BacklogEnd: i64(4000)},
		{Name: "recovery", StartS: 8, EndS: 12, Seconds: 4, Ended: result.StopDuration, DrainS: f64(2.5), RecoveryS: f64(3), RecoveryOf: "steady", RecoveryTargetUs: i64(5000)}}
	var bands []band
	for _, b := range runBands(chartIntervals(r)) {
		if b.label != "" {
			bands = append(bands, b)
		}
	}
	if len(bands) != 3 || bands[0].from != 0 || bands[0].to != 4 || bands[1].class == bands[0].class || bands[2].class != bands[0].class ||
		bands[1].label != "outage" || bands[2].to != 12 {
		t.Fatalf("phase bands %+v", bands)
	}
	page := render(t, Input{Results: []Result{{File: "phases.json", Doc: r}}})
	for _, want := range []string{`class="band-label"`, ">outage</text>", `<title>phase recovery</title>`, "Backlog at the end of each interval",
		"<h3>Phases</h3>", "recovered once an interval"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	plain := render(t, Input{Results: []Result{{File: "plain.json", Doc: sampleRun(t, "plain", 1)}}})
	if strings.Contains(plain, `class="band-label"`) || strings.Contains(plain, "Backlog at the end") || strings.Contains(plain, "<h3>Phases</h3>") {
		t.Error("a run without phases shows phases")
	}
}
