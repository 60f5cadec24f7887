package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/sweep"
)

// TestShippedScenarios runs every scenario in bench/scenarios as mqbench
// run does — the file resolved with the command's flags, a matrix as a
// sweep — briefly, against the broker at $MQBENCH_URL (scripts/test.sh
// runs it against 3.10 and against 4.x refusing the deprecated features).
// Only the names change: the queues, the exchange and the RPC queue get
// the test's suffix, so that parallel runs cannot clash. Durability and
// exclusivity stay as shipped: a scenario that declares what a broker
// refuses must fail here, not in a user's CI.
func TestShippedScenarios(t *testing.T) {
	url := brokertest.URL(t)
	files, err := filepath.Glob("../../bench/scenarios/*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d scenario files (%v), want every shipped one", len(files), err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel() // two at a time by default (GOMAXPROCS): the sweeps take most of the time
			out := filepath.Join(t.TempDir(), "out.json")
			// Brief: every run 500 ms without warm-up, once, no cool-down,
			// a short drain; a matrix keeps all its variants. A phased
			// scenario's phases are shortened to 2 s in all (a phase that
			// ends on a condition keeps time to meet it on a busy
			// machine), within a 4 s bound (--duration 500ms would refuse
			// phases that last longer, as it does for users).
			f := newFlagSet()
			args := []string{file, "--url", url, "--warmup", "0", "--repeat", "1", "--cooldown", "0",
				"--drain-timeout", "1s", "--quiet", "--out", out}
			if !phasedFile(t, file) {
				args = append(args, "--duration", "500ms")
			}
			if _, err := f.parse(args); err != nil {
				t.Fatal(err)
			}
			sc, err := resolve(file, f)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Phased() {
				sc.FitPhases(2 * time.Second)
				sc.Duration = scenario.Duration(4 * time.Second)
			}
			renameOwn(t, &sc)
			outs, err := f.out.open(os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			defer outs.close()
			var stdout, stderr bytes.Buffer
			code, err := runOrSweep(context.Background(), sc, outs, &signalWatch{sig: make(chan os.Signal, 1)}, &stdout, &stderr)
			if err != nil || code != exitOK {
				t.Fatalf("exit %d: %v\n%s", code, err, stderr.String())
			}
			for _, r := range savedRuns(t, out, len(sc.Matrix) > 0) {
				checkShippedRun(t, sc, r)
			}
			assertNamesGone(t, url, sc)
		})
	}
}

