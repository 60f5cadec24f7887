package driver

import (
	"fmt"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestThreeNodeCluster: connections spread over all three nodes of a real
// cluster (round-robin, recorded per connection), and a quorum queue's
// run survives stopping one node: its connections move to the next node,
// and nothing the broker confirmed is lost.
func TestThreeNodeCluster(t *testing.T) {
	nodes := brokertest.StartCluster(t, 3)
	sc := scenario.Default()
	for _, n := range nodes {
		sc.URLs = append(sc.URLs, n.URL())
	}
	sc.Duration = scenario.Duration(12 * time.Second)
	sc.DrainTimeout = scenario.Duration(10 * time.Second)
	sc.Producers = scenario.Producers{Count: 3, Rate: 100, Confirm: 50, Persistent: true}
	sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual, Prefetch: 50}
	sc.Queues = []scenario.Queue{{Name: "mqbench-cluster-qq", Type: scenario.QueueQuorum, InitialGroupSize: 3}}
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatal(p)
	}
	stopped := nodes[2]
	done := make(chan string, 1)
	time.AfterFunc(3*time.Second, func() {
		out, err := stopped.Ctl("stop_app")
		if err != nil {
			done <- fmt.Sprintf("stop_app: %v\n%s", err, out)
			return
		}
		done <- ""
	})
	res := runOK(t, sc)
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
	onNode := map[string]int{}
	for _, c := range res.Connections {
		onNode[c.Node]++
	}
	t.Logf("connections by node at the end: %v; reconnects %d", onNode, res.Faults.Reconnects)
	if len(res.Connections) != 6 {
		t.Fatalf("%d connections recorded, want admin + 3 producers + 2 consumers", len(res.Connections))
	}
	moved := 0
	for _, c := range res.Connections {
		moved += c.Reconnects
	}
	if res.Faults.Reconnects < 1 || moved < 1 {
		t.Errorf("no connection moved off the stopped node: %+v", res.Connections)
	}
	a := res.Audit
	if a == nil || !a.Balanced || a.Total.Lost != 0 || a.Total.Consumed == 0 {
		t.Fatalf("audit %+v: a quorum queue loses nothing confirmed when one node of three stops", a)
	}
}
