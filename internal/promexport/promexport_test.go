package promexport

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// TestSpans: native buckets are encoded as runs with offsets and deltas,
// as Prometheus decodes them.
func TestSpans(t *testing.T) {
	sp, d := spans(map[int]int64{3: 5, 4: 7, 9: 1, -2: 2})
	got := ""
	for _, s := range sp {
		got += " " + strconv.Itoa(int(s.GetOffset())) + "/" + strconv.Itoa(int(s.GetLength()))
	}
	if got != " -2/1 4/2 4/1" || len(d) != 4 || d[0] != 2 || d[1] != 3 || d[2] != 2 || d[3] != -6 {
		t.Fatalf("spans%s deltas %v", got, d)
	}
}

// TestNativeIndex: bucket i holds (2^((i-1)/8), 2^(i/8)].
func TestNativeIndex(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want int
	}{{1, 0}, {1.0001, 1}, {math.Pow(2, 1.0/8), 1}, {2, 8}, {0.5, -8}, {0.001, -79}} {
		if got := nativeIndex(c.v); got != c.want {
			t.Errorf("nativeIndex(%g) = %d, want %d", c.v, got, c.want)
		}
	}
}

// TestHistogramAgreesWithHDR: the written histogram's count and sum are
// the HDR's, its classic buckets count what lies below each bound, and the
// native buckets hold every sample.
func TestHistogramAgreesWithHDR(t *testing.T) {
	h := metrics.NewHistogram()
	for v := int64(1); v <= 100_000; v += 7 { // 1 µs to 100 ms
		_ = h.RecordValue(v)
	}
	var m dto.Metric
	if err := (hdrMetric{h: h}).Write(&m); err != nil {
		t.Fatal(err)
	}
	hp := m.GetHistogram()
	if int64(hp.GetSampleCount()) != h.TotalCount() {
		t.Fatalf("count %d, HDR %d", hp.GetSampleCount(), h.TotalCount())
	}
	if mean := hp.GetSampleSum() / float64(hp.GetSampleCount()); math.Abs(mean-h.Mean()/1e6) > 1e-6 {
		t.Errorf("mean %g s, HDR %g s", mean, h.Mean()/1e6)
	}
	for _, b := range hp.GetBucket() {
		want := 0
		for v := int64(1); v <= 100_000; v += 7 {
			if float64(v)/1e6 <= b.GetUpperBound()*1.001 {
				want++
			}
		}
		if got := int(b.GetCumulativeCount()); got < want-want/500-1 || got > want {
			t.Errorf("bucket ≤ %gs: %d, want %d", b.GetUpperBound(), got, want)
		}
	}
	var native int64
	var running int64
	for _, d := range hp.GetPositiveDelta() {
		running += d
		native += running
	}
	if native+int64(hp.GetZeroCount()) != h.TotalCount() {
		t.Errorf("native buckets hold %d of %d samples", native, h.TotalCount())
	}
}

