package promexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/driver"
	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
)

// startPrometheus runs a private Prometheus (Debian's package) that
// scrapes target every 500 ms and returns its API address. With native,
// it reads native histograms (and, being 2.42, drops their classic
// buckets); without, it reads the classic buckets only.
func startPrometheus(t *testing.T, target string, native bool) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("MQBENCH_REQUIRE_PROMETHEUS") == "1" {
			t.Fatal("prometheus is not installed (scripts/prometheus.sh installs it)")
		}
		t.Skip("prometheus is not installed")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	cfg := fmt.Sprintf("global: {scrape_interval: 500ms, evaluation_interval: 500ms}\nscrape_configs:\n"+
		"  - job_name: mqbench\n    scrape_interval: 500ms\n    static_configs: [{targets: ['%s']}]\n", target)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"--config.file=" + conf, "--storage.tsdb.path=" + filepath.Join(dir, "data"), "--web.listen-address=" + addr}
	if native {
		args = append(args, "--enable-feature=native-histograms")
	}
	cmd := exec.Command(bin, args...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not become ready:\n%s", logs.String())
		}
	}
}

// query runs an instant PromQL query and returns its single value.
func query(t *testing.T, prom, q string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + prom + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
		Error string
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "success" || len(body.Data.Result) != 1 {
		t.Fatalf("%s: %s %s, %d series", q, body.Status, body.Error, len(body.Data.Result))
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// TestPrometheusAgrees: a real Prometheus scrapes a run; its counters end
// at the result's totals, its gauges at a finished run's values (no
// workers, no CPU, no connections, no backlog served), and
// histogram_quantile over the run's histogram agrees with mqbench's own
// p99 within the buckets' resolution — native (schema 3: ±4.5%, allowed
// 9%) and classic (the p99's own bucket).
func TestPrometheusAgrees(t *testing.T) {
	e, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	prom, promClassic := startPrometheus(t, e.Addr(), true), startPrometheus(t, e.Addr(), false)
	sc := scenario.Default()
	sc.URL = brokertest.URL(t)
	sc.Name = "prom-" + brokertest.Suffix(t)
	sc.Duration = scenario.Duration(4 * time.Second)
	sc.Producers = scenario.Producers{Count: 2, Rate: 400, Confirm: 50}
	sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual, Prefetch: 50}
	sc.Normalize()
	res, err := driver.Run(t.Context(), sc, driver.Options{Version: "test",
		Sinks: []engine.Sink{e.Run(Labels{Scenario: sc.Name}, map[string]int{"producer": 2})}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // two more scrapes of the final values
	sel := fmt.Sprintf(`{scenario=%q}`, sc.Name)
	for name, want := range map[string]int64{
		"mqbench_messages_published_total": res.Totals.Published,
		"mqbench_messages_confirmed_total": *res.Totals.Confirmed,
		"mqbench_messages_consumed_total":  *res.Totals.Consumed,
	} {
		if got := query(t, prom, name+sel); int64(got) != want {
			t.Errorf("%s = %.0f, the result says %d", name, got, want)
		}
	}
	// The run is done: its gauges read what is true of a finished run.
	for _, q := range []string{`mqbench_workers{role="producer",scenario=%q}`, `mqbench_client_cpu_cores{scenario=%q}`, `mqbench_connections_up{scenario=%q}`} {
		if got := query(t, prom, fmt.Sprintf(q, sc.Name)); got != 0 {
			t.Errorf("%s = %g after the run, want 0", fmt.Sprintf(q, sc.Name), got)
		}
	}
	if got := query(t, prom, "count(mqbench_backlog_messages"+sel+") or vector(0)"); got != 0 {
		t.Errorf("the backlog is still served after the run (%g series), though no longer measured", got)
	}
	p99 := float64(res.Latency[metrics.EndToEnd].P99Us) / 1e6
	native := query(t, prom, "histogram_quantile(0.99, mqbench_end_to_end_latency_seconds"+sel+")")
	classic := query(t, promClassic, "histogram_quantile(0.99, sum by (le) (mqbench_end_to_end_latency_seconds_bucket"+sel+"))")
	t.Logf("p99: mqbench %.6fs, native %.6fs, classic %.6fs", p99, native, classic)
	if math.Abs(native-p99)/p99 > 0.09 {
		t.Errorf("native histogram p99 %.6fs vs mqbench %.6fs: beyond the schema's resolution", native, p99)
	}
	lo, hi := 0.0, math.Inf(1)
	for _, b := range ClassicBuckets() {
		if b < p99 {
			lo = b
		} else {
			hi = b
			break
		}
	}
	if classic < lo || classic > hi {
		t.Errorf("classic p99 %.6fs outside the bucket (%g, %g] that holds mqbench's %.6fs", classic, lo, hi, p99)
	}
}
