package htmlreport

import (
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
