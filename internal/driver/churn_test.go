package driver

import (
	"context"
	"math"
	"net"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/mgmt"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// churnOnly is a scenario of churn alone: no producer, no consumer.
func churnOnly(url string, k scenario.Churn, d time.Duration) scenario.Scenario {
	sc := scenario.Default()
	sc.URL = url
	sc.Producers.Count, sc.Consumers.Count = 0, 0
	sc.Duration = scenario.Duration(d)
	sc.Churn = k
	return sc
}

// runPrefix is the prefix of every connection and queue name of the run
// (mqbench-<run>-), read from its admin connection's name.
func runPrefix(t *testing.T, res *result.Result) string {
	t.Helper()
	for _, c := range res.Connections {
		if i := strings.Index(c.Name, "-admin-"); i > 0 {
			return c.Name[:i+1]
		}
	}
	t.Fatalf("no admin connection among %+v", res.Connections)
	return ""
}

// leftOnBroker lists the names rabbitmqctl list_<what> shows that start
// with prefix, waiting up to 10 s for them to go (a connection's process
// ends a moment after it answered the close).
func leftOnBroker(t *testing.T, ctl func(...string) ([]byte, error), what, prefix string) []string {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := ctl("list_"+what, "name", "--silent")
		if err != nil {
			t.Fatalf("rabbitmqctl list_%s: %v", what, err)
		}
		left = left[:0]
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				left = append(left, strings.TrimSpace(l))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
	}
}

// within reports whether got is within frac of want.
func withinShare(got, want, frac float64) bool { return math.Abs(got-want) <= frac*want }

// TestChurnAllKindsLeaveNothing churns connections, channels and queues,
// each carrying two messages, on the shared broker: every connection
// opened is closed, every queue declared is bound and deleted, every
// message published is fetched back, each operation is timed, and
// rabbitmqctl shows none of the run's connections or queues afterwards.
func TestChurnAllKindsLeaveNothing(t *testing.T) {
	url := brokertest.URL(t)
	sc := churnOnly(url, scenario.Churn{ConnectionRate: 20, ChannelRate: 20, QueueRate: 20, Concurrency: 4, Messages: 2}, 3*time.Second)
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatal(p)
	}
	res := runOK(t, sc)
	f := res.Kinds["churn"]
	if f == nil {
		t.Fatalf("no churn figures in %+v", res.Kinds)
	}
	c := f.Counts
	for _, pair := range [][2]string{
		{"connections_opened", "connections_closed"}, {"channels_opened", "channels_closed"},
		{"queues_declared", "queues_deleted"}, {"queues_declared", "queues_bound"},
		{"messages_published", "messages_consumed"},
	} {
		if c[pair[0]] != c[pair[1]] {
			t.Errorf("%s %d but %s %d", pair[0], c[pair[0]], pair[1], c[pair[1]])
		}
	}
	// Every operation due in the window was done or, on a broker too slow
	// for the rate, skipped: 20/s × 3 s of each.
	for _, n := range [][2]string{{"connections_opened", "connections_skipped"}, {"channels_opened", "channels_skipped"}, {"queues_declared", "queues_skipped"}} {
		if got := c[n[0]] + c[n[1]]; got < 59 || got > 61 || c[n[0]] == 0 {
			t.Errorf("%s %d + %s %d: want 60 operations due", n[0], c[n[0]], n[1], c[n[1]])
		}
	}
	if want := 2 * (c["connections_opened"] + c["channels_opened"] + c["queues_declared"]); c["messages_published"] != want {
		t.Errorf("messages_published %d, want 2 on each: %d", c["messages_published"], want)
	}
	if c["errors"] != 0 {
		t.Errorf("%d errors: %v", c["errors"], c)
	}
	for _, op := range []string{"tcp_connect", "amqp_handshake", "connection_close", "connection_cycle", "channel_open",
		"channel_close", "channel_cycle", "queue_declare", "queue_bind", "queue_delete", "queue_cycle", "messages"} {
		if l := f.Latency[op]; l == nil || l.Count == 0 || l.HDR == "" {
			t.Errorf("latency %s: %+v", op, l)
		}
	}
	if _, ok := f.Latency["tls_handshake"]; ok {
		t.Error("a TLS handshake timed on amqp://")
	}
	prefix := runPrefix(t, res)
	if left := leftOnBroker(t, brokertest.Ctl, "connections", prefix); len(left) > 0 {
		t.Errorf("connections left: %v", left)
	}
	if left := leftOnBroker(t, brokertest.Ctl, "queues", prefix); len(left) > 0 {
		t.Errorf("queues left: %v", left)
	}
}