// TestMetricsEndpoint: /metrics serves the counters, gauges and
// histograms with the run's labels.
func TestMetricsEndpoint(t *testing.T) {
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.Run(Labels{Scenario: "t", Variant: "prefetch=1"}, map[string]int{"producer": 2}).(engine.SnapshotSink)
	var c metrics.Counts
	c[metrics.Published], c[metrics.Consumed] = 1000, 990
	lat := [metrics.NumKinds]*hdr.Histogram{}
	lat[metrics.EndToEnd] = metrics.NewHistogram()
	_ = lat[metrics.EndToEnd].RecordValue(1500)
	backlog := int64(10)
	s.Snapshot(engine.Snapshot{Counts: c, Latency: lat, Interval: result.Interval{Backlog: &backlog, Seconds: 1}, ConnectionsUp: 3})
	resp, err := http.Get("http://" + e.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		`mqbench_messages_published_total{scenario="t",shard="",variant="prefetch=1"} 1000`,
		`mqbench_messages_consumed_total{scenario="t",shard="",variant="prefetch=1"} 990`,
		`mqbench_connections_up{scenario="t",shard="",variant="prefetch=1"} 3`,
		`mqbench_backlog_messages{scenario="t",shard="",variant="prefetch=1"} 10`,
		`mqbench_workers{role="producer",scenario="t",shard="",variant="prefetch=1"} 2`,
		`mqbench_end_to_end_latency_seconds_bucket{scenario="t",shard="",variant="prefetch=1",le="0.0025"} 1`,
		`mqbench_end_to_end_latency_seconds_count{scenario="t",shard="",variant="prefetch=1"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

// TestRepeatedVariantScrapes: the runs of a repeated variant (--repeat)
// share their labels; /metrics keeps answering (HTTP 200) with the latest
// run's series, and a scrape during a snapshot races with nothing (-race).
func TestRepeatedVariantScrapes(t *testing.T) {
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l := Labels{Scenario: "t", Variant: "prefetch=1"}
	for run, published := range []int64{1000, 30} {
		s := e.Run(l, map[string]int{"producer": 1}).(engine.SnapshotSink)
		var c metrics.Counts
		c[metrics.Published] = published
		lat := [metrics.NumKinds]*hdr.Histogram{}
		lat[metrics.EndToEnd] = metrics.NewHistogram()
		done := make(chan struct{})
		go func() { // snapshots while scraping
			defer close(done)
			for range 50 {
				_ = lat[metrics.EndToEnd].RecordValue(1500)
				s.Snapshot(engine.Snapshot{Counts: c, Latency: lat})
			}
		}()
		var text string
		for range 5 {
			resp, err := http.Get("http://" + e.Addr() + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("run %d: HTTP %d: %s", run+1, resp.StatusCode, body)
			}
			text = string(body)
		}
		<-done
		want := `mqbench_messages_published_total{scenario="t",shard="",variant="prefetch=1"} ` + strconv.FormatInt(published, 10)
		if !strings.Contains(text, want) || strings.Count(text, "mqbench_messages_published_total{") != 1 {
			t.Errorf("run %d: want one series %s in\n%s", run+1, want, text)
		}
	}
}

// TestEmptyNativeHistogramStaysNative: a latency with no samples yet still
// reads as a native histogram (a span of no buckets), not as a classic one.
func TestEmptyNativeHistogramStaysNative(t *testing.T) {
	var m dto.Metric
	if err := (hdrMetric{h: metrics.NewHistogram()}).Write(&m); err != nil {
		t.Fatal(err)
	}
	if h := m.GetHistogram(); h.GetSampleCount() != 0 || len(h.GetPositiveSpan()) != 1 || h.GetPositiveSpan()[0].GetLength() != 0 {
		t.Fatalf("empty histogram %v: want one span of length 0", h)
	}
}

// nativeCounts expands a native histogram's spans and deltas to a count
// per bucket index.
func nativeCounts(h *dto.Histogram) map[int]uint64 {
	out := map[int]uint64{}
	deltas := h.GetPositiveDelta()
	var running int64
	i, d := 0, 0
	for _, s := range h.GetPositiveSpan() {
		i += int(s.GetOffset())
		for range s.GetLength() {
			running += deltas[d]
			out[i] = uint64(running)
			i, d = i+1, d+1
		}
	}
	return out
}

// TestNativeBucketsMatchClientGolang: the native buckets written from the
// HDR are those client_golang's own native histogram (schema 3, factor
// 1.1) makes of the same samples — a second implementation, not ours —
// exactly where HDR holds every microsecond apart (below 2,048 µs), and
// above within the samples of the HDR bar at each of the bucket's two
// bounds (a bar is at most 1/1024 of its value wide; the samples here are
// 7 µs apart).
func TestNativeBucketsMatchClientGolang(t *testing.T) {
	h := metrics.NewHistogram()
	ref := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ref", NativeHistogramBucketFactor: 1.1})
	for v := int64(1); v <= 100_000; v += 7 { // 1 µs to 100 ms
		_ = h.RecordValue(v)
		ref.Observe(float64(v) / 1e6)
	}
	var ours, theirs dto.Metric
	if err := (hdrMetric{h: h}).Write(&ours); err != nil {
		t.Fatal(err)
	}
	if err := ref.Write(&theirs); err != nil {
		t.Fatal(err)
	}
	if s := theirs.GetHistogram().GetSchema(); s != NativeSchema {
		t.Fatalf("client_golang chose schema %d for factor 1.1, want %d", s, NativeSchema)
	}
	got, want := nativeCounts(ours.GetHistogram()), nativeCounts(theirs.GetHistogram())
	var total, exact int
	for i := -200; i <= 0; i++ { // 2^-25 s (30 ns) to 1 s: every index either holds
		g, w := int64(got[i]), int64(want[i])
		total += int(g)
		upperUs := math.Pow(2, float64(i)/8) * 1e6
		tol := int64(0)
		if upperUs >= 2048 {
			tol = 2 * (int64(upperUs/1024/7) + 1)
		} else if w > 0 {
			exact++
		}
		if d := g - w; d < -tol || d > tol {
			t.Errorf("native bucket %d (≤ %.0f µs): %d samples, client_golang %d (tolerance %d)", i, upperUs, g, w, tol)
		}
	}
	if int64(total) != h.TotalCount() || exact < 20 {
		t.Errorf("%d samples in the native buckets of %d; %d buckets compared exactly", total, h.TotalCount(), exact)
	}
}

// TestPhaseSeries: a phased run serves mqbench_phase{phase} for every
// phase seen: 1 for the one under way, 0 for those over, and 0 for all
// once the load stopped (the drain is in no phase) and the run is done.
func TestPhaseSeries(t *testing.T) {
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	sink := e.Run(Labels{Scenario: "t"}, map[string]int{"producer": 1})
	s := sink.(engine.SnapshotSink)
	scrape := func() string {
		resp, err := http.Get("http://" + e.Addr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	series := func(phase string, v int) string {
		return `mqbench_phase{phase="` + phase + `",scenario="t",shard="",variant=""} ` + strconv.Itoa(v)
	}
	s.Snapshot(engine.Snapshot{Interval: result.Interval{Seconds: 1, Phase: "fill"}})
	s.Snapshot(engine.Snapshot{Interval: result.Interval{Seconds: 1, Phase: "drain"}})
	text := scrape()
	for _, want := range []string{series("fill", 0), series("drain", 1)} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(text, `mqbench_messages_published_total{scenario="t",shard="",variant=""}`) {
		t.Error("the run's other series changed their labels")
	}
	s.Snapshot(engine.Snapshot{Interval: result.Interval{Seconds: 1, Drain: true}})
	if text := scrape(); !strings.Contains(text, series("drain", 0)) {
		t.Errorf("in the drain after the load:\n%s", text)
	}
	sink.Done(nil)
	if text := scrape(); !strings.Contains(text, series("fill", 0)) || !strings.Contains(text, series("drain", 0)) {
		t.Errorf("after the run:\n%s", text)
	}
}
