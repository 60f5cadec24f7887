package driver

import (
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestMemoryAlarmShowsInFaultsBlocked raises a memory alarm on a private
// node mid-run (never on the shared broker): the broker blocks the
// publishing connection, the result records the blocked interval and warns.
func TestMemoryAlarmShowsInFaultsBlocked(t *testing.T) {
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
