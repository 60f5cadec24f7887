package htmlreport

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files (and the committed screenshots)")

func mustGate(t *testing.T, s string) []compare.Gate {
	t.Helper()
	g, err := compare.ParseGate(s)
	if err != nil {
		t.Fatal(err)
	}
	return []compare.Gate{g}
}

func render(t *testing.T, in Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
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
		t.Errorf("%s differs from the golden file (go test ./internal/htmlreport -update to accept; open both in a browser to compare)", name)
	}
}

// wantCharts is how many charts of each kind every golden report has.
var wantCharts = map[string]map[string]int{
	"run":   {"throughput": 1, "latency": 1, "spectrum": 1},
	"sweep": {"sweep": 3},
	// overlays (throughput, a spectrum per kind), then each side's own charts
	"compare":  {"throughput": 3, "latency": 2, "spectrum": 4},
	"capacity": {"capacity": 1},
	// each variant's search draws its own curve
	"capacity-sweep": {"capacity": 2},
}

var chartAttr = regexp.MustCompile(`<svg class="chart" data-chart="([a-z]+)"`)

func chartKinds(page string) map[string]int {
	out := map[string]int{}
	for _, m := range chartAttr.FindAllStringSubmatch(page, -1) {
		out[m[1]]++
	}
	return out
}

func TestHTMLGolden(t *testing.T) {
	for _, g := range goldenInputs(t) {
		t.Run(g.name, func(t *testing.T) {
			page := render(t, g.in)
			golden(t, g.name+".golden.html", []byte(page))
			kinds := chartKinds(page)
			total := 0
			for k, n := range wantCharts[g.name] {
				if kinds[k] != n {
					t.Errorf("%d %s charts, want %d (all: %v)", kinds[k], k, n, kinds)
				}
				total += n
			}
			if !strings.Contains(page, `data-charts-emitted="`+strconv.Itoa(total)+`"`) {
				t.Errorf("the body does not announce %d charts", total)
			}
			if again := render(t, g.in); again != page {
				t.Error("two renderings of the same input differ")
			}
			checkSVG(t, page)
		})
	}
}

// checkSVG parses every chart as XML: browsers forgive an unclosed
// element in HTML, and would hide such a mistake.
func checkSVG(t *testing.T, page string) {
	t.Helper()
	for _, chunk := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1) {
		d := xml.NewDecoder(strings.NewReader(chunk))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("a chart is not well-formed: %v\n%.300s", err, chunk)
			}
		}
	}
}

// TestEscaping: names from a document can never open a tag or end an
// attribute.
func TestHTMLEscaping(t *testing.T) {
	r := sampleRun(t, "<script>alert(1)</script>", 1)
	r.Queues[0].Name = `q"><img src=x onerror=alert(2)>`
	r.Warnings = append(r.Warnings, "<b>bold</b> & co")
	page := render(t, Input{Results: []Result{{File: `"><svg onload=alert(3)>.json`, Doc: r}}})
	for _, bad := range []string{"<script>alert(1)", "<img src=x", "<svg onload", "<b>bold</b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("unescaped %q in the page", bad)
		}
	}
	for _, good := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "q&#34;&gt;&lt;img src=x onerror=alert(2)&gt;",
		"&lt;b&gt;bold&lt;/b&gt; &amp; co", "&#34;&gt;&lt;svg onload=alert(3)&gt;.json"} {
		if !strings.Contains(page, good) {
			t.Errorf("%q is not in the page", good)
		}
	}
	if n := strings.Count(page, "<script>"); n != 1 {
		t.Errorf("%d <script> tags, want only the self-check", n)
	}
}

// TestOffline: the page fetches nothing — no src, no external link, no
// CSS import or url(), and no address of any web host.
func TestHTMLOffline(t *testing.T) {
	for _, g := range goldenInputs(t) {
		page := render(t, g.in)
		for _, re := range []string{`\ssrc=`, `href="[^#]`, `url\(`, `@import`, `https?://`, `<link`, `<iframe`, `<img`} {
			if loc := regexp.MustCompile(re).FindStringIndex(page); loc != nil {
				t.Errorf("%s: %q at %q", g.name, re, page[max(0, loc[0]-40):min(len(page), loc[1]+40)])
			}
		}
	}
}

// TestNoPassword: the fixtures' URLs carry a password; only its masked
// form may appear.
func TestHTMLNoPassword(t *testing.T) {
	for _, g := range goldenInputs(t) {
		page := render(t, g.in)
		if strings.Contains(page, "S3cr3t") {
			t.Errorf("%s: the password is in the page", g.name)
		}
		if g.name != "sweep" && !strings.Contains(page, "bench:xxxxx@rabbit.example") { // a sweep shows no scenario
			t.Errorf("%s: the masked URL is not in the page", g.name)
		}
	}
}

