package main

import (
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/scenario"
)

// TestConsumerBehaviourFlags: the consumer behaviour flags set their
// scenario fields.
func TestConsumerBehaviourFlags(t *testing.T) {
	f := newFlagSet()
	if _, err := f.parse([]string{"--consumer-start-delay", "30s", "--consumer-rate", "200", "--consumer-delay", "5ms",
		"--consumer-delay-distribution", "lognormal", "--consumer-delay-sigma", "0.5", "--consumer-crash-every", "1000", "--prefetch", "20"}); err != nil {
		t.Fatal(err)
	}
	sc, err := resolve("", f)
	if err != nil {
		t.Fatal(err)
	}
	k := sc.Consumers
	want := scenario.Delay{Distribution: scenario.DelayLogNormal, Mean: scenario.Duration(5 * time.Millisecond), Sigma: 0.5}
	if k.StartDelay.D() != 30*time.Second || k.Rate != 200 || k.CrashEvery != 1000 || k.ProcessingDelay() != want {
		t.Fatalf("consumers %+v", k)
	}
	f = newFlagSet()
	if _, err := f.parse([]string{"--consumer-delay-distribution", "uniform", "--consumer-delay-min", "1ms", "--consumer-delay-max", "9ms"}); err != nil {
		t.Fatal(err)
	}
	if sc, err = resolve("", f); err != nil {
		t.Fatal(err)
	}
	if d := sc.Consumers.ProcessingDelay(); d.Min.D() != time.Millisecond || d.Max.D() != 9*time.Millisecond {
		t.Fatalf("uniform delay %+v", d)
	}
}

// TestConsumerBehaviourUsageErrors: bad values name their flag (exit 2).
func TestConsumerBehaviourUsageErrors(t *testing.T) {
	expectUsageErrors(t, []usageCase{
		{[]string{"run", "--consumer-rate", "-5"}, []string{"--consumer-rate = -5"}},
		{[]string{"run", "--consumer-start-delay", "-1s"}, []string{"--consumer-start-delay = -1s"}},
		{[]string{"run", "--consumer-delay-distribution", "pareto"}, []string{"--consumer-delay-distribution = pareto", "lognormal"}},
		{[]string{"run", "--consumer-delay", "5ms", "--consumer-delay-distribution", "lognormal"}, []string{"consumers.delay_sigma = 0", "0 < sigma"}},
		{[]string{"run", "--consumer-delay-distribution", "uniform", "--consumer-delay-min", "9ms", "--consumer-delay-max", "1ms"}, []string{"--consumer-delay-min", "min <= max"}},
		{[]string{"run", "--consumer-crash-every", "100", "--ack", "auto"}, []string{"--consumer-crash-every = 100", "manual or multiple"}},
		{[]string{"run", "--consumer-crash-every", "1"}, []string{"--consumer-crash-every = 1", "at least 2"}},
		{[]string{"run", "--consumer-crash-every", "10", "--ack", "multiple", "--multi-ack-every", "10"}, []string{"--consumer-crash-every = 10", "at least 11"}},
	})
}
