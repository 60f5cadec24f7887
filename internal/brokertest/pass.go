package brokertest

import (
	"os"
	"testing"
)

// SecondBrokerEnv is the variable scripts/test.sh sets to 1 when it runs
// the broker tests a second time, against another broker at $MQBENCH_URL
// (RabbitMQ 4): the tests that do not test that broker, or that measure
// mqbench itself, ran in the first pass and skip in this one, each saying
// so itself (NeedsPrivateNode, MeasuresTheClient) rather than from a list
// of names kept in the script.
const SecondBrokerEnv = "MQBENCH_SECOND_BROKER"

// NeedsPrivateNode marks a test that starts private nodes (StartNode,
// StartCluster): they come from the installed rabbitmq-server, not from
// the broker at $MQBENCH_URL, so in the second pass the test would only
// repeat the first and skips. StartNode calls it too, so a test that
// forgets it still skips, only later. Elsewhere it does nothing: a
// missing rabbitmq-server still fails the test under
// MQBENCH_REQUIRE_BROKER=1 (StartNode).
func NeedsPrivateNode(t testing.TB) {
	t.Helper()
	skipInSecondPass(t, "it starts private nodes from the installed rabbitmq-server, not the broker at $MQBENCH_URL this pass tests")
}

// MeasuresTheClient marks a test that measures mqbench's own rate or
// memory at scale, which a broker release does not change: it runs once,
// in a process of its own, in the first pass, and skips in the second.
func MeasuresTheClient(t testing.TB) {
	t.Helper()
	skipInSecondPass(t, "it measures mqbench's own rate and memory, in a process of its own, against the first broker")
}

// skipInSecondPass skips t, saying why, when SecondBrokerEnv is 1. The
// second pass must name its broker: with $MQBENCH_URL unset the tests run
// against the first broker again, and skipping would hide them, so that
// fails.
func skipInSecondPass(t testing.TB, why string) {
	t.Helper()
	switch v := os.Getenv(SecondBrokerEnv); v {
	case "", "0":
		return
	case "1":
		if os.Getenv("MQBENCH_URL") == "" {
			t.Fatalf("%s=1 without MQBENCH_URL: the second pass must point at its own broker", SecondBrokerEnv)
			return
		}
		t.Skipf("skipped in the second broker pass (%s=1): %s; it ran in the first", SecondBrokerEnv, why)
	default:
		t.Fatalf("%s=%q: want 1 or nothing", SecondBrokerEnv, v)
	}
}