// phasedFile reports whether the scenario file has phases.
func phasedFile(t *testing.T, file string) bool {
	t.Helper()
	sc, _, err := scenario.Load(file, scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	return sc.Phased()
}

// renameOwn appends the test's suffix to every name the scenario
// declares (server-named queues stay server-named) and deletes them when
// the test ends, whatever happens; nothing else changes.
func renameOwn(t *testing.T, sc *scenario.Scenario) {
	t.Helper()
	suffix := brokertest.Suffix(t)
	if !sc.Exchange.Predeclared() {
		sc.Exchange.Name += "-" + suffix
	}
	for i := range sc.Queues {
		if sc.Queues[i].Name != "" {
			sc.Queues[i].Name += "-" + suffix
		}
	}
	if sc.RPC.Enabled() && sc.RPC.Servers > 0 {
		sc.RPC.Queue += "-" + suffix
	}
	if p := sc.Validate(); p != nil {
		t.Fatalf("renamed scenario is invalid: %v", p)
	}
	brokerURL := sc.URL
	t.Cleanup(func() {
		c, err := amqp.Dial(brokerURL)
		if err != nil {
			return
		}
		defer c.Close()
		for _, n := range ownedQueues(*sc) {
			brokertest.DeleteQueue(c, n)
		}
		if !sc.Exchange.Predeclared() {
			brokertest.DeleteExchange(c, sc.Exchange.Name)
		}
	})
}

// ownedQueues are the scenario's named queues, the RPC request queue
// included.
func ownedQueues(sc scenario.Scenario) []string {
	var out []string
	for _, n := range sc.QueueNames() {
		if n != "" {
			out = append(out, n)
		}
	}
	if sc.RPC.Enabled() && sc.RPC.Servers > 0 {
		out = append(out, sc.RPC.Queue)
	}
	return out
}

// savedRuns loads what the command saved: one result, or a sweep's runs.
func savedRuns(t *testing.T, path string, isSweep bool) []*result.Result {
	t.Helper()
	if !isSweep {
		r, err := result.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return []*result.Result{r}
	}
	doc, err := sweep.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var runs []*result.Result
	for _, v := range doc.Variants {
		runs = append(runs, v.Runs...)
	}
	if doc.StopReason != "completed" || len(runs) == 0 {
		t.Errorf("sweep stopped %q with %d runs", doc.StopReason, len(runs))
	}
	return runs
}

// checkShippedRun checks what must hold for any brief run of a shipped
// scenario: it ran its duration, carried traffic of each kind it has,
// lost no confirm, and knew its broker.
func checkShippedRun(t *testing.T, sc scenario.Scenario, r *result.Result) {
	t.Helper()
	c := r.Scenario.Consumers
	name := fmt.Sprintf("%s (prefetch %d, ack %s, confirm %d)", r.Scenario.Name, c.Prefetch, c.Ack, r.Scenario.Producers.Confirm)
	val := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	wantStop := result.StopDuration
	if len(sc.Phases) > 0 { // a phased run ends with its last phase
		wantStop = result.PhaseStopped
		if len(r.Phases) == len(sc.Phases) {
			wantStop = r.Phases[len(r.Phases)-1].Ended
		}
	}
	if r.StopReason != wantStop || r.Error != "" {
		t.Errorf("%s: stop %q %s, want %s (%d of %d phases)", name, r.StopReason, r.Error, wantStop, len(r.Phases), len(sc.Phases))
	}
	if sc.Producers.Count > 0 && (r.Totals.Published == 0 || val(r.Totals.Consumed) <= 0) {
		t.Errorf("%s: published %d, consumed %d: want traffic", name, r.Totals.Published, val(r.Totals.Consumed))
	}
	if r.Scenario.Producers.Confirm > 0 && val(r.Totals.Confirmed) != r.Totals.Published {
		t.Errorf("%s: confirmed %d of %d published", name, val(r.Totals.Confirmed), r.Totals.Published)
	}
	if sc.RPC.Clients > 0 && (val(r.Totals.RPCRequests) <= 0 || val(r.Totals.RPCReplies) <= 0 || r.Latency[metrics.RPC] == nil) {
		t.Errorf("%s: rpc requests %d, replies %d: want RPC traffic", name, val(r.Totals.RPCRequests), val(r.Totals.RPCReplies))
	}
	if sc.Consumers.Count > 0 && (r.Latency[metrics.EndToEnd] == nil || r.Latency[metrics.EndToEnd].Count == 0) {
		t.Errorf("%s: no end-to-end latency", name)
	}
	if r.Broker.Product != "RabbitMQ" || r.Broker.Version == "" {
		t.Errorf("%s: broker %+v: want product and version from the server properties", name, r.Broker)
	}
}

// assertNamesGone checks that mqbench deleted every queue and the
// exchange it declared.
func assertNamesGone(t *testing.T, url string, sc scenario.Scenario) {
	t.Helper()
	c := brokertest.Conn(t, url)
	for _, n := range ownedQueues(sc) {
		if brokertest.QueueExists(t, c, n) {
			t.Errorf("queue %s is still on the broker", n)
		}
	}
	if !sc.Exchange.Predeclared() && brokertest.ExchangeExists(t, c, sc.Exchange.Name) {
		t.Errorf("exchange %s is still on the broker", sc.Exchange.Name)
	}
}
