package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample builds a result from synthetic, known data.
func sample(t *testing.T) *result.Result {
	t.Helper()
	reg := metrics.NewRegistry(1, &metrics.Window{})
	w := reg.NewWorker()
	for v := int64(1); v <= 1000; v++ {
		w.Record(metrics.EndToEnd, time.Duration(v*10)*time.Microsecond) // 10µs..10ms
		w.Record(metrics.Confirm, time.Duration(v)*time.Microsecond)     // 1µs..1ms
	}
	col := metrics.NewCollector(reg)
	col.Collect()
	e2e, _ := metrics.Summarize(col.Total(metrics.EndToEnd))
	conf, _ := metrics.Summarize(col.Total(metrics.Confirm))
	sc := scenario.Default()
	sc.Name = "golden"
	sc.URL = "amqp://guest:secret@localhost:5672/"
	sc.Duration = scenario.Duration(10 * time.Second)
	sc.Producers.Confirm = 100
	sc.Out = "results/golden.json"
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	blockedEnd := start.Add(4 * time.Second)
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	r := &result.Result{
		Schema: result.Schema, Tool: result.Tool{Name: "mqbench", Version: "v0.1.0"}, Scenario: sc.Masked(),
		Broker:    result.Broker{URL: scenario.MaskURL(sc.URL), Product: "RabbitMQ", Version: "3.10.8"},
		StartedAt: start, EndedAt: start.Add(11 * time.Second), MeasuredS: 10, StopReason: result.StopDuration,
		Totals: result.Totals{Published: 1000, Confirmed: i64(1000), Nacked: i64(0), Consumed: i64(1000), MaxUnacked: i64(1)},
		Rates:  result.Rates{PublishedPerS: 100, ConfirmedPerS: f64(100), ConsumedPerS: f64(99.9), ConsumedOverS: f64(10.01)},
		Drain:  &result.Drain{Seconds: 0.31, ConsumingS: 0.01, Consumed: 1, Ended: result.DrainEmpty, BacklogStart: i64(3), BacklogEnd: i64(0)},
		Client: result.Client{CPUS: 0.5, CPUTotalS: 0.7, Cores: 0.05, CoresAvailable: 2, MaxRSSBytes: 20 << 20,
			CollectMeanUs: 120, CollectMaxUs: 300},
		Faults: result.Faults{Blocked: []result.Blocked{{Connection: "mqbench-x-producer-0", Reason: "low on memory",
			Start: start.Add(3 * time.Second), End: &blockedEnd}}},
		Warnings: []string{"the broker blocked publishing connections 1 time(s) (low on memory): a resource alarm; throughput and latency include the time blocked"},
		Queues:   []result.Queue{{Name: "amq.gen-abc", Type: "classic", Consumers: 1, Consumed: 1000, Depth: i64(0)}},
		Intervals: []result.Interval{{TS: 1, Seconds: 1, Published: 100, Confirmed: 100, Consumed: 100,
			E2EP50Us: i64(5000), E2EP99Us: i64(9900), ConfirmP99Us: i64(990), Backlog: i64(3),
			BacklogParts: &result.Backlog{Ready: 2, Delivered: 1}}},
	}
	r.Latency[metrics.EndToEnd], r.Latency[metrics.Confirm] = e2e, conf
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

func TestTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.golden", b.Bytes())
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := result.WriteJSON(&b, sample(t)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "secret") {
		t.Fatal("the password is in the JSON")
	}
	golden(t, "result.golden.json", b.Bytes())
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "r.json")
	r := sample(t)
	if err := result.SaveJSON(path, r); err != nil {
		t.Fatal(err)
	}
	back, err := result.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Latency[metrics.EndToEnd].P99Us != r.Latency[metrics.EndToEnd].P99Us || *back.Totals.Consumed != 1000 {
		t.Fatalf("round trip changed the result: %+v", back.Latency[metrics.EndToEnd])
	}
	h, err := metrics.DecodeHDR(back.Latency[metrics.EndToEnd].HDR)
	if err != nil || h.TotalCount() != 1000 {
		t.Fatalf("saved histogram: %v, %d samples", err, h.TotalCount())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the result: %d entries", len(entries))
	}
}

