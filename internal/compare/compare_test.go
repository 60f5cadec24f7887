package compare

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/measure"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// variant builds a variant whose runs had these metric values.
func variant(params map[string]string, runs ...map[string]float64) Variant {
	vals := make([]measure.Values, len(runs))
	for i, r := range runs {
		vals[i] = measure.Values(r)
	}
	return Variant{Params: params, Runs: len(runs), Summary: measure.Summarize(vals)}
}

// gate is a gate on a catalogue path.
func gate(path string, pct float64) Gate {
	f, ok := catalog.Lookup(path)
	if !ok {
		panic(path)
	}
	return Gate{Figure: f, Pct: pct}
}

const (
	cons = "rates.consumed_per_s"
	p99  = "latency.end_to_end.p99_us"
)

func TestParseGate(t *testing.T) {
	cases := []struct {
		in  string
		ok  bool
		pct float64
	}{
		{"rates.consumed_per_s=5", true, 5}, {"latency.end_to_end.p99_us=12.5%", true, 12.5},
		{"rates.consumed_per_s", false, 0}, {"rates.consumed_per_s=x", false, 0},
		{"rates.consumed_per_s=-1", false, 0}, {"totals.published=5", false, 0}, {"scenario.name=1", false, 0},
		{"rates.consumed_per_s=inf", false, 0}, {"rates.consumed_per_s=NaN", false, 0},
		{"totals.nacked=0", true, 0}, {"latency.send_lag.p99_us=10", true, 10}, {"latency.end_to_end_actual.min_us=1", true, 1},
		{"latency.rpc_server.max_us=5", true, 5}, {"client.max_rss_bytes=20", true, 20}, {"client.cores=5", true, 5},
	}
	for _, c := range cases {
		g, err := ParseGate(c.in)
		if (err == nil) != c.ok || (c.ok && g.Pct != c.pct) {
			t.Errorf("ParseGate(%q) = %+v, %v", c.in, g, err)
		}
	}
}

// TestGateDirection: a drop in a rate and a rise in a latency are
// regressions; the opposite moves are improvements.
func TestGateDirection(t *testing.T) {
	cases := []struct {
		name       string
		metric     string
		base, cand float64
		limit      float64
		regression bool
		worse      float64
	}{
		{"throughput drop beyond limit", cons, 1000, 900, 5, true, 10},
		{"throughput drop within limit", cons, 1000, 960, 5, false, 4},
		{"throughput gain", cons, 1000, 1500, 5, false, -50},
		{"latency rise beyond limit", p99, 1000, 1200, 10, true, 20},
		{"latency fall", p99, 1000, 500, 10, false, -50},
		{"exactly at the limit", p99, 1000, 1100, 10, false, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := Side{Variants: []Variant{variant(nil, map[string]float64{c.metric: c.base})}}
			cand := Side{Variants: []Variant{variant(nil, map[string]float64{c.metric: c.cand})}}
			v := Apply(Match(base, cand), []Gate{gate(c.metric, c.limit)})
			if len(v) != 1 || v[0].Regression() != c.regression || v[0].WorsePct < c.worse-0.01 || v[0].WorsePct > c.worse+0.01 {
				t.Fatalf("verdict %+v", v)
			}
		})
	}
}

// TestOverlappingSpreadsAreNotDeclared: with repeats on both sides a
// regression is declared only when the min–max spreads are apart.
func TestOverlappingSpreadsAreNotDeclared(t *testing.T) {
	base := Side{Variants: []Variant{variant(nil, map[string]float64{cons: 900}, map[string]float64{cons: 1000}, map[string]float64{cons: 1100})}}
	overlap := Side{Variants: []Variant{variant(nil, map[string]float64{cons: 800}, map[string]float64{cons: 850}, map[string]float64{cons: 950})}}
	apart := Side{Variants: []Variant{variant(nil, map[string]float64{cons: 700}, map[string]float64{cons: 750}, map[string]float64{cons: 800})}}
	g := []Gate{gate(cons, 5)}
	if v := Apply(Match(base, overlap), g)[0]; !v.Crossed || !v.Overlap || v.Regression() {
		t.Errorf("overlapping spreads: %+v", v)
	}
	if v := Apply(Match(base, apart), g)[0]; !v.Regression() {
		t.Errorf("separate spreads: %+v", v)
	}
}

func TestMatchPairsByParams(t *testing.T) {
	mk := func(ps ...map[string]string) Side {
		s := Side{}
		for _, p := range ps {
			s.Variants = append(s.Variants, variant(p, map[string]float64{cons: 1}))
		}
		return s
	}
	base := mk(map[string]string{"prefetch": "1", "ack": "auto"}, map[string]string{"prefetch": "10", "ack": "auto"},
		map[string]string{"prefetch": "100", "ack": "auto"})
	cand := mk(map[string]string{"ack": "auto", "prefetch": "10"}, map[string]string{"ack": "auto", "prefetch": "1"},
		map[string]string{"ack": "manual", "prefetch": "1"})
	p := Match(base, cand)
	if len(p.Pairs) != 2 || p.Pairs[0].Key != "ack=auto prefetch=1" || p.Pairs[1].Key != "ack=auto prefetch=10" {
		t.Fatalf("pairs %+v", p.Pairs)
	}
	if len(p.OnlyBase) != 1 || p.OnlyBase[0] != "ack=auto prefetch=100" || len(p.OnlyCand) != 1 || p.OnlyCand[0] != "ack=manual prefetch=1" {
		t.Fatalf("unpaired base %v cand %v", p.OnlyBase, p.OnlyCand)
	}
}

