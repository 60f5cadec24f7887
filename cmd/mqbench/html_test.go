package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// htmlResult is a synthetic saved result: real histograms, intervals, and
// a scenario URL whose password is recognisable (stored masked, as the
// engine stores it).
func htmlResult(t *testing.T, dir, name string, slow time.Duration) string {
	t.Helper()
	reg := metrics.NewRegistry(1, &metrics.Window{})
	w := reg.NewWorker()
	for v := range 2000 {
		w.Record(metrics.EndToEnd, slow*time.Duration(500+v)*time.Microsecond)
		w.Record(metrics.Confirm, slow*time.Duration(200+v/2)*time.Microsecond)
	}
	col := metrics.NewCollector(reg)
	col.Collect()
	sc := scenario.Default()
	sc.Name = name
	sc.URL = "amqp://admin:my-secret-password@broker.example:5672/"
	sc.Producers.Confirm = 10
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	r := &result.Result{Schema: result.Schema, Tool: result.Tool{Name: "mqbench", Version: "test"}, Scenario: sc.Masked(),
		Broker:    result.Broker{URL: scenario.MaskURL(sc.URL), Product: "RabbitMQ", Version: "4.1.0"},
		StartedAt: start, EndedAt: start.Add(5 * time.Second), MeasuredS: 4, StopReason: result.StopDuration,
		Totals: result.Totals{Published: 2000, Confirmed: i64(2000), Nacked: i64(0), Consumed: i64(2000)},
		Rates:  result.Rates{PublishedPerS: 500, ConfirmedPerS: f64(500), ConsumedPerS: f64(500)}}
	for i := range 4 {
		r.Intervals = append(r.Intervals, result.Interval{TS: float64(i + 1), Seconds: 1, Published: 500, Confirmed: 500, Consumed: 500,
			E2EP50Us: i64(1500), E2EP99Us: i64(2400), ConfirmP99Us: i64(1100)})
	}
	var err error
	if r.Latency[metrics.EndToEnd], err = metrics.Summarize(col.Total(metrics.EndToEnd)); err != nil {
		t.Fatal(err)
	}
	if r.Latency[metrics.Confirm], err = metrics.Summarize(col.Total(metrics.Confirm)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".json")
	if err := result.SaveJSON(path, r); err != nil {
		t.Fatal(err)
	}
	return path
}

func readPage(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	for _, secret := range []string{"password", "secret"} {
		if strings.Contains(strings.ToLower(page), secret) {
			t.Errorf("%s contains %q", path, secret)
		}
	}
	return page
}

func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	file := htmlResult(t, dir, "html-run", 1)
	out := filepath.Join(dir, "sub", "report.html")
	code, stdout, stderr := run("report", "--format", "html", "--out", out, file)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("with --out nothing belongs on stdout, got %q", stdout)
	}
	page := readPage(t, out)
	for _, want := range []string{"<svg", `data-chart="throughput"`, `data-chart="spectrum"`, "amqp://admin:xxxxx@broker.example:5672/", file} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// No --out (or --out -): the page goes to stdout.
	code, stdout, stderr = run("report", "--format", "html", file, "--out", "-")
	if code != exitOK || !strings.HasPrefix(stdout, "<!DOCTYPE html>") {
		t.Fatalf("--out -: exit %d, stderr %q, stdout starts %.40q", code, stderr, stdout)
	}
}

func TestCompareHTML(t *testing.T) {
	dir := t.TempDir()
	base, cand := htmlResult(t, dir, "base", 1), htmlResult(t, dir, "cand", 2)
	out := filepath.Join(dir, "compare.html")
	code, _, stderr := run("compare", base, cand, "--format", "html", "--out", out,
		"--max-regression", "latency.end_to_end.p99_us=10")
	if code != exitRegression {
		t.Fatalf("exit %d, want %d (the candidate is twice as slow): %s", code, exitRegression, stderr)
	}
	page := readPage(t, out)
	for _, want := range []string{`id="compare"`, "REGRESSION latency.end_to_end.p99_us", "baseline: " + base, "candidate: " + cand} {
		if !strings.Contains(page, want) {
			t.Errorf("the comparison lacks %q", want)
		}
	}
	if n := strings.Count(page, `data-chart="spectrum"`); n != 4 {
		t.Errorf("%d spectrum charts, want 2 overlays and one per side", n)
	}
}

// TestReportCapacityDocument: capacity documents are recognised; HTML and
// JSON render them, the text formats say so.
func TestReportCapacityDocument(t *testing.T) {
	dir := t.TempDir()
	step := htmlResult(t, dir, "step", 1)
	r, err := result.Load(step)
	if err != nil {
		t.Fatal(err)
	}
	doc := capacity.Doc{Schema: capacity.Schema, Scenario: r.Scenario, StopReason: "completed",
		SLO:      []capacity.Objective{{Path: "latency.end_to_end.p99_us", Max: 5000}},
		Steps:    []capacity.Step{{Phase: "probe", TargetRate: 500, Pass: true, Result: r}},
		Capacity: capacity.Answer{RatePerS: 500, LimitedBy: "max-rate"}}
	file := filepath.Join(dir, "capacity.json")
	if err := result.SaveJSON(file, doc); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "capacity.html")
	if code, _, stderr := run("report", "--format", "html", "--out", out, file); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if page := readPage(t, out); !strings.Contains(page, `data-chart="capacity"`) {
		t.Error("no capacity chart")
	}
	code, stdout, _ := run("report", file)
	if code != exitOK || !strings.Contains(stdout, "capacity: 500/s") {
		t.Errorf("table: exit %d, %q", code, stdout)
	}
	code, stdout, _ = run("report", "--format", "json", file)
	if code != exitOK || !strings.Contains(stdout, capacity.Schema) {
		t.Errorf("json: exit %d", code)
	}
	if code, _, stderr := run("compare", file, step); code != exitUsage || !strings.Contains(stderr, "capacity document") {
		t.Errorf("compare a capacity document with a run: exit %d, %q", code, stderr)
	}
}

func TestReportHTMLBadUsage(t *testing.T) {
	dir := t.TempDir()
	good := htmlResult(t, dir, "good", 1)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"schema":"something/v9"}`), 0o644)
	out := filepath.Join(dir, "r.html")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"report", "--format", "html", "--out", out, good, filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"report", "--format", "html", "--out", out, other}, "something/v9"},
		{[]string{"report", "--format", "pdf", good}, "--format"},
		{[]string{"compare", good, good, "--format", "svg"}, "--format"},
	}
	for _, c := range cases {
		code, _, stderr := run(c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed report left %s behind (%v)", out, err)
	}
}
