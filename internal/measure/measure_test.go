package measure

import "testing"

func TestLookupAndSet(t *testing.T) {
	d := Doc{}
	d.Set("latency.end_to_end.p99_us", 1200.0)
	d.Set("rates.consumed_per_s", 5.0)
	d.Set("latency.confirm", nil)
	cases := []struct {
		path string
		want float64
		ok   bool
	}{
		{"latency.end_to_end.p99_us", 1200, true},
		{"rates.consumed_per_s", 5, true},
		{"latency.confirm.p99_us", 0, false}, // null: not applicable
		{"rates.nothing", 0, false},
		{"rates", 0, false}, // not a number
	}
	for _, c := range cases {
		if v, ok := d.Lookup(c.path); ok != c.ok || v != c.want {
			t.Errorf("Lookup(%s) = %v, %v", c.path, v, ok)
		}
	}
}

func TestDirectionOf(t *testing.T) {
	cases := map[string]Direction{
		"rates.consumed_per_s": HigherBetter, "rates.rpc_replies_per_s": HigherBetter,
		"latency.end_to_end.p99_us": LowerBetter, "latency.rpc.p50_us": LowerBetter, "client.cpu_s": LowerBetter,
		"totals.rpc_timeouts": LowerBetter, "totals.published": Unknown, "scenario.name": Unknown,
	}
	for p, want := range cases {
		if got := DirectionOf(p); got != want {
			t.Errorf("DirectionOf(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestStatsAndSummary(t *testing.T) {
	docs := []Doc{{}, {}, {}, {}}
	for i, v := range []float64{40, 10, 30, 20} {
		docs[i].Set("rates.consumed_per_s", v)
	}
	st, ok := Of(docs, "rates.consumed_per_s")
	if !ok || st.Median != 25 || st.Min != 10 || st.Max != 40 || st.N != 4 {
		t.Fatalf("stat %+v", st)
	}
	if _, ok := Of(docs, "rates.published_per_s"); ok {
		t.Fatal("a metric missing from the runs has a stat")
	}
	s := Summarize(docs)
	back, ok := s.Stat("rates.consumed_per_s", 4)
	if !ok || back != st {
		t.Fatalf("summary stat %+v, want %+v", back, st)
	}
	if !(Stat{Min: 1, Max: 3}).Overlaps(Stat{Min: 3, Max: 5}) || (Stat{Min: 1, Max: 2}).Overlaps(Stat{Min: 3, Max: 4}) {
		t.Fatal("Overlaps")
	}
}
