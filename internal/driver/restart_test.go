package driver

import (
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// restartMidRun runs sc against a private node and restarts the broker
// application (stop_app, start_app) two seconds in.
func restartMidRun(t *testing.T, n *brokertest.Node, sc scenario.Scenario) *result.Result {
	t.Helper()
	done := make(chan string, 1)
	time.AfterFunc(2*time.Second, func() {
		var problems string
		if out, err := n.Ctl("stop_app"); err != nil {
			problems += fmt.Sprintf("stop_app: %v\n%s", err, out)
		}
		time.Sleep(time.Second)
		if out, err := n.Ctl("start_app"); err != nil {
			problems += fmt.Sprintf("start_app: %v\n%s", err, out)
		}
		done <- problems
	})
	res, err := Run(t.Context(), sc, Options{Version: "test"})
	if problems := <-done; problems != "" { // wait for the restart whatever happened
		t.Fatal(problems)
	}
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

func restartScenario(n *brokertest.Node, durable bool) scenario.Scenario {
	sc := scenario.Default()
	sc.URL = n.URL()
	sc.Duration = scenario.Duration(15 * time.Second)
	sc.DrainTimeout = scenario.Duration(10 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Rate: 200, Confirm: 50, Persistent: durable}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckManual, Prefetch: 50}
	sc.Queues = []scenario.Queue{{Name: "mqbench-restart", Durable: durable}}
	sc.Normalize()
	return sc
}

// TestBrokerRestartDurableLosesNothing: with a durable queue, persistent
// messages and confirms, a broker restart mid-run costs no confirmed
// message; mqbench reconnects, consumption resumes and the outage is in
// the result.
func TestBrokerRestartDurableLosesNothing(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	n := brokertest.StartNode(t)
	res := restartMidRun(t, n, restartScenario(n, true))
	if res.Faults.Reconnects < 1 || len(res.Faults.Outages) == 0 || res.Faults.Outages[0].End == nil {
		t.Fatalf("faults %+v: want a reconnect and an ended outage", res.Faults)
	}
	a := res.Audit
	if a == nil || a.Total.Lost != 0 || !a.Balanced {
		t.Fatalf("audit %+v: a durable, confirmed setup must lose nothing", a)
	}
	resumed := false
	outageEnd := res.Faults.Outages[len(res.Faults.Outages)-1].End
	for _, iv := range res.Intervals {
		if res.StartedAt.Add(time.Duration(iv.TS*float64(time.Second))).After(*outageEnd) && iv.Consumed > 0 {
			resumed = true
		}
	}
	if !resumed {
		t.Error("consumption did not resume after the outage")
	}
	t.Logf("reconnects %d, outage %v, audit %+v", res.Faults.Reconnects, outageEnd.Sub(res.Faults.Outages[0].Start), a.Total)
}

// TestBrokerRestartTransientReportsLosses: transient messages in a
// non-durable queue do not survive the restart; the audit reports exactly
// what was confirmed and never consumed.
func TestBrokerRestartTransientReportsLosses(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	n := brokertest.StartNode(t)
	sc := restartScenario(n, false)
	sc.Consumers.Delay = scenario.Duration(10 * time.Millisecond) // a backlog to lose
	res := restartMidRun(t, n, sc)
	a := res.Audit
	if a == nil || res.Faults.Reconnects < 1 {
		t.Fatalf("audit %+v faults %+v", a, res.Faults)
	}
	q := a.Total
	t.Logf("audit %+v", q)
	if q.Lost == 0 {
		t.Error("no loss reported, though the non-durable queue vanished with its backlog")
	}
	if !a.Balanced || q.Expected != q.Consumed+q.Left+q.Dropped+q.Lost+q.Unconfirmed {
		t.Errorf("the audit does not balance: %+v", q)
	}
}

// TestNoReconnectEndsTheRun: with --no-reconnect a lost connection ends the
// run with an error and the partial result.
func TestNoReconnectEndsTheRun(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	n := brokertest.StartNode(t)
	sc := restartScenario(n, true)
	sc.NoReconnect = true
	time.AfterFunc(1500*time.Millisecond, func() { _, _ = n.Ctl("stop_app") })
	res, err := Run(t.Context(), sc, Options{})
	if err == nil || !contains(err.Error(), "connection lost") {
		t.Fatalf("err = %v, want the lost connection", err)
	}
	if res == nil || res.StopReason != result.StopError || res.Totals.Published == 0 {
		t.Fatalf("partial result %+v", res)
	}
}

// TestNetworkCutReconnects cuts every connection (through a proxy in front
// of the shared broker) mid-run: mqbench reconnects through the proxy and
// carries on; nothing confirmed is lost.
func TestNetworkCutReconnects(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(5 * time.Second)
	sc.Producers = scenario.Producers{Count: 2, Rate: 200, Confirm: 50}
	sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual, Prefetch: 50}
	sc.Queues = []scenario.Queue{{Name: "mqbench-cut"}}
	own(t, &sc)
	u, err := url.Parse(sc.URL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	if port == "" {
		port = "5672"
	}
	proxy := brokertest.NewProxy(t, net.JoinHostPort(u.Hostname(), port))
	u.Host = proxy.Addr()
	sc.URL = u.String()
	time.AfterFunc(1500*time.Millisecond, proxy.Cut)
	res := runOK(t, sc)
	if res.Faults.Reconnects < 1 {
		t.Fatalf("faults %+v: want reconnects", res.Faults)
	}
	if a := res.Audit; a == nil || a.Total.Lost != 0 || !a.Balanced {
		t.Fatalf("audit %+v", a)
	}
	late := int64(0)
	for _, iv := range res.Intervals {
		if iv.TS > 2.5 {
			late += iv.Consumed
		}
	}
	if late == 0 {
		t.Error("nothing consumed after the cut")
	}
}

// TestRPCReconnects restarts the broker under RPC load: clients and
// servers come back; requests in flight at the restart time out.
func TestRPCReconnects(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	n := brokertest.StartNode(t)
	sc := rpcScenario()
	sc.URL = n.URL()
	sc.Duration = scenario.Duration(12 * time.Second)
	sc.RPC.Clients, sc.RPC.Concurrency, sc.RPC.Servers = 2, 2, 1
	sc.RPC.Timeout = scenario.Duration(2 * time.Second)
	sc.RPC.Queue = "mqbench-rpc-restart"
	sc.Normalize()
	res := restartMidRun(t, n, sc)
	if res.Faults.Reconnects < 1 {
		t.Fatalf("faults %+v", res.Faults)
	}
	end := res.Faults.Outages[len(res.Faults.Outages)-1].End
	after := int64(0)
	for _, iv := range res.Intervals {
		if iv.RPCReplies != nil && res.StartedAt.Add(time.Duration(iv.TS*float64(time.Second))).After(*end) {
			after += *iv.RPCReplies
		}
	}
	if after == 0 {
		t.Errorf("no RPC reply after the outage (totals %+v)", res.Totals)
	}
	if val(res.Totals.RPCRequests) != val(res.Totals.RPCReplies)+val(res.Totals.RPCTimeouts) {
		t.Errorf("requests %d != replies %d + timeouts %d", val(res.Totals.RPCRequests), val(res.Totals.RPCReplies), val(res.Totals.RPCTimeouts))
	}
}
