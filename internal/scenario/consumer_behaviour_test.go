package scenario

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestLoadConsumerBehaviour(t *testing.T) {
	sc, _, err := Load("testdata/consumer-behaviour.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatalf("valid file rejected: %v", p)
	}
	k := sc.Consumers
	if k.StartDelay.D() != 2*time.Second || k.Rate != 50 || k.CrashEvery != 100 {
		t.Errorf("consumers %+v", k)
	}
	want := Delay{Distribution: DelayLogNormal, Mean: Duration(4 * time.Millisecond), Sigma: 0.5}
	if d := k.ProcessingDelay(); d != want {
		t.Errorf("processing delay %+v, want %+v", d, want)
	}
	if d := Default().Consumers.ProcessingDelay(); d.Distribution != DelayFixed || d.Varies() {
		t.Errorf("the default processing delay is %+v, want a fixed 0", d)
	}
}

func TestValidateConsumerBehaviour(t *testing.T) {
	ms := Duration(time.Millisecond)
	cases := []struct {
		name  string
		edit  func(*Consumers)
		field string // "" = valid
	}{
		{"start delay", func(k *Consumers) { k.StartDelay = Duration(5 * time.Second) }, ""},
		{"negative start delay", func(k *Consumers) { k.StartDelay = -1 }, "consumers.start_delay"},
		{"start delay past exit_idle", func(k *Consumers) {
			k.ExitWhen, k.ExitIdle, k.StartDelay = ExitIdle, Duration(time.Second), Duration(3*time.Second)
		}, "consumers.start_delay"},
		{"start delay past the default exit_idle", func(k *Consumers) { k.ExitWhen, k.StartDelay = ExitIdle, Duration(3*time.Second) }, "consumers.start_delay"},
		{"start delay within exit_idle", func(k *Consumers) {
			k.ExitWhen, k.ExitIdle, k.StartDelay = ExitIdle, Duration(5*time.Second), Duration(3*time.Second)
		}, ""},
		{"rate", func(k *Consumers) { k.Rate = 100 }, ""},
		{"negative rate", func(k *Consumers) { k.Rate = -5 }, "consumers.rate"},
		{"rate not a number", func(k *Consumers) { k.Rate = math.NaN() }, "consumers.rate"},
		{"rate too high", func(k *Consumers) { k.Rate = 2 * MaxRate }, "consumers.rate"},
		{"fixed delay", func(k *Consumers) { k.Delay = 5 * ms }, ""},
		{"explicitly fixed", func(k *Consumers) { k.Delay, k.DelayDistribution = 5*ms, DelayFixed }, ""},
		{"negative delay", func(k *Consumers) { k.Delay = -ms }, "consumers.delay"},
		{"exponential", func(k *Consumers) { k.Delay, k.DelayDistribution = 5*ms, DelayExponential }, ""},
		{"uniform", func(k *Consumers) { k.DelayDistribution, k.DelayMin, k.DelayMax = DelayUniform, ms, 9*ms }, ""},
		{"uniform min above max", func(k *Consumers) { k.DelayDistribution, k.DelayMin, k.DelayMax = DelayUniform, 9*ms, ms }, "consumers.delay_min"},
		{"uniform with a mean", func(k *Consumers) { k.DelayDistribution, k.Delay, k.DelayMax = DelayUniform, 5*ms, 9*ms }, "consumers.delay"},
		{"min without uniform", func(k *Consumers) { k.Delay, k.DelayMin = 5*ms, ms }, "consumers.delay_min"},
		{"max without uniform", func(k *Consumers) { k.DelayDistribution, k.Delay, k.DelayMax = DelayExponential, 5*ms, ms }, "consumers.delay_max"},
		{"lognormal", func(k *Consumers) { k.DelayDistribution, k.Delay, k.DelaySigma = DelayLogNormal, 5*ms, 0.5 }, ""},
		{"lognormal without sigma", func(k *Consumers) { k.DelayDistribution, k.Delay = DelayLogNormal, 5*ms }, "consumers.delay_sigma"},
		{"lognormal sigma too wide", func(k *Consumers) { k.DelayDistribution, k.Delay, k.DelaySigma = DelayLogNormal, 5*ms, 4 }, "consumers.delay_sigma"},
		{"sigma without lognormal", func(k *Consumers) { k.Delay, k.DelaySigma = 5*ms, 0.5 }, "consumers.delay_sigma"},
		{"unknown distribution", func(k *Consumers) { k.DelayDistribution = "pareto" }, "consumers.delay_distribution"},
		{"crash", func(k *Consumers) { k.CrashEvery = 100 }, ""},
		{"negative crash", func(k *Consumers) { k.CrashEvery = -1 }, "consumers.crash_every"},
		{"crash every delivery", func(k *Consumers) { k.CrashEvery = 1 }, "consumers.crash_every"},
		{"crash with auto acks", func(k *Consumers) { k.CrashEvery, k.Ack = 100, AckAuto }, "consumers.crash_every"},
		{"crash with nack", func(k *Consumers) { k.CrashEvery, k.Ack = 100, AckNack }, "consumers.crash_every"},
		{"crash while polling", func(k *Consumers) { k.CrashEvery, k.Polling = 100, true }, "consumers.crash_every"},
		{"crash within an ack batch", func(k *Consumers) {
			k.CrashEvery, k.Ack, k.MultiAckEvery = 10, AckMultiple, 10
		}, "consumers.crash_every"},
		{"crash past an ack batch", func(k *Consumers) {
			k.CrashEvery, k.Ack, k.MultiAckEvery = 11, AckMultiple, 10
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := Default()
			c.edit(&sc.Consumers)
			sc.Normalize()
			expectProblem(t, sc.Validate(), c.field)
		})
	}
}

// TestValidateCrashQueues: crashes need queues that redeliver and
// survive their consumers' going.
func TestValidateCrashQueues(t *testing.T) {
	for _, c := range []struct {
		q     Queue
		field string
	}{
		{Queue{Name: "s", Type: QueueStream}, "queues[0].type"},
		{Queue{Name: "a", AutoDelete: true}, "queues[0].auto_delete"},
		{Queue{Name: "q", Type: QueueQuorum}, ""},
	} {
		sc := Default()
		sc.Consumers.CrashEvery, sc.Consumers.Prefetch = 10, 5
		sc.Queues = []Queue{c.q}
		sc.Normalize()
		expectProblem(t, sc.Validate(), c.field)
	}
}

// TestStartDelayWithinTheRun: consumers held back past the run's end
// would never subscribe.
func TestStartDelayWithinTheRun(t *testing.T) {
	for _, c := range []struct {
		delay, duration time.Duration
		ok              bool
	}{{5 * time.Second, 10 * time.Second, true}, {10 * time.Second, 10 * time.Second, false}, {time.Minute, 0, true}} {
		sc := Default()
		sc.Duration, sc.Consumers.StartDelay = Duration(c.duration), Duration(c.delay)
		sc.Normalize()
		p := sc.Validate()
		if got := p == nil || !strings.Contains(p.Error(), "consumers.start_delay"); got != c.ok {
			t.Errorf("start delay %v in a run of %v: valid %v, want %v (%v)", c.delay, c.duration, got, c.ok, p)
		}
	}
}
