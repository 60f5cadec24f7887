package main

import (
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
)

// TestBadInputAgainstTheBroker covers the bad inputs that need a broker to
// answer (docs/BAD-INPUT.md lists them all): each gets a clear message and
// exit 1, and nothing of the failed run is left behind.
func TestBadInputAgainstTheBroker(t *testing.T) {
	url := brokertest.URL(t)
	c := brokertest.Conn(t, url)
	existing := "mqbench-bad-input-" + brokertest.Suffix(t)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(existing, true, false, false, false, amqp.Table{"x-max-length": int64(10)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { brokertest.DeleteQueue(c, existing) })
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"queue exists with other arguments", []string{"--queue", existing, "--durable"}, []string{"PRECONDITION_FAILED", existing, "x-max-length"}},
		{"queue exists with other properties", []string{"--queue", existing}, []string{"PRECONDITION_FAILED", "durable"}},
		{"access refused on a queue", []string{"--queue", "amq.mqbench-reserved"}, []string{"ACCESS_REFUSED", "amq.mqbench-reserved"}},
		{"unknown vhost", []string{"--url", strings.TrimSuffix(url, "/") + "/mqbench-no-such-vhost"}, []string{"mqbench-no-such-vhost"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--url", url, "--duration", "1s", "--quiet"}, tc.args...)
			code, _, stderr := run(args...)
			if code != exitFailed {
				t.Fatalf("exit %d, want %d; stderr %q", code, exitFailed, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
		})
	}
	if !brokertest.QueueExists(t, c, existing) {
		t.Error("a failed run deleted a queue it did not create")
	}
}
