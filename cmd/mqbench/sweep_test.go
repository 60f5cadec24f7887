package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/sweep"
)

func TestVariantParams(t *testing.T) {
	base := scenario.Default()
	base.Queues = []scenario.Queue{{Name: "q", Count: 1, Type: scenario.QueueClassic}}
	cases := []struct {
		point scenario.Point
		check func(scenario.Scenario) bool
		err   string
	}{
		{scenario.Point{{Name: "prefetch", Value: "50"}, {Name: "ack", Value: "multiple"}, {Name: "multi-ack-every", Value: "10"}},
			func(s scenario.Scenario) bool {
				return s.Consumers.Prefetch == 50 && s.Consumers.Ack == "multiple" && s.Consumers.MultiAckEvery == 10
			}, ""},
		{scenario.Point{{Name: "consumers.prefetch", Value: "7"}, {Name: "producers.size", Value: "1024"}},
			func(s scenario.Scenario) bool { return s.Consumers.Prefetch == 7 && s.Producers.Size == 1024 }, ""},
		{scenario.Point{{Name: "queue-type", Value: "quorum"}},
			func(s scenario.Scenario) bool { return s.Queues[0].Type == "quorum" && s.Queues[0].Durable }, ""},
		{scenario.Point{{Name: "rpc-concurrency", Value: "8"}, {Name: "rpc-clients", Value: "1"}},
			func(s scenario.Scenario) bool { return s.RPC.Concurrency == 8 }, ""},
		{scenario.Point{{Name: "prefetchh", Value: "1"}}, nil, "unknown parameter"},
		{scenario.Point{{Name: "prefetch", Value: "lots"}}, nil, "prefetch=lots"},
		{scenario.Point{{Name: "consumers.prefetchh", Value: "1"}}, nil, "consumers.prefetchh"},
		{scenario.Point{{Name: "size", Value: "4"}}, nil, "at least 12"},
		{scenario.Point{{Name: "repeat", Value: "2"}}, nil, "cannot be swept"},
	}
	for _, c := range cases {
		v, err := variant(base, c.point)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want one mentioning %q", c.point, err, c.err)
			}
			continue
		}
		if err != nil || !c.check(v) {
			t.Errorf("%s: %v %+v", c.point, err, v.Consumers)
		}
	}
	if base.Queues[0].Type != scenario.QueueClassic || base.Consumers.Prefetch != 0 {
		t.Fatal("a variant changed the base scenario")
	}
}

// TestSweepVariantsAreDeepCopies: every variant's resolved scenario, as
// its result records it, carries exactly its own parameters — for a
// scalar, a field behind a pointer (the size distribution), a map entry
// (a header, a queue argument) and a slice (routing keys) — and the base
// scenario is never changed (the YAML decoder fills fields in place, so a
// shared pointer, map or slice would leak one variant into the others).
func TestSweepVariantsAreDeepCopies(t *testing.T) {
	base, err := resolve("testdata/sweep-fields.yaml", newFlagSet())
	if err != nil {
		t.Fatal(err)
	}
	before := base.Clone()
	matrix := scenario.Matrix{
		{Name: "producers.size_distribution.max", Values: []string{"100", "4000"}},
		{Name: "producers.headers.region", Values: []string{"eu", "us"}},
		{Name: "producers.routing_keys", Values: []string{"[a]", "[b]"}},
		{Name: "consumers.prefetch", Values: []string{"1", "2"}},
	}
	doc, err := sweep.Run(context.Background(), sweep.Config{
		Matrix: matrix,
		Build:  func(p scenario.Point) (scenario.Scenario, error) { return variant(base, p) },
		Run: func(_ context.Context, sc scenario.Scenario, _ scenario.Point) (*result.Result, error) {
			return &result.Result{Schema: result.Schema, Scenario: sc.Masked(), StopReason: result.StopDuration}, nil
		},
	})
	if err != nil || len(doc.Variants) != 16 {
		t.Fatalf("err %v, %d variants", err, len(doc.Variants))
	}
	for _, v := range doc.Variants {
		sc := v.Runs[0].Scenario
		got := map[string]string{
			"producers.size_distribution.max": fmt.Sprint(sc.Producers.SizeDistribution.Max),
			"producers.headers.region":        fmt.Sprint(sc.Producers.Headers["region"]),
			"producers.routing_keys":          "[" + strings.Join(sc.Producers.RoutingKeys, ",") + "]",
			"consumers.prefetch":              fmt.Sprint(sc.Consumers.Prefetch),
		}
		for k, want := range v.Params {
			if got[k] != want {
				t.Errorf("variant %v: %s = %s in its result", v.Params, k, got[k])
			}
		}
		if sc.Producers.SizeDistribution.Min != 50 || fmt.Sprint(sc.Producers.Headers["tier"]) != "1" || fmt.Sprint(sc.Queues[0].Arguments["x-max-length"]) != "1000" {
			t.Errorf("variant %v lost the file's other fields: %+v", v.Params, sc.Producers)
		}
	}
	if !reflect.DeepEqual(base, before) {
		t.Fatalf("the sweep changed the base scenario:\n%+v\nwas\n%+v", base.Producers, before.Producers)
	}
}

