package driver

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestThreeNodeCluster: connections spread over all three nodes of a real
// cluster (round-robin, recorded per connection), and a quorum queue's
// run survives stopping one node: its connections move to the next node,
// and nothing the broker confirmed is lost. The queues' leaders follow
// the balanced leader locator, and the result reports them as the broker
// does.
func TestThreeNodeCluster(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	nodes := brokertest.StartCluster(t, 3, brokertest.WithManagement())
	sc := scenario.Default()
	for _, n := range nodes {
		sc.URLs = append(sc.URLs, n.URL())
	}
	sc.Duration = scenario.Duration(12 * time.Second)
	sc.DrainTimeout = scenario.Duration(10 * time.Second)
	sc.Producers = scenario.Producers{Count: 3, Rate: 100, Confirm: 50, Persistent: true}
	sc.Consumers = scenario.Consumers{Count: 3, Ack: scenario.AckManual, Prefetch: 50}
	sc.Queues = []scenario.Queue{{Name: "mqbench-cluster-qq-%d", Count: 3, Type: scenario.QueueQuorum, InitialGroupSize: 3,
		LeaderLocator: "balanced"}}
	sc.ManagementURL = nodes[0].MgmtURL()
	sc.Keep = true // to compare the placement with the broker's own listing; the cluster goes with the test
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
	onNode, first := map[string]int{}, map[string]int{}
	for _, c := range res.Connections {
		onNode[c.Node]++
		first[c.FirstNode]++
	}
	t.Logf("connections by node at first: %v, at the end: %v; reconnects %d", first, onNode, res.Faults.Reconnects)
	if len(first) != 3 {
		t.Errorf("connections were opened on %d nodes, want all 3: %v", len(first), first)
	}
	if len(res.Connections) != 7 {
		t.Fatalf("%d connections recorded, want admin + 3 producers + 3 consumers", len(res.Connections))
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
	checkPlacement(t, nodes[0], res.Queues)
}

// checkPlacement compares each queue's leader and members in the result
// with rabbitmqctl's listing, and checks the balanced locator spread the
// leaders over more than one node.
func checkPlacement(t *testing.T, n *brokertest.Node, qs []result.Queue) {
	out, err := n.Ctl("list_queues", "name", "leader", "members", "--formatter", "json")
	if err != nil {
		t.Fatalf("list_queues: %v\n%s", err, out)
	}
	var listed []struct {
		Name    string   `json:"name"`
		Leader  string   `json:"leader"`
		Members []string `json:"members"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &listed); err != nil {
		t.Fatalf("list_queues: %v\n%s", err, out)
	}
	leaders := map[string]bool{}
	for _, q := range qs {
		if q.LeaderLocator != "balanced" || len(q.Members) != 3 {
			t.Errorf("queue %s: locator %q members %v", q.Name, q.LeaderLocator, q.Members)
		}
		leaders[q.Leader] = true
		for _, l := range listed {
			if l.Name == q.Name && l.Leader != q.Leader {
				t.Errorf("queue %s: leader %s in the result, %s by rabbitmqctl", q.Name, q.Leader, l.Leader)
			}
		}
	}
	if len(leaders) < 2 {
		t.Errorf("balanced leader locator put every leader on %v", leaders)
	}
	t.Logf("leaders: %v", leaders)
}
