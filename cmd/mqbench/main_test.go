package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
)

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = mainCode(args, &o, &e)
	return code, o.String(), e.String()
}

// TestFlagsOverrideFileOnlyWhenGiven: a flag the user did not give leaves
// the file's value alone, whatever the flag's default.
func TestFlagsOverrideFileOnlyWhenGiven(t *testing.T) {
	for _, args := range [][]string{
		{"testdata/base.yaml", "--consumers", "3"},
		{"--consumers", "3", "testdata/base.yaml"},
		{"-y", "3", "testdata/base.yaml", "--quiet"},
	} {
		f := newFlagSet()
		file, err := f.parse(args)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		sc, err := resolve(file, f)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if sc.Producers.Count != 4 || sc.Producers.Rate != 10 || sc.Consumers.Prefetch != 7 || sc.Duration.String() != "5s" {
			t.Errorf("%v: file values lost: %+v %+v", args, sc.Producers, sc.Consumers)
		}
		if sc.Consumers.Count != 3 {
			t.Errorf("%v: consumers %d, want the flag's 3", args, sc.Consumers.Count)
		}
		if sc.Name != "base" && sc.Name != "file" {
			t.Errorf("name %q", sc.Name)
		}
	}
}

func TestFlagsAlone(t *testing.T) {
	f := newFlagSet()
	if _, err := f.parse([]string{"-x", "2", "-q", "50", "--ack", "multiple", "-A", "10", "--queue", "q-%d", "--queues", "3",
		"--queue-type", "quorum", "-k", "a, b", "-z", "7"}); err != nil {
		t.Fatal(err)
	}
	sc, err := resolve("", f)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Producers.Count != 2 || sc.Consumers.Prefetch != 50 || sc.Consumers.MultiAckEvery != 10 || sc.Duration.String() != "7s" {
		t.Errorf("flags not applied: %+v %+v %v", sc.Producers, sc.Consumers, sc.Duration)
	}
	if q := sc.Queues[0]; q.Name != "q-%d" || q.Count != 3 || q.Type != "quorum" || !q.Durable {
		t.Errorf("queue %+v", q)
	}
	if strings.Join(sc.Producers.RoutingKeys, "|") != "a|b" {
		t.Errorf("routing keys %q", sc.Producers.RoutingKeys)
	}
	if out := defaultOut(sc.Name); !strings.HasPrefix(out, "results/") || !strings.HasSuffix(out, "-adhoc.json") {
		t.Errorf("default out %q", out)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []usageCase{
		{[]string{"run", "--size", "4"}, []string{"--size = 4", "at least 12"}},
		{[]string{"run", "--ack", "multiple", "--multi-ack-every", "50", "--prefetch", "10"}, []string{"--multi-ack-every = 50", "prefetch (10)"}},
		{[]string{"run", "../../internal/scenario/testdata/unknown-field.yaml"}, []string{"unknown-field.yaml:4", "producers.rat"}},
		{[]string{"run", "--producers", "many"}, []string{"invalid value", "many", "-producers"}},
		{[]string{"run", "a.yaml", "b.yaml"}, []string{"one scenario file"}},
		{[]string{"run", "--duration", "soon"}, []string{"soon"}},
		{[]string{"frobnicate"}, []string{"unknown command"}},
		{[]string{"run", "--rpc-clients", "1", "--rpc-concurrency", "0"}, []string{"--rpc-concurrency = 0"}},
		{[]string{"run", "--rpc-clients", "1", "--rpc-timeout", "0s"}, []string{"--rpc-timeout = 0s", "positive"}},
		{[]string{"run", "--rpc-clients", "1", "--rpc-reply-mode", "fast"}, []string{"--rpc-reply-mode = fast"}},
		{[]string{"run", "--rpc-clients", "1", "--rpc-body", "no/such/file"}, []string{"--rpc-body = no/such/file"}},
	}
	expectUsageErrors(t, cases)
}

// TestHelpExitsZero: -h is not a mistake, for every command.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"run", "-h"}, {"report", "-h"}, {"compare", "--help"}, {"help"}} {
		code, stdout, stderr := run(args...)
		if code != exitOK || !strings.Contains(stdout+stderr, "-") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
		if strings.Contains(stderr, "mqbench: flag: help requested") {
			t.Errorf("%v: help reported as an error", args)
		}
	}
}