// TestSweepPrefetchPhysics runs a small real sweep: with manual acks,
// prefetch 1 costs a round trip per message and is clearly slower than
// prefetch 100. Then report renders the saved sweep in every format.
func TestSweepPrefetchPhysics(t *testing.T) {
	url := brokertest.URL(t)
	out := filepath.Join(t.TempDir(), "sweep.json")
	queue := "mqbench-sweep-" + brokertest.Suffix(t)
	code, stdout, stderr := run("run", "--url", url, "--sweep", "prefetch=1,100", "--ack", "manual", "--confirm", "200",
		"--consumers", "1", "--duration", "3s", "--queue", queue, "--durable", "--quiet", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	doc, err := sweep.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Variants) != 2 || doc.ParamNames[0] != "prefetch" {
		t.Fatalf("variants %d params %v", len(doc.Variants), doc.ParamNames)
	}
	rate := map[string]float64{}
	for _, v := range doc.Variants {
		r, ok := v.Summary.Median["rates.consumed_per_s"]
		if !ok || r <= 0 {
			t.Fatalf("variant %v has no consumed rate", v.Params)
		}
		rate[v.Params["prefetch"]] = r
	}
	if rate["1"] > 0.8*rate["100"] {
		t.Errorf("prefetch 1: %.0f msg/s, prefetch 100: %.0f msg/s; want prefetch 1 clearly slower", rate["1"], rate["100"])
	}
	if !strings.Contains(stdout, "prefetch") || !strings.Contains(stdout, "consumed/s") {
		t.Errorf("no comparison table:\n%s", stdout)
	}

	code, csvOut, _ := run("report", "--format", "csv", out)
	rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if code != exitOK || err != nil || len(rows) != 3 || rows[0][0] != "prefetch" || rows[1][0] != "1" {
		t.Errorf("csv: exit %d err %v rows %q", code, err, rows)
	}
	code, md, _ := run("report", out, "--format", "markdown")
	if code != exitOK || !strings.Contains(md, "| prefetch |") || !strings.Contains(md, "|---|") {
		t.Errorf("markdown: exit %d\n%s", code, md)
	}
	code, js, _ := run("report", "--format", "json", out)
	var back sweep.Doc
	if code != exitOK || json.Unmarshal([]byte(js), &back) != nil || len(back.Variants) != 2 {
		t.Errorf("json: exit %d", code)
	}
}

// TestCompareGates: a rate-limited candidate against an unlimited baseline
// crosses a throughput gate (exit 3, naming the metric); a result compared
// with itself passes.
func TestCompareGates(t *testing.T) {
	url := brokertest.URL(t)
	dir := t.TempDir()
	base, cand := filepath.Join(dir, "base.json"), filepath.Join(dir, "cand.json")
	common := []string{"run", "--url", url, "--confirm", "100", "--prefetch", "100", "--duration", "2s", "--quiet"}
	if code, _, stderr := run(append(common, "--out", base)...); code != exitOK {
		t.Fatalf("baseline: %s", stderr)
	}
	if code, _, stderr := run(append(common, "--rate", "300", "--out", cand)...); code != exitOK {
		t.Fatalf("candidate: %s", stderr)
	}
	code, stdout, stderr := run("compare", base, cand, "--max-regression", "rates.consumed_per_s=10",
		"--max-regression", "latency.end_to_end.p99_us=1000")
	if code != exitRegression || !strings.Contains(stderr, "rates.consumed_per_s") || !strings.Contains(stdout, "REGRESSION rates.consumed_per_s") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = run("compare", base, base, "--max-regression", "rates.consumed_per_s=1", "--max-regression", "latency.end_to_end.p99_us=1")
	if code != exitOK {
		t.Fatalf("self-compare: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = run("compare", base, cand, "--max-regression", "totals.published=5")
	if code != exitUsage || !strings.Contains(stderr, "totals.published") {
		t.Fatalf("unknown gate metric: exit %d %s", code, stderr)
	}
}
