package driver

import (
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/mgmt"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestMemoryAlarmShowsInFaultsBlocked raises a memory alarm on a private
// node mid-run (never on the shared broker): the broker blocks the
// publishing connection, the result records the blocked interval and warns.
func TestMemoryAlarmShowsInFaultsBlocked(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	n := brokertest.StartNode(t)
	sc := scenario.Default()
	sc.URL = n.URL()
	// Long enough that the alarm is over before the end even when each
	// rabbitmqctl call takes seconds on a loaded machine.
	sc.Duration = scenario.Duration(12 * time.Second)
	sc.DrainTimeout = scenario.Duration(5 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Rate: 200, Confirm: 20}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckAuto}
	sc.Queues = []scenario.Queue{{Name: "mqbench-alarm"}}
	sc.Normalize()
	alarm := func(watermark string) {
		if out, err := n.Ctl("set_vm_memory_high_watermark", watermark); err != nil {
			t.Errorf("set watermark %s: %v\n%s", watermark, err, out)
		}
	}
	time.AfterFunc(1500*time.Millisecond, func() {
		alarm("0.000001")
		time.AfterFunc(2500*time.Millisecond, func() { alarm("0.4") })
	})
	res := runOK(t, sc)
	if len(res.Faults.Blocked) == 0 {
		t.Fatalf("no blocked interval recorded; intervals %+v", res.Intervals)
	}
	b := res.Faults.Blocked[0]
	if b.End == nil || b.End.Sub(b.Start) < 500*time.Millisecond || b.Reason == "" {
		t.Errorf("blocked %+v: want an ended interval of about 2.5s with the broker's reason", b)
	}
	blockedSeen := false
	for _, iv := range res.Intervals {
		blockedSeen = blockedSeen || iv.Blocked > 0
	}
	if !blockedSeen {
		t.Error("no interval showed a blocked connection")
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || contains(w, "blocked")
	}
	if !warned {
		t.Errorf("no warning about the block: %q", res.Warnings)
	}
	if res.Latency[metrics.SendLag] == nil || res.Latency[metrics.SendLag].MaxUs < 500_000 {
		t.Errorf("the block should show in the send lag: %+v", res.Latency[metrics.SendLag])
	}
}

// TestManagementSampling: with the management API of a private node, the
// broker's memory, processes and connections are sampled every interval
// and their peaks are in the result, the credentials masked.
func TestManagementSampling(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	n := brokertest.StartNode(t, brokertest.WithManagement())
	// The management agent reports a node's figures a few seconds after
	// it boots: wait for them, so the run samples real ones.
	c, err := mgmt.New(n.MgmtURL(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if s, err := c.Sample(t.Context()); err == nil && s.MemoryBytes > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the management API never reported the node's memory")
		}
	}
	sc := scenario.Default()
	sc.URL = n.URL()
	sc.ManagementURL = n.MgmtURL()
	sc.Duration = scenario.Duration(6 * time.Second)
	sc.Interval = scenario.Duration(500 * time.Millisecond)
	sc.Producers = scenario.Producers{Count: 1, Rate: 500, Confirm: 50}
	sc.Queues = []scenario.Queue{{Name: "mqbench-mgmt", Durable: true}}
	sc.Normalize()
	res := runOK(t, sc)
	m := res.Broker.Management
	if m == nil || m.Samples < 3 || m.MemoryPeakBytes < 10<<20 || m.ErlangProcessesPeak < 100 || m.ConnectionsPeak < 1 {
		t.Fatalf("broker peaks %+v: want memory, processes and mqbench's connections sampled", m)
	}
	sampled := 0
	for _, iv := range res.Intervals {
		if iv.Broker != nil && len(iv.Broker.Nodes) == 1 && iv.Broker.Nodes[0].Name == n.Name {
			sampled++
		}
	}
	if sampled < 3 {
		t.Errorf("%d intervals carry the node's sample", sampled)
	}
	if contains(res.Scenario.ManagementURL, "guest:guest") {
		t.Errorf("the management URL's password is in the result: %s", res.Scenario.ManagementURL)
	}
}
