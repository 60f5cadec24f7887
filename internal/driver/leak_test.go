package driver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestFailedSetupLeavesNoGoroutine: a declare the broker refuses after
// consumers were subscribed (their goroutines started, waiting for the
// start signal) fails the setup, and every goroutine it started ends:
// consumers, connection monitors, confirm trackers.
func TestFailedSetupLeavesNoGoroutine(t *testing.T) {
	sc := scenario.Default()
	sc.Duration = scenario.Duration(time.Second)
	sc.Producers.Confirm = 10
	sc.Consumers.Count = 2
	sc.Queues = []scenario.Queue{{Name: "mqbench-leak-a"}, {Name: "mqbench-leak-b"}, {Name: "mqbench-leak-c"}}
	own(t, &sc)
	// Queue c exists with a length limit; the scenario declares it
	// without: the broker refuses that (PRECONDITION_FAILED) after the two
	// consumers of a and b are running.
	c := brokertest.Conn(t, sc.URL)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(sc.Queues[2].Name, true, false, false, false, amqp.Table{"x-max-length": int64(7)}); err != nil {
		t.Fatal(err)
	}
	ch.Close()
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	res, err := Run(context.Background(), sc, Options{Version: "test"})
	var se *SetupError
	if res != nil || !errors.As(err, &se) || !amqpconn.IsCode(err, amqp.PreconditionFailed) {
		t.Fatalf("result %v, err %v: want a setup error for the refused declare", res, err)
	}
	if !strings.Contains(err.Error(), sc.Queues[2].Name) {
		t.Errorf("the error does not name the queue: %v", err)
	}
	for _, q := range sc.Queues[:2] {
		if brokertest.QueueExists(t, c, q.Name) {
			t.Errorf("queue %s was left behind", q.Name)
		}
	}
}