// TestChurnInterruptedLeavesNothing interrupts a churn run (as Ctrl-C
// does): the operations under way finish their cycle, nothing is left.
func TestChurnInterruptedLeavesNothing(t *testing.T) {
	url := brokertest.URL(t)
	sc := churnOnly(url, scenario.Churn{ConnectionRate: 40, QueueRate: 40, Concurrency: 8, Messages: 1}, 0)
	sc.Normalize()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	res, err := Run(ctx, sc, Options{Version: "test"})
	if err != nil && res == nil {
		t.Fatalf("run: %v", err)
	}
	if res.StopReason != result.StopInterrupted {
		t.Errorf("stop reason %q", res.StopReason)
	}
	c := res.Kinds["churn"].Counts
	if c["connections_opened"] == 0 || c["connections_opened"] != c["connections_closed"] || c["queues_declared"] != c["queues_deleted"] {
		t.Errorf("counts %v: want every connection closed and queue deleted", c)
	}
	prefix := runPrefix(t, res)
	if left := leftOnBroker(t, brokertest.Ctl, "connections", prefix); len(left) > 0 {
		t.Errorf("connections left: %v", left)
	}
	if left := leftOnBroker(t, brokertest.Ctl, "queues", prefix); len(left) > 0 {
		t.Errorf("queues left: %v", left)
	}
}

// TestConnectionChurnAgreesWithBroker churns connections at 50/s for 30 s
// (5 s with -short) on a private node with the management plugin: mqbench
// achieves 50/s within 2%, closes every connection it opened (rabbitmqctl
// lists as many connections as before), and the broker's own count of
// connections created grew by exactly mqbench's count plus its admin
// connection. The broker's rate sampled into the result agrees too.
func TestConnectionChurnAgreesWithBroker(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	n := brokertest.StartNode(t, brokertest.WithManagement())
	api, err := mgmt.New(n.MgmtURL(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	// The management agent answers a few seconds after the node boots.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if _, err := api.Churn(t.Context()); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the management API never answered: %v", err)
		}
	}
	ctl := func(args ...string) ([]byte, error) { out, err := n.Ctl(args...); return []byte(out), err }
	countConns := func() int {
		out, err := ctl("list_connections", "name", "--silent")
		if err != nil {
			t.Fatalf("list_connections: %v\n%s", err, out)
		}
		return len(strings.Fields(string(out)))
	}
	connsBefore := countConns()
	before := settledChurn(t, api)
	d := 30 * time.Second
	if testing.Short() {
		d = 5 * time.Second
	}
	sc := churnOnly(n.URL(), scenario.Churn{ConnectionRate: 50, Concurrency: 8}, d)
	sc.ManagementURL = n.MgmtURL()
	sc.Normalize()
	res := runOK(t, sc)
	f := res.Kinds["churn"]
	opened, closed := f.Counts["connections_opened"], f.Counts["connections_closed"]
	if !withinShare(f.Rates["connections_opened"], 50, 0.02) {
		t.Errorf("achieved %.2f connections/s, want 50 ± 2%% (%d opened in %.2f s)", f.Rates["connections_opened"], opened, res.MeasuredS)
	}
	if opened != closed || f.Counts["errors"] != 0 || f.Counts["connections_skipped"] != 0 {
		t.Errorf("counts %v: want every connection opened closed, no error, none skipped", f.Counts)
	}
	for deadline := time.Now().Add(10 * time.Second); countConns() != connsBefore; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("rabbitmqctl lists %d connections, %d before the run", countConns(), connsBefore)
		}
	}
	after := settledChurn(t, api)
	t.Logf("mqbench: %d opened, %d closed, %.2f/s over %.2f s; broker: %d created, %d closed, sampled %.2f/s; amqp_handshake p50 %d µs p99 %d µs",
		opened, closed, f.Rates["connections_opened"], res.MeasuredS, after.ConnectionsCreated-before.ConnectionsCreated,
		after.ConnectionsClosed-before.ConnectionsClosed, f.Rates["broker_connections_created"],
		f.Latency["amqp_handshake"].P50Us, f.Latency["amqp_handshake"].P99Us)
	// mqbench's own connections besides the churned ones: the admin one.
	if got := after.ConnectionsCreated - before.ConnectionsCreated; got != opened+1 {
		t.Errorf("the broker created %d connections, mqbench opened %d (+1 admin)", got, opened)
	}
	if got := after.ConnectionsClosed - before.ConnectionsClosed; got != closed+1 {
		t.Errorf("the broker closed %d connections, mqbench closed %d (+1 admin)", got, closed)
	}
	// The broker's statistics come in 5 s steps: a short run has too few
	// for a rate.
	if r := f.Rates["broker_connections_created"]; !testing.Short() && !withinShare(r, f.Rates["connections_opened"], 0.05) {
		t.Errorf("the broker's sampled rate %.2f/s, mqbench's %.2f/s", r, f.Rates["connections_opened"])
	}
}