func TestLoadRejectsOtherSchemas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(path, []byte(`{"schema":"other/v9"}`), 0o644)
	if _, err := result.Load(path); err == nil || !strings.Contains(err.Error(), "other/v9") {
		t.Fatalf("err = %v", err)
	}
}

func TestLiveLine(t *testing.T) {
	var b bytes.Buffer
	l := &Live{W: &b}
	i64 := func(v int64) *int64 { return &v }
	l.Interval(result.Interval{TS: 2, Seconds: 0.5, Published: 500, Confirmed: 400, Consumed: 450, Returned: 2, Nacked: 1,
		E2EP50Us: i64(1500), E2EP99Us: i64(25000), Backlog: i64(1234)})
	want := "    2.0s  pub 1,000/s  conf 800/s  cons 900/s  ret 2  nack 1  e2e p50 1.50ms p99 25.0ms  conf p99 -  backlog 1,234\n"
	if b.String() != want {
		t.Fatalf("got  %q\nwant %q", b.String(), want)
	}
}

func TestFormat(t *testing.T) {
	cases := []struct{ got, want string }{
		{Micros(0), "0µs"}, {Micros(999), "999µs"}, {Micros(1000), "1.00ms"}, {Micros(12345), "12.3ms"},
		{Micros(123456), "123ms"}, {Micros(1_500_000), "1.50s"}, {Count(0), "0"}, {Count(999), "999"},
		{Count(1000), "1,000"}, {Count(-1234567), "-1,234,567"}, {Rate(99.5), "100"}, {CountPtr(nil), "-"},
		// three significant digits with the zeros kept, so a column lines up
		{fixedSig3(2.5), "2.50"}, {fixedSig3(40), "40.0"}, {fixedSig3(100), "100"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
}

// TestTableGoldenRPC: a pure RPC run shows RPC rows and latencies only.
func TestTableGoldenRPC(t *testing.T) {
	r := sample(t)
	r.Scenario.Producers.Count, r.Scenario.Consumers.Count = 0, 0
	r.Scenario.RPC.Clients, r.Scenario.RPC.Servers = 2, 2
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	r.Totals = result.Totals{RPCRequests: i64(1010), RPCReplies: i64(1000), RPCTimeouts: i64(10), RPCUnmatched: i64(0),
		RPCLate: i64(7), RPCDuplicates: i64(0), RPCServed: i64(1007)}
	r.Rates = result.Rates{RPCRequestsPerS: f64(101), RPCRepliesPerS: f64(100)}
	r.Latency = result.Latency{metrics.RPC: r.Latency[metrics.EndToEnd], metrics.RPCServer: r.Latency[metrics.Confirm]}
	r.Queues = []result.Queue{{Name: "mqbench-rpc", Type: "classic", Consumers: 2, Consumed: 1007, Depth: i64(3), RPC: true}}
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "table-rpc.golden", b.Bytes())
}

// TestCSVIntervals: one row per interval under the documented header,
// numbers raw, null figures empty; a millisecond-long interval (the
// warm-up timer and the ticker firing together) and the run's short last
// one are folded into their neighbour of the same phase, as charts and
// merge fold them (result.Fold), and each row is written once the next
// interval shows it complete.
func TestCSVIntervals(t *testing.T) {
	var b bytes.Buffer
	c := NewCSV(&b)
	s := c.Sink("prefetch=1", time.Second)
	for _, iv := range sample(t).Intervals {
		s.Interval(iv)
	}
	s.Interval(result.Interval{TS: 1.001, Seconds: 0.001, Published: 1, CPUCores: 1})
	s.Interval(result.Interval{TS: 2, Seconds: 0.999, Published: 7})
	written := b.String()
	s.Interval(result.Interval{TS: 2.01, Seconds: 0.01, Published: 2})
	s.Done(nil)
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	want := strings.Join(IntervalColumns(), ",") + "\n" +
		"prefetch=1,1.001,1.001,false,101,100,100,0,0,5000,9900,990,3,,,,,0.001,0,0,false,\n" +
		"prefetch=1,2.01,1.009,false,9,0,0,0,0,,,,,,,,,0,0,0,false,\n"
	if b.String() != want {
		t.Fatalf("csv\n%s\nwant\n%s", b.String(), want)
	}
	if strings.Count(written, "\n") != 2 {
		t.Errorf("before the last interval the CSV held\n%s\nwant the header and the first row", written)
	}
}

// phasedSample is the sample run as two phases: a fill with the consumers
// paused, then a drain that recovers.
func phasedSample(t *testing.T) *result.Result {
	r := sample(t)
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	r.Scenario.Phases = []scenario.Phase{{Name: "fill", Messages: 500}, {Name: "drain", Until: scenario.UntilQueuesEmpty, RecoveryOf: "fill"}}
	r.Phases = []result.Phase{
		{Name: "fill", StartS: 0, EndS: 5, Seconds: 5, Ended: result.StopMessageCount, Totals: result.PhaseTotals{Published: 500},
			Rates: result.PhaseRates{PublishedPerS: 100}, BacklogStart: i64(0), BacklogEnd: i64(500), BacklogPeak: i64(500), BacklogWatchS: 0.05},
		{Name: "drain", StartS: 5, EndS: 10, Seconds: 5, Ended: result.StopQueuesEmpty, Totals: result.PhaseTotals{Consumed: 500},
			Rates: result.PhaseRates{ConsumedPerS: 100}, BacklogStart: i64(500), BacklogEnd: i64(0), BacklogPeak: i64(500),
			DrainS: f64(4.95), BacklogWatchS: 0.05, RecoveryS: f64(4), RecoveryOf: "fill", RecoveryTargetUs: i64(11000)},
	}
	r.Phases[1].Latency[metrics.EndToEnd] = r.Latency[metrics.EndToEnd]
	for i := range r.Intervals {
		r.Intervals[i].Phase = "fill"
	}
	return r
}

// TestTableGoldenPhases: a phased run's table adds one row per phase.
func TestTableGoldenPhases(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, phasedSample(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "table-phases.golden", b.Bytes())
}

// TestCSVPhaseColumn: the last column names each interval's phase, and a
// short interval at a boundary folds within its own phase.
func TestCSVPhaseColumn(t *testing.T) {
	var b bytes.Buffer
	s := NewCSV(&b).Sink("", time.Second)
	for _, iv := range []result.Interval{{TS: 1, Seconds: 1, Published: 10, Phase: "fill"}, {TS: 1.1, Seconds: 0.1, Published: 1, Phase: "drain"},
		{TS: 2.1, Seconds: 1, Consumed: 11, Phase: "drain"}, {TS: 2.2, Seconds: 0.1, Drain: true}} {
		s.Interval(iv)
	}
	s.Done(nil)
	rows := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(rows) != 4 || !strings.HasSuffix(rows[0], ",drain,phase") || !strings.HasSuffix(rows[1], ",false,fill") ||
		!strings.HasPrefix(rows[2], ",2.1,1.1,false,1,0,11,") || !strings.HasSuffix(rows[2], ",false,drain") || !strings.HasSuffix(rows[3], ",true,") {
		t.Errorf("csv\n%s", b.String())
	}
}

// TestLiveLineNamesThePhase: the live line says which phase an interval is in.
func TestLiveLineNamesThePhase(t *testing.T) {
	var b bytes.Buffer
	(&Live{W: &b}).Interval(result.Interval{TS: 3, Seconds: 1, Published: 5, Phase: "outage"})
	if !strings.Contains(b.String(), "(outage)") {
		t.Errorf("live line %q", b.String())
	}
}

// TestTableKinds: the figures a kind of worker reports of its own are
// printed after the latencies: its counts beside their rates, the rates
// that have no count (the broker's) on their own rows, and its timed
// operations with every latency statistic.
func TestTableKinds(t *testing.T) {
	r := sample(t)
	r.Kinds = map[string]*result.KindFigures{"churn": {
		Counts:  map[string]int64{"connections_opened": 500, "connections_closed": 500, "errors": 0},
		Rates:   map[string]float64{"connections_opened": 50, "connections_closed": 49.9, "broker_connections_created": 50.12},
		Latency: map[string]*metrics.Summary{"tcp_connect": r.Latency[metrics.Confirm], "amqp_handshake": r.Latency[metrics.EndToEnd]},
	}}
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "table-kinds.golden", b.Bytes())
}