// TestSpectrumFromHDR: the spectrum is read from the stored histogram at
// the right percentiles, stops where the samples do, and ends with the
// maximum.
func TestHTMLSpectrumFromHDR(t *testing.T) {
	reg := metrics.NewRegistry(1, &metrics.Window{})
	w := reg.NewWorker()
	for v := 1; v <= 1000; v++ { // 1µs … 1000µs, one each
		w.Record(metrics.EndToEnd, time.Duration(v)*time.Microsecond)
	}
	col := metrics.NewCollector(reg)
	col.Collect()
	s, err := metrics.Summarize(col.Total(metrics.EndToEnd))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := spectrumOf(s)
	if err != nil {
		t.Fatal(err)
	}
	at := map[float64]float64{}
	for i, p := range pts {
		if i > 0 && (p.x < pts[i-1].x || p.us < pts[i-1].us) {
			t.Fatalf("point %d (%g, %g) goes back from (%g, %g)", i, p.x, p.us, pts[i-1].x, pts[i-1].us)
		}
		if p.mark {
			at[p.pct] = p.us
		}
	}
	// 1000 samples resolve three nines: the curve ends at x = 3 with the max.
	if last := pts[len(pts)-1]; last.x != 3 || last.us != 1000 || last.pct != 100 {
		t.Errorf("last point %+v, want the max (1000µs) at x = 3", last)
	}
	for pct, want := range map[float64]float64{50: 500, 90: 900, 99: 990, 99.9: 999} {
		if got, ok := at[pct]; !ok || got != want {
			t.Errorf("p%g = %g (marked %v), want %g", pct, got, ok, want)
		}
	}
	if len(pts) < 60 {
		t.Errorf("%d points over three nines, want a smooth curve", len(pts))
	}
}

// TestSpectrumWithoutHDR draws from the stored percentiles; a corrupt
// histogram is an error naming the file and field.
func TestHTMLSpectrumWithoutHDR(t *testing.T) {
	s := &metrics.Summary{Count: 10, MinUs: 1, P50Us: 5, P75Us: 6, P90Us: 7, P95Us: 8, P99Us: 9, P999Us: 10, P9999Us: 10, MaxUs: 10}
	pts, err := spectrumOf(s)
	if err != nil || len(pts) != 9 || pts[1].us != 5 || pts[8].us != 10 {
		t.Fatalf("%v %+v", err, pts)
	}
	r := sampleRun(t, "x", 1)
	r.Latency[metrics.Confirm].HDR = "not base64!"
	var b bytes.Buffer
	err = Write(&b, Input{Results: []Result{{File: "bad.json", Doc: r}}})
	if err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "latency.confirm.hdr") {
		t.Fatalf("err = %v", err)
	}
}

func TestHTMLInputErrors(t *testing.T) {
	cases := []struct {
		in   Input
		want string
	}{
		{Input{}, "nothing to report"},
		{Input{Results: []Result{{File: "a.json"}}}, "a.json"},
		{Input{Compare: &Comparison{Base: Document{File: "b.json"}, Candidate: Document{File: "c.json", Result: &result.Result{}}}}, "b.json"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := Write(&b, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Write(%+v) = %v, want an error naming %q", c.in, err, c.want)
		}
	}
}

// TestRunWithoutIntervals: a run with nothing over time still renders,
// with no empty chart (the self-check would count it as undrawn).
func TestHTMLRunWithoutIntervals(t *testing.T) {
	r := sampleRun(t, "short", 1)
	r.Intervals = nil
	page := render(t, Input{Results: []Result{{File: "r.json", Doc: r}}})
	if got := chartKinds(page); got["throughput"] != 0 || got["latency"] != 0 || got["spectrum"] != 1 {
		t.Errorf("charts %v, want the spectrum only", got)
	}
}

// TestSeveralRunsOverlay: two results get an overlay section naming
// each file in the legends.
func TestHTMLSeveralRunsOverlay(t *testing.T) {
	page := render(t, Input{Results: []Result{{File: "a.json", Doc: sampleRun(t, "a", 1)}, {File: "b.json", Doc: sampleRun(t, "b", 2)}}})
	if !strings.Contains(page, `id="overlay"`) || !strings.Contains(page, ">a.json</text>") || !strings.Contains(page, ">b.json</text>") {
		t.Error("no overlay naming both files")
	}
	if got := chartKinds(page)["spectrum"]; got != 4 {
		t.Errorf("%d spectrum charts, want one per run and one per kind overlaid (4)", got)
	}
}

// TestHTMLCapacitySaysHowSure: the capacity's headline says it passed
// once, not confirmed, and why; the sample (no basis, as documents
// written before it) keeps its old label.
func TestHTMLCapacitySaysHowSure(t *testing.T) {
	d := sampleCapacity()
	basis := "passed once, not confirmed: the search stopped (budget) before a repeat passed"
	d.Capacity.Basis = basis
	page := render(t, Input{Capacities: []Capacity{{File: "c.json", Doc: d}}})
	if !strings.Contains(page, "capacity: "+basis) {
		t.Errorf("the page does not say the capacity passed once: %q", basis)
	}
	page = render(t, Input{Capacities: []Capacity{{File: "c.json", Doc: sampleCapacity()}}})
	if !strings.Contains(page, "capacity: the highest passing rate") {
		t.Error("a document without a basis lost its label")
	}
}

// TestConsumerBehaviourDescribed: the scenario table says how consumers
// behave beyond their acks.
func TestConsumerBehaviourDescribed(t *testing.T) {
	c := scenario.Default().Consumers
	c.Delay, c.DelayDistribution, c.DelaySigma = scenario.Duration(5*time.Millisecond), scenario.DelayLogNormal, 0.5
	c.Rate, c.StartDelay, c.CrashEvery = 200, scenario.Duration(30*time.Second), 1000
	got := consumers(c)
	for _, want := range []string{"5ms (log-normal mean, sigma 0.5) per message", "at most 200/s each", "subscribing after 30s", "crashing every 1,000 deliveries"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q does not say %q", got, want)
		}
	}
	if got := consumers(scenario.Default().Consumers); strings.Contains(got, "per message") || strings.Contains(got, "at most") {
		t.Errorf("a default consumer described as %q", got)
	}
}