// settledChurn reads the broker's churn counters once they stopped
// moving: the management plugin keeps them in samples 5 s apart, so 7 s
// without a change means every event is in.
func settledChurn(t *testing.T, api *mgmt.Client) mgmt.Churn {
	t.Helper()
	var last mgmt.Churn
	since := time.Now()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		c, err := api.Churn(t.Context())
		if err != nil {
			t.Fatalf("churn counters: %v", err)
		}
		if c != last {
			last, since = c, time.Now()
			continue
		}
		if time.Since(since) >= 7*time.Second {
			return c
		}
	}
	t.Fatal("the broker's churn counters never settled")
	return last
}

// TestNoChurnNoFigures: a run without churn reports no churn figures (no
// "kinds" in its result at all), as before churn existed.
func TestNoChurnNoFigures(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(500 * time.Millisecond)
	sc.Producers.Rate = 100
	own(t, &sc)
	res := runOK(t, sc)
	if res.Kinds != nil {
		t.Errorf("kinds %v in a run without churn", res.Kinds)
	}
}

// TestConnectionChurnOverTLS churns connections through a TLS-terminating
// proxy: each one's TLS handshake is timed apart from its TCP connect and
// its AMQP handshake.
func TestConnectionChurnOverTLS(t *testing.T) {
	plain, err := neturl.Parse(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	port := plain.Port()
	if port == "" {
		port = "5672"
	}
	proxy, files := brokertest.NewTLSProxy(t, net.JoinHostPort(plain.Hostname(), port))
	u := *plain
	u.Scheme, u.Host = "amqps", proxy.Addr()
	sc := churnOnly(u.String(), scenario.Churn{ConnectionRate: 10, Concurrency: 2}, 2*time.Second)
	sc.TLS.CA = files.CA
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatal(p)
	}
	res := runOK(t, sc)
	f := res.Kinds["churn"]
	// Every connection due was opened or, on a machine too slow for TLS at
	// this rate (the race detector), skipped: 10/s × 2 s.
	n := f.Counts["connections_opened"]
	if due := n + f.Counts["connections_skipped"]; n == 0 || due < 19 || due > 21 || f.Counts["errors"] != 0 || n != f.Counts["connections_closed"] {
		t.Fatalf("counts %v", f.Counts)
	}
	for _, op := range []string{"tcp_connect", "tls_handshake", "amqp_handshake"} {
		if l := f.Latency[op]; l == nil || l.Count != n || l.MaxUs <= 0 {
			t.Errorf("%s: %+v, want one per connection (%d)", op, l, n)
		}
	}
}
