package merge

import (
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// msInterval is the millisecond-long interval a shard keeps when the
// warm-up timer and the ticker fire together at 2 s: 2.000 to 2.001 s,
// holding one message whose latency (9 ms) stands out.
func msInterval(t *testing.T, warmup bool) result.Interval {
	t.Helper()
	h := metrics.NewHistogram()
	if err := h.RecordValue(9000); err != nil {
		t.Fatal(err)
	}
	enc, err := metrics.EncodeHDR(h)
	if err != nil {
		t.Fatal(err)
	}
	v := int64(9000)
	return result.Interval{TS: 2.001, Seconds: 0.001, Warmup: warmup, Published: 1, Consumed: 1, CPUCores: 3,
		E2EP50Us: &v, E2EP99Us: &v, HDR: map[string]string{metrics.EndToEnd.String(): enc}}
}

// withWarmup marks a shard's first two intervals (to 2 s) as warm-up and
// inserts extra after them.
func withWarmup(r *result.Result, extra ...result.Interval) {
	for i := range r.Intervals[:2] {
		r.Intervals[i].Warmup = true
	}
	r.Intervals = append(r.Intervals[:2], append(extra, r.Intervals[2:]...)...)
	if len(extra) > 0 {
		r.Intervals[3].Seconds = 0.999 // the next tick, at 3 s
	}
}

// TestMergeAlignsAMillisecondInterval: a shard that kept a millisecond-long
// interval at the end of its warm-up (the timer and the ticker fired
// together) merges into the same wall-clock slots as the others: the short
// interval folds into its neighbour of the same phase (the next one when it
// is measured, the previous one when it is warm-up), never across the
// warm-up's end, and every later slot holds both shards' same second.
func TestMergeAlignsAMillisecondInterval(t *testing.T) {
	for _, tc := range []struct {
		name   string
		warmup bool
		into   int // the slot (0-based) the short interval folds into
	}{{"measured", false, 2}, {"warm-up", true, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			a := shard(t, 0, 2, 0, 10, 100, 100)
			b := shard(t, 1, 2, 3*time.Millisecond, 10, 300, 200)
			withWarmup(a)
			withWarmup(b, msInterval(t, tc.warmup))
			m, err := Merge([]Input{{"a", a}, {"b", b}})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Intervals) != 10 {
				t.Fatalf("%d merged intervals, want 10 (one per second)", len(m.Intervals))
			}
			for i, iv := range m.Intervals {
				want := int64(400)
				if i == tc.into {
					want++
				}
				if iv.Published != want || iv.Warmup != (i < 2) {
					t.Errorf("slot %d (t_s %.3f): published %d warm-up %v, want %d and %v", i, iv.TS, iv.Published, iv.Warmup, want, i < 2)
				}
				if iv.TS < float64(i+1) || iv.TS > float64(i+1)+0.01 {
					t.Errorf("slot %d ends at %.3f s, want %d s", i, iv.TS, i+1)
				}
				if iv.CPUCores > 1 {
					t.Errorf("slot %d: %.3f cores: the short interval's gauge was added, not weighted by its length", i, iv.CPUCores)
				}
			}
			// The short interval's sample (9 ms) is in its slot's histogram.
			if p := m.Intervals[tc.into].E2EP99Us; p == nil || *p < 9000 {
				t.Errorf("slot %d p99 %v, want the folded interval's 9 ms", tc.into, p)
			}
			if p := m.Intervals[tc.into+1].E2EP99Us; p == nil || *p >= 9000 {
				t.Errorf("slot %d p99 %v, want no 9 ms sample (it belongs to slot %d)", tc.into+1, p, tc.into)
			}
		})
	}
}

// TestMergeSkewNearHalfAnInterval: a shard released half an interval after
// the other (a late start) overlaps two of the other's seconds equally;
// whichever it pairs with, it pairs the same way all along, even though
// its ticks jitter by a few milliseconds either way: its offset is
// rounded to whole intervals once, not decided again at every tick. Here
// it is rounded up: a's first second and b's last stand alone.
func TestMergeSkewNearHalfAnInterval(t *testing.T) {
	a := shard(t, 0, 2, 0, 10, 100, 100)
	b := shard(t, 1, 2, 500*time.Millisecond, 10, 300, 200)
	for i := range b.Intervals {
		jitter := 0.004
		if i%2 == 1 {
			jitter = -0.004
		}
		b.Intervals[i].TS += jitter
	}
	m, err := Merge([]Input{{"a", a}, {"b", b}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Intervals) != 11 {
		t.Fatalf("%d merged intervals, want 11", len(m.Intervals))
	}
	for i, iv := range m.Intervals {
		want := int64(400)
		switch i {
		case 0:
			want = 100
		case 10:
			want = 300
		}
		if iv.Published != want {
			t.Errorf("slot %d (t_s %.3f): published %d, want %d", i, iv.TS, iv.Published, want)
		}
	}
}