// TestMissingMetricFailsTheGate: a gate whose figure one side lacks cannot
// be checked, and so fails (it used to be skipped, exit 0).
func TestMissingMetricFailsTheGate(t *testing.T) {
	base := Side{Variants: []Variant{variant(nil, map[string]float64{cons: 1})}}
	v := Apply(Match(base, base), []Gate{gate("latency.rpc.p99_us", 1)})[0]
	if v.Missing != MissingBoth || v.Regression() || !v.Failed() {
		t.Fatalf("%+v", v)
	}
	cand := Side{Variants: []Variant{variant(nil, map[string]float64{cons: 1})}}
	withP99 := Side{Variants: []Variant{variant(nil, map[string]float64{cons: 1, p99: 5})}}
	if v := Apply(Match(withP99, cand), []Gate{gate(p99, 10)})[0]; v.Missing != "candidate" || !v.Failed() {
		t.Fatalf("missing from the candidate: %+v", v)
	}
	if v := Apply(Match(cand, withP99), []Gate{gate(p99, 10)})[0]; v.Missing != "baseline" || !v.Failed() {
		t.Fatalf("missing from the baseline: %+v", v)
	}
	// A baseline variant the candidate sweep does not have fails its gates.
	two := Side{Variants: []Variant{variant(map[string]string{"q": "1"}, map[string]float64{cons: 1}),
		variant(map[string]string{"q": "2"}, map[string]float64{cons: 1})}}
	one := Side{Variants: []Variant{variant(map[string]string{"q": "1"}, map[string]float64{cons: 1}),
		variant(map[string]string{"q": "3"}, map[string]float64{cons: 1})}}
	vs := Apply(Match(two, one), []Gate{gate(cons, 5)})
	if len(vs) != 2 || vs[0].Failed() || !vs[1].Failed() || vs[1].Key != "q=2" {
		t.Fatalf("%+v", vs)
		t.Fatalf("%+v", v)
	}
}

func TestCompareGolden(t *testing.T) {
	base := Side{File: "base.json", Variants: []Variant{
		variant(map[string]string{"prefetch": "1"}, map[string]float64{cons: 1000, p99: 2000, "client.cpu_s": 1.5}, map[string]float64{cons: 1100, p99: 2100, "client.cpu_s": 1.6}),
		variant(map[string]string{"prefetch": "100"}, map[string]float64{cons: 20000, p99: 900, "client.cpu_s": 2}, map[string]float64{cons: 21000, p99: 950, "client.cpu_s": 2.1}),
	}}
	cand := Side{File: "candidate.json", Variants: []Variant{
		variant(map[string]string{"prefetch": "1"}, map[string]float64{cons: 1050, p99: 1900, "client.cpu_s": 1.5}, map[string]float64{cons: 1080, p99: 2050, "client.cpu_s": 1.55}),
		variant(map[string]string{"prefetch": "100"}, map[string]float64{cons: 15000, p99: 1500, "client.cpu_s": 2}, map[string]float64{cons: 15500, p99: 1600, "client.cpu_s": 2.2}),
	}}
	gates := []Gate{gate(cons, 5), gate(p99, 20)}
	p := Match(base, cand)
	for _, md := range []bool{false, true} {
		var b bytes.Buffer
		if err := Write(&b, base, cand, p, Apply(p, gates), gates, md); err != nil {
			t.Fatal(err)
		}
		name := "compare.golden"
		if md {
			name = "compare-markdown.golden"
		}
		path := filepath.Join("testdata", name)
		if *update {
			os.WriteFile(path, b.Bytes(), 0o644)
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update creates it)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs (go test -update to accept):\n%s", name, b.String())
		}
	}
}

// TestEveryGateableFigureGates: for every figure the catalogue says can be
// gated, a candidate 50% worse in its direction is a regression under a
// 10% gate, and one 50% better is not.
func TestEveryGateableFigureGates(t *testing.T) {
	n := 0
	for _, f := range catalog.All() {
		if !f.Gate {
			continue
		}
		n++
		worse, better := 1500.0, 500.0 // lower is better
		if f.Better == catalog.Higher {
			worse, better = 500, 1500
		}
		base := Side{Variants: []Variant{variant(nil, map[string]float64{f.Path: 1000})}}
		for _, c := range []struct {
			v          float64
			regression bool
		}{{worse, true}, {better, false}} {
			cand := Side{Variants: []Variant{variant(nil, map[string]float64{f.Path: c.v})}}
			v := Apply(Match(base, cand), []Gate{{Figure: f, Pct: 10}})
			if len(v) != 1 || v[0].Regression() != c.regression {
				t.Errorf("%s: %v → %v: verdict %+v", f.Path, 1000, c.v, v)
			}
		}
	}
	if n < 80 { // 6 latency kinds × 10 statistics, rates, error counts, client cost, the audit
		t.Fatalf("only %d gateable figures", n)
	}
}
