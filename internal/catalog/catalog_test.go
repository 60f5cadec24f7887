package catalog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// full is a result in which every figure applies, each with a different
// value, so that a figure reading the wrong field is caught.
func full() *result.Result {
	r := &result.Result{MeasuredS: 9.5}
	n := int64(100)
	next := func() int64 { n++; return n }
	i64 := func() *int64 { v := next(); return &v }
	f64 := func() *float64 { v := float64(next()) + 0.5; return &v }
	r.Rates = result.Rates{PublishedPerS: float64(next()), ConfirmedPerS: f64(), ConsumedPerS: f64(), ConsumedOverS: f64(), RPCRequestsPerS: f64(), RPCRepliesPerS: f64()}
	r.Drain = &result.Drain{Seconds: float64(next()) + 0.5, ConsumingS: float64(next()) + 0.5, Consumed: next(), Ended: result.DrainEmpty}
	r.Totals = result.Totals{Published: next(), Confirmed: i64(), Nacked: i64(), Unconfirmed: i64(), Returned: i64(),
		Consumed: i64(), Foreign: i64(), Refused: i64(), Unstamped: i64(), MillisecondStamps: i64(), MaxUnacked: i64(), RPCRequests: i64(), RPCReplies: i64(), RPCTimeouts: i64(), RPCUnmatched: i64(),
		RPCLate: i64(), RPCDuplicates: i64(), RPCServed: i64()}
	for _, k := range metrics.Kinds() {
		r.Latency[k] = &metrics.Summary{Count: next(), MinUs: next(), MeanUs: float64(next()) + 0.25, P50Us: next(), P75Us: next(),
			P90Us: next(), P95Us: next(), P99Us: next(), P999Us: next(), P9999Us: next(), MaxUs: next()}
	}
	r.Client = result.Client{CPUS: 1.5, CPUTotalS: 2.5, Cores: 0.75, CoresAvailable: 2, MaxRSSBytes: next(), CollectMeanUs: 3.5, CollectMaxUs: 4.5}
	r.Audit = &result.Audit{Total: audit.Queue{Expected: next(), Consumed: next(), Left: next(), Dropped: next(), Lost: next(), Unconfirmed: next(),
		Unknown: next(), Duplicates: next(), Redelivered: next(), OutOfOrder: next(), Unexpected: next()}}
	return r
}

// TestEveryPathIsTheJSONPath: each figure's path, walked through the
// result's own JSON encoding, finds the value the figure reads — so paths
// are checked against the document, not against the catalogue itself.
func TestEveryPathIsTheJSONPath(t *testing.T) {
	r := full()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[float64]string{}
	for _, f := range All() {
		if f.Path == CapacityPath {
			continue // a capacity document's figure, never a result's
		}
		got, ok := f.Value(r)
		if !ok {
			t.Errorf("%s: no value in a full result", f.Path)
			continue
		}
		var cur any = doc
		for _, part := range strings.Split(f.Path, ".") {
			m, _ := cur.(map[string]any)
			cur = m[part]
		}
		if want, _ := cur.(float64); want != got || cur == nil {
			t.Errorf("%s reads %v, the JSON holds %v", f.Path, got, cur)
		}
		if other, dup := seen[got]; dup && got > 100 {
			t.Errorf("%s and %s read the same field", f.Path, other)
		}
		seen[got] = f.Path
	}
	if v, ok := Latency(metrics.Confirm, StatP99).Value(&result.Result{}); ok {
		t.Errorf("a latency that does not apply reads %v", v)
	}
}

func TestDirections(t *testing.T) {
	cases := map[string]Better{
		"rates.consumed_per_s": Higher, "rates.rpc_replies_per_s": Higher,
		"latency.end_to_end.p99_us": Lower, "latency.rpc.p50_us": Lower, "latency.send_lag.min_us": Lower,
		"client.cpu_s": Lower, "client.max_rss_bytes": Lower, "totals.rpc_timeouts": Lower, "totals.nacked": Lower,
		"totals.published": Neither, "latency.confirm.count": Neither, "audit.total.lost": Lower,
	}
	for p, want := range cases {
		f, ok := Lookup(p)
		if !ok || f.Better != want || f.Gate != (want != Neither) {
			t.Errorf("%s: %+v %v, want %v", p, f.Better, ok, want)
		}
	}
}

func TestGateable(t *testing.T) {
	for _, p := range []string{"totals.nacked", "latency.send_lag.p99_us", "latency.end_to_end_actual.max_us",
		"latency.rpc_server.min_us", "client.cores", "client.max_rss_bytes", "rates.rpc_requests_per_s"} {
		if _, err := Gateable(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{"totals.published", "scenario.name", "latency.end_to_end.count", "latency.e2e.p99_us", ""} {
		_, err := Gateable(p)
		if err == nil || !strings.Contains(err.Error(), "rates.consumed_per_s") {
			t.Errorf("%s: want an error listing the valid paths, got %v", p, err)
		}
	}
}

func TestGridAndCompareAreInTheCatalogue(t *testing.T) {
	if len(Grid()) == 0 || len(Compared()) == 0 {
		t.Fatal("empty lists")
	}
	if got := Latency(metrics.EndToEnd, StatP999).Label; got != "e2e p99.9" {
		t.Errorf("label %q", got)
	}
}
