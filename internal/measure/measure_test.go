package measure

import (
	"encoding/json"
	"testing"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// TestOfReadsTheResult: figures come from the result's fields, and a
// measure that does not apply (null) is absent.
func TestOfReadsTheResult(t *testing.T) {
	cons := 5.0
	r := &result.Result{Rates: result.Rates{PublishedPerS: 7, ConsumedPerS: &cons}}
	r.Latency[metrics.EndToEnd] = &metrics.Summary{Count: 3, P99Us: 1200}
	v := Of(r)
	cases := []struct {
		path string
		want float64
		ok   bool
	}{
		{"latency.end_to_end.p99_us", 1200, true},
		{"latency.end_to_end.count", 3, true},
		{"rates.consumed_per_s", 5, true},
		{"rates.published_per_s", 7, true},
		{"latency.confirm.p99_us", 0, false}, // null: not applicable
		{"rates.confirmed_per_s", 0, false},
		{"rates.nothing", 0, false},
	}
	for _, c := range cases {
		if got, ok := v[c.path]; ok != c.ok || got != c.want {
			t.Errorf("%s = %v, %v", c.path, got, ok)
		}
	}
}

func TestStatsAndSummary(t *testing.T) {
	runs := []Values{{}, {}, {}, {}}
	for i, v := range []float64{40, 10, 30, 20} {
		runs[i]["rates.consumed_per_s"] = v
	}
	runs[0]["rates.published_per_s"] = 1 // only one run has it
	st, ok := StatOf(runs, "rates.consumed_per_s")
	if !ok || st.Median != 25 || st.Min != 10 || st.Max != 40 || st.N != 4 {
		t.Fatalf("stat %+v", st)
	}
	if _, ok := StatOf(runs, "rates.published_per_s"); ok {
		t.Fatal("a metric missing from some runs has a stat")
	}
	s := Summarize(runs)
	back, ok := s.Stat("rates.consumed_per_s", 4)
	if !ok || back != st {
		t.Fatalf("summary stat %+v, want %+v", back, st)
	}
	if _, ok := s.Stat("rates.published_per_s", 4); ok {
		t.Fatal("summary has a metric not all runs have")
	}
	if !(Stat{Min: 1, Max: 3}).Overlaps(Stat{Min: 3, Max: 5}) || (Stat{Min: 1, Max: 2}).Overlaps(Stat{Min: 3, Max: 4}) {
		t.Fatal("Overlaps")
	}
}

// TestSummaryJSON: the summary is written in the shape of a result and
// read back to the same stats.
func TestSummaryJSON(t *testing.T) {
	s := Summarize([]Values{
		{"rates.consumed_per_s": 10, "latency.end_to_end.p99_us": 900},
		{"rates.consumed_per_s": 30, "latency.end_to_end.p99_us": 1100},
	})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"median":{"latency":{"end_to_end":{"p99_us":1000}},"rates":{"consumed_per_s":20}},` +
		`"spread":{"latency":{"end_to_end":{"p99_us":[900,1100]}},"rates":{"consumed_per_s":[10,30]}}}`
	if string(b) != want {
		t.Fatalf("json\n%s\nwant\n%s", b, want)
	}
	var back Summary
	if err := json.Unmarshal([]byte(`{"median":{"rates":{"consumed_per_s":20},"latency":{"confirm":null}},`+
		`"spread":{"rates":{"consumed_per_s":[10,30]}}}`), &back); err != nil {
		t.Fatal(err)
	}
	st, ok := back.Stat("rates.consumed_per_s", 2)
	if !ok || st != (Stat{Median: 20, Min: 10, Max: 30, N: 2}) {
		t.Fatalf("read back %+v %v", st, ok)
	}
	if _, ok := back.Stat("latency.confirm.p99_us", 2); ok {
		t.Fatal("a null figure was read back")
	}
}
