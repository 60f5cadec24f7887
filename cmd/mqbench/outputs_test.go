package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// TestPrometheusAndCSVDuringARun: /metrics answers while a run goes on,
// with the documented series and a latency histogram; --csv holds one row
// per interval of the result, folded as charts and merge fold them.
func TestPrometheusAndCSVDuringARun(t *testing.T) {
	url := brokertest.URL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	out, csvFile := filepath.Join(dir, "r.json"), filepath.Join(dir, "i.csv")
	type ran struct {
		code   int
		stderr string
	}
	done := make(chan ran, 1)
	go func() {
		code, _, stderr := run("run", "--url", url, "--duration", "3s", "--confirm", "50", "--rate", "300", "--quiet",
			"--prometheus", addr, "--csv", csvFile, "--out", out)
		done <- ran{code, stderr}
	}()
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "mqbench_end_to_end_latency_seconds_count") && !strings.Contains(string(b), "mqbench_messages_published_total{scenario=\"adhoc\",shard=\"\",variant=\"\"} 0\n") {
			body = string(b)
			break
		}
	}
	r := <-done
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, series := range []string{"mqbench_messages_published_total{", "mqbench_messages_confirmed_total{", "mqbench_messages_consumed_total{",
		"mqbench_connections_up{", "mqbench_connections_blocked{", "mqbench_backlog_messages{", "mqbench_workers{role=\"producer\"",
		"mqbench_end_to_end_latency_seconds_bucket{", "mqbench_confirm_latency_seconds_bucket{", "mqbench_rpc_latency_seconds_count{"} {
		if !strings.Contains(body, series) {
			t.Errorf("/metrics during the run lacks %s", series)
		}
	}
	if strings.Contains(body, "guest") {
		t.Error("/metrics shows the URL's user or password")
	}
	res, err := result.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	folded := result.Fold(res.Intervals, res.Scenario.Interval.D()) // as the CSV shows them
	if len(rows) != len(folded)+1 || strings.Join(rows[0], ",") != strings.Join(report.IntervalColumns(), ",") {
		t.Fatalf("%d CSV rows for %d intervals; header %v", len(rows), len(folded), rows[0])
	}
	for i, iv := range folded {
		if rows[i+1][4] != fmt.Sprint(iv.Published) {
			t.Errorf("row %d published %s, interval %d", i+1, rows[i+1][4], iv.Published)
		}
	}
}