func TestUnreachableBroker(t *testing.T) {
	code, _, stderr := run("run", "--url", "amqp://guest:hunter2x@127.0.0.1:1/", "--connect-timeout", "2s")
	if code != exitFailed || !strings.Contains(stderr, "127.0.0.1:1") || !strings.Contains(stderr, "refused") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "hunter2x") {
		t.Fatal("the password was printed")
	}
}

func TestBadCredentials(t *testing.T) {
	url := brokertest.URL(t)
	bad := strings.Replace(url, "guest:guest@", "guest:Pa55-w0rd-xyzzy@", 1)
	if bad == url {
		t.Skip("broker URL has no guest:guest credentials to alter")
	}
	code, stdout, stderr := run("run", "--url", bad, "--duration", "1s")
	if code != exitFailed || !strings.Contains(stderr, "authentication failed") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout+stderr, "Pa55-w0rd-xyzzy") {
		t.Fatal("the password was printed")
	}
}

// TestRunWritesResult runs a real, short benchmark through the command.
func TestRunWritesResult(t *testing.T) {
	url := brokertest.URL(t)
	out := filepath.Join(t.TempDir(), "r.json")
	code, stdout, stderr := run("run", "--url", url, "--duration", "1s", "--confirm", "10", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "end-to-end") || !strings.Contains(stderr, "pub ") {
		t.Errorf("no summary table on stdout or no live line on stderr:\n%s\n%s", stdout, stderr)
	}
	r, err := result.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.StopReason != result.StopDuration || r.Totals.Published == 0 || *r.Totals.Confirmed != r.Totals.Published {
		t.Errorf("result %+v", r.Totals)
	}
	data, _ := os.ReadFile(out)
	if strings.Contains(string(data), ":guest@") {
		t.Error("the password is in the result file")
	}
	// report re-renders the saved result.
	code, stdout, _ = run("report", out)
	if code != exitOK || !strings.Contains(stdout, "end-to-end") {
		t.Errorf("report: exit %d\n%s", code, stdout)
	}
}

// TestPureRPCRun: --producers 0 --consumers 0 with RPC flags.
func TestPureRPCRun(t *testing.T) {
	url := brokertest.URL(t)
	queue := "mqbench-cmd-rpc-" + brokertest.Suffix(t)
	code, stdout, stderr := run("run", "--url", url, "--producers", "0", "--consumers", "0", "--rpc-clients", "2",
		"--rpc-concurrency", "2", "--rpc-servers", "1", "--rpc-requests", "300", "--rpc-reply-mode", "direct",
		"--rpc-queue", queue, "--quiet", "--out", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r result.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.Totals.RPCReplies == nil || *r.Totals.RPCReplies != 300 || r.Latency[metrics.RPC] == nil || r.Rates.RPCRepliesPerS == nil {
		t.Fatalf("totals %+v latency %+v", r.Totals, r.Latency[metrics.RPC])
	}
	if r.Totals.Consumed != nil || r.Latency[metrics.EndToEnd] != nil {
		t.Error("a pure RPC run reports consumer figures")
	}
	if !strings.Contains(stderr, "rpc round trip") {
		t.Error("the table has no RPC latency row")
	}
}

func TestRunJSONToStdout(t *testing.T) {
	url := brokertest.URL(t)
	code, stdout, stderr := run("run", "--url", url, "--pmessages", "500", "--quiet", "--out", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r result.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if r.Schema != result.Schema || r.StopReason != result.StopMessageCount || r.Totals.Published != 500 || *r.Totals.Consumed != 500 {
		t.Errorf("result: %s %s %+v", r.Schema, r.StopReason, r.Totals)
	}
	if !strings.Contains(stderr, "end-to-end") {
		t.Error("with --out - the table belongs on stderr")
	}
}

// TestSilentBrokerTimesOut: a port that accepts TCP but never speaks AMQP
// must not hang the run past the connect timeout.
func TestSilentBrokerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	start := time.Now()
	code, _, stderr := run("run", "--url", "amqp://guest:guest@"+ln.Addr().String()+"/", "--connect-timeout", "1s")
	if code != exitFailed || !strings.Contains(stderr, ln.Addr().String()) || !strings.Contains(stderr, "no answer within 1s") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v with a 1s connect timeout", d)
	}
}

// usageCase is a command line mqbench must refuse as a usage error (exit
// 2), its stderr naming each of want.
type usageCase struct{ args, want []string }

// expectUsageErrors runs each case and checks that it is refused, saying
// what is wrong.
func expectUsageErrors(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, c := range cases {
		code, _, stderr := run(c.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, exitUsage, stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q does not mention %q", c.args, stderr, w)
			}
		}
	}
}
