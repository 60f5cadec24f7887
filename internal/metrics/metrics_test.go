package metrics

import (
	"sync"
	"testing"
	"time"
)

// us is n microseconds.
func us[T int64 | int](n T) time.Duration { return time.Duration(n) * time.Microsecond }

func TestSummarizeSyntheticUniform(t *testing.T) {
	reg := NewRegistry(4, &Window{})
	ws := []Worker{reg.NewWorker(), reg.NewWorker(), reg.NewWorker()}
	// 1..10000 µs spread over three workers (and so over three shards).
	for v := int64(1); v <= 10000; v++ {
		ws[v%3].Record(EndToEnd, us(v))
	}
	c := NewCollector(reg)
	c.Collect()
	s, err := Summarize(c.Total(EndToEnd))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		got, want int64
	}{
		{"count", s.Count, 10000},
		{"min", s.MinUs, 1},
		{"p50", s.P50Us, 5000},
		{"p75", s.P75Us, 7500},
		{"p90", s.P90Us, 9000},
		{"p99", s.P99Us, 9900},
		{"p99.9", s.P999Us, 9990},
		{"max", s.MaxUs, 10000},
	}
	for _, c := range cases {
		// 3 significant digits: within 0.1% (+1 for bucket edges).
		if d := c.got - c.want; d < -c.want/1000-1 || d > c.want/1000+1 {
			t.Errorf("%s = %d, want %d ±0.1%%", c.name, c.got, c.want)
		}
	}
	if s.MeanUs < 4995 || s.MeanUs > 5006 {
		t.Errorf("mean = %v, want ~5000.5", s.MeanUs)
	}
	if s.HDR == "" {
		t.Fatal("no encoded histogram")
	}
	h, err := DecodeHDR(s.HDR)
	if err != nil || h.TotalCount() != 10000 || h.ValueAtQuantile(50) != s.P50Us {
		t.Fatalf("decoded histogram: err %v count %d", err, h.TotalCount())
	}
}

func TestSummarizeEmptyIsNil(t *testing.T) {
	s, err := Summarize(NewHistogram())
	if s != nil || err != nil {
		t.Fatalf("Summarize(empty) = %v, %v; want nil, nil", s, err)
	}
}

func TestRecordClampsToRange(t *testing.T) {
	reg := NewRegistry(1, &Window{})
	w := reg.NewWorker()
	w.Record(Confirm, us(-5))
	w.Record(Confirm, us(HighestMicros*10))
	c := NewCollector(reg)
	c.Collect()
	h := c.Total(Confirm)
	if h.TotalCount() != 2 || h.Min() != 0 || !h.ValuesAreEquivalent(h.Max(), HighestMicros) {
		t.Fatalf("count %d min %d max %d", h.TotalCount(), h.Min(), h.Max())
	}
}

func TestCollectIntervalsAndTotals(t *testing.T) {
	reg := NewRegistry(2, &Window{})
	w := reg.NewWorker()
	c := NewCollector(reg)
	w.Record(EndToEnd, us(100))
	for i := 0; i < 3; i++ {
		w.Count(Published, 1)
	}
	iv := c.Collect()
	if iv.Latency[EndToEnd].TotalCount() != 1 || iv.Counts[Published] != 3 {
		t.Fatalf("first interval: %d samples, %d published", iv.Latency[EndToEnd].TotalCount(), iv.Counts[Published])
	}
	w.Record(EndToEnd, us(200))
	w.Record(EndToEnd, us(300))
	iv = c.Collect()
	if n := iv.Latency[EndToEnd].TotalCount(); n != 2 {
		t.Fatalf("second interval has %d samples, want 2", n)
	}
	if n := c.Total(EndToEnd).TotalCount(); n != 3 {
		t.Fatalf("total has %d samples, want 3", n)
	}
	if iv = c.Collect(); iv.Latency[EndToEnd].TotalCount() != 0 {
		t.Fatal("an empty interval reported samples")
	}
}

// TestWindowSplitsCounts: events are in the measured counts when their own
// timestamp is at or after the window's start.
func TestWindowSplitsCounts(t *testing.T) {
	win := NewWindow()
	reg := NewRegistry(1, win)
	w := reg.NewWorker()
	w.Count(Published, 5) // before the window is set: nothing is measured
	win.Set(100)
	w.Count(Published, 99)  // warm-up
	w.Count(Published, 100) // the window's first instant
	w.Count(Consumed, 150)
	if all, in := reg.Counts(), reg.Measured(); all[Published] != 3 || in[Published] != 1 || in[Consumed] != 1 {
		t.Fatalf("all %v measured %v", all[:NumCounters], in[:NumCounters])
	}
	if !win.Measured(100) || win.Measured(99) || reg.Window() != win {
		t.Fatal("window bounds")
	}
}

func TestCountsSub(t *testing.T) {
	a := Counts{10, 9, 8, 7, 6}
	b := Counts{1, 2, 3, 4, 5}
	if got := a.Sub(b); got != (Counts{9, 7, 5, 3, 1}) {
		t.Fatalf("Sub = %v", got)
	}
}

// TestConcurrentRecordAndCollect checks under -race that collection while
// workers record loses nothing.
func TestConcurrentRecordAndCollect(t *testing.T) {
	reg := NewRegistry(3, &Window{})
	c := NewCollector(reg)
	const workers, per = 8, 5000
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		w := reg.NewWorker()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < per; j++ {
				w.Record(EndToEnd, us(int64(j+1)))
				w.Count(Consumed, 1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			c.Collect()
		}
	}
	iv := c.Collect()
	if n := c.Total(EndToEnd).TotalCount(); n != workers*per {
		t.Fatalf("total samples = %d, want %d", n, workers*per)
	}
	if iv.Counts[Consumed] != workers*per {
		t.Fatalf("consumed = %d, want %d", iv.Counts[Consumed], workers*per)
	}
}

func BenchmarkRecord(b *testing.B) {
	reg := NewRegistry(1, &Window{})
	w := reg.NewWorker()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Record(EndToEnd, us(int64(i&0xFFFF)))
		w.Count(Consumed, 1)
	}
}

func BenchmarkRecordParallel(b *testing.B) {
	reg := NewRegistry(16, &Window{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := reg.NewWorker()
		i := int64(0)
		for pb.Next() {
			i++
			w.Record(EndToEnd, us(i&0xFFFF))
			w.Count(Consumed, 1)
		}
	})
}

// BenchmarkCollect5000Workers shows the per-interval merge cost with 5,000
// registered workers: it depends on the shard count, not the worker count.
func BenchmarkCollect5000Workers(b *testing.B) {
	reg := NewRegistry(8, &Window{})
	for i := 0; i < 5000; i++ {
		w := reg.NewWorker()
		w.Record(EndToEnd, us(int64(i+1)))
	}
	c := NewCollector(reg)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Collect()
	}
}
