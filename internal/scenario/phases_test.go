package scenario

import (
	"strings"
	"testing"
	"time"
)

func f64(v float64) *float64 { return &v }
func yes() *bool             { v := true; return &v }
func no() *bool              { v := false; return &v }
func dur(d time.Duration) *Duration {
	v := Duration(d)
	return &v
}

// phased is a valid three-phase scenario: fill with consumers paused,
// then drain with producers paused, then a steady tail.
func phased() Scenario {
	s := Default()
	s.Producers.Rate = 100
	s.Phases = []Phase{
		{Name: "fill", Messages: 1000, Consumers: PhaseConsumers{Paused: yes()}},
		{Name: "drain", Until: UntilQueuesEmpty, Producers: PhaseProducers{Paused: yes()}, Consumers: PhaseConsumers{Paused: no(), Delay: dur(5 * time.Millisecond)}},
		{Name: "steady", Duration: Duration(10 * time.Second), Producers: PhaseProducers{Paused: no()}, RecoveryOf: "fill"},
	}
	return s
}

func TestValidatePhases(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Scenario)
		field string // "" = valid
	}{
		{"valid", func(*Scenario) {}, ""},
		{"bad name", func(s *Scenario) { s.Phases[0].Name = "fill.up" }, "phases[0].name"},
		{"empty name", func(s *Scenario) { s.Phases[0].Name = "" }, "phases[0].name"},
		{"duplicate name", func(s *Scenario) { s.Phases[1].Name = "fill" }, "phases[1].name"},
		{"bad until", func(s *Scenario) { s.Phases[1].Until = "empty" }, "phases[1].until"},
		{"until and messages", func(s *Scenario) { s.Phases[1].Messages = 5 }, "phases[1].messages"},
		{"no end before the last", func(s *Scenario) { s.Phases[0].Messages = 0 }, "phases[0]"},
		{"last phase without end", func(s *Scenario) { s.Phases[2].Duration = 0 }, ""},
		{"idle without until idle", func(s *Scenario) { s.Phases[1].Idle = Duration(time.Second) }, "phases[1].idle"},
		{"until idle", func(s *Scenario) { s.Phases[1].Until, s.Phases[1].Idle = UntilIdle, Duration(time.Second) }, ""},
		{"negative duration", func(s *Scenario) { s.Phases[2].Duration = -1 }, "phases[2].duration"},
		{"recovery of a later phase", func(s *Scenario) { s.Phases[1].RecoveryOf = "steady" }, "phases[1].recovery_of"},
		{"recovery of itself", func(s *Scenario) { s.Phases[2].RecoveryOf = "steady" }, "phases[2].recovery_of"},
		{"recovery of nothing", func(s *Scenario) { s.Phases[2].RecoveryOf = "nowhere" }, "phases[2].recovery_of"},
		{"recovery_within alone", func(s *Scenario) { s.Phases[1].RecoveryWithin = 20 }, "phases[1].recovery_within"},
		{"recovery_within negative", func(s *Scenario) { s.Phases[2].RecoveryWithin = -5 }, "phases[2].recovery_within"},
		{"recovery without consumers", func(s *Scenario) {
			s.Consumers.Count = 0
			s.Phases[0].Consumers, s.Phases[1].Consumers = PhaseConsumers{}, PhaseConsumers{}
			s.Phases[1].Until, s.Phases[1].Duration = "", Duration(time.Second)
		}, "phases[2].recovery_of"},
		{"bad phase rate", func(s *Scenario) { s.Phases[2].Producers.Rate = f64(-3) }, "phases[2].producers.rate"},
		{"rate and total rate", func(s *Scenario) { s.Phases[2].Producers.Rate, s.Phases[2].Producers.TotalRate = f64(3), f64(9) }, "phases[2].producers.total_rate"},
		{"negative delay", func(s *Scenario) { s.Phases[1].Consumers.Delay = dur(-time.Millisecond) }, "phases[1].consumers.delay"},
		{"count while producers paused", func(s *Scenario) { s.Phases[0].Producers.Paused = yes() }, "phases[0].messages"},
		{"empty queues while consumers paused", func(s *Scenario) { s.Phases[1].Consumers.Paused = nil }, "phases[1].until"},
		{"empty queues while paused, bounded", func(s *Scenario) {
			s.Phases[1].Consumers.Paused, s.Phases[1].Duration = nil, Duration(time.Minute)
		}, ""},
		{"stopped producers resumed", func(s *Scenario) { s.Phases[1].Producers = PhaseProducers{Stopped: true} }, "phases[2].producers.paused"},
		{"stopped consumers resumed", func(s *Scenario) { s.Phases[0].Consumers = PhaseConsumers{Stopped: true} }, "phases[1].consumers.paused"},
		{"warm-up", func(s *Scenario) { s.Warmup = Duration(time.Second) }, "warmup"},
		{"sharded", func(s *Scenario) { s.Shard = &Shard{Index: 0, Count: 2} }, "phases"},
		{"fixed phases longer than duration", func(s *Scenario) {
			s.Phases = []Phase{{Name: "a", Duration: Duration(time.Second)}, {Name: "b", Duration: Duration(2 * time.Second)}}
			s.Duration = Duration(2 * time.Second)
		}, "duration"},
		{"fixed phases within duration", func(s *Scenario) {
			s.Phases = []Phase{{Name: "a", Duration: Duration(time.Second)}, {Name: "b", Duration: Duration(2 * time.Second)}}
			s.Duration = Duration(3 * time.Second)
		}, ""},
		{"paced phase with a small body", func(s *Scenario) {
			s.Producers.Rate, s.Producers.Size = 0, 12
			s.Phases[2].Producers.Rate = f64(50)
		}, "producers.size"},
		{"exit_when beside phases", func(s *Scenario) { s.Consumers.ExitWhen = ExitIdle }, "consumers.exit_when"},
		{"a run's message count beside phases", func(s *Scenario) { s.Producers.Messages = 1000 }, "producers.messages"},
		{"a consumed count beside phases", func(s *Scenario) { s.Consumers.Messages = 1000 }, "consumers.messages"},
		{"pausing a stream's readers", func(s *Scenario) { s.Queues[0].Type, s.Queues[0].Durable = QueueStream, true }, "queues[0].type"},
		{"pausing an auto-delete queue's consumers", func(s *Scenario) { s.Queues[0].AutoDelete = true }, "queues[0].auto_delete"},
		{"phase on producers that do not exist", func(s *Scenario) {
			s.Producers.Count = 0
			s.Phases[0].Messages, s.Phases[0].Duration = 0, Duration(time.Second)
		}, "phases[1].producers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := phased()
			c.edit(&s)
			s.Normalize()
			p := s.Validate()
			if c.field == "" {
				if p != nil {
					t.Fatalf("rejected: %v", p)
				}
				return
			}
			found := false
			for _, e := range p {
				found = found || e.Path == c.field
			}
			if !found {
				t.Errorf("want a problem at %s, got %v", c.field, p)
			}
		})
	}
}

// TestPhasePlansCarryOver: a phase changes only what it names; a new pace
// or resumed producers start their schedule afresh.
func TestPhasePlansCarryOver(t *testing.T) {
	s := phased()
	s.Consumers.Delay = Duration(time.Millisecond)
	plans := s.PhasePlans()
	if len(plans) != 3 {
		t.Fatalf("%d plans", len(plans))
	}
	fill, drain, steady := plans[0], plans[1], plans[2]
	if !fill.ConsumersPaused || fill.ProducersPaused || fill.ConsumerDelay != time.Millisecond || fill.Messages != 1000 || !fill.Rebase {
		t.Errorf("fill %+v", fill)
	}
	if fill.Schedule == nil || fill.Schedule.MaxRate() != 100 {
		t.Errorf("fill should keep the scenario's rate of 100/s")
	}
	if drain.ConsumersPaused || !drain.ProducersPaused || drain.ConsumerDelay != 5*time.Millisecond || drain.Rebase || drain.Until != UntilQueuesEmpty {
		t.Errorf("drain %+v", drain)
	}
	if steady.ConsumersPaused || steady.ProducersPaused || steady.ConsumerDelay != 5*time.Millisecond || !steady.Rebase {
		t.Errorf("steady %+v: the delay carries over, resumed producers rebase", steady)
	}
	if steady.RecoveryOf != 0 || steady.RecoveryWithin != DefaultRecoveryWithin || drain.RecoveryOf != -1 {
		t.Errorf("recovery: steady of %d within %g, drain of %d", steady.RecoveryOf, steady.RecoveryWithin, drain.RecoveryOf)
	}
	s.Phases[2].Producers.Rate = f64(0)
	if p := s.PhasePlans()[2]; p.Schedule != nil {
		t.Errorf("rate 0 should make the producers unpaced")
	}
	s.Phases[2].Producers.Rate = nil
	s.Phases[2].Producers.TotalRate = f64(300)
	s.Producers.Count = 3
	if p := s.PhasePlans()[2]; p.Schedule == nil || p.Schedule.MaxRate() != 100 {
		t.Errorf("a total rate is spread over the producers")
	}
	if !s.PhasesPace() {
		t.Error("PhasesPace")
	}
}

// TestPhaseErrorsNameFileAndLine: problems in a phase are blamed on the
// file's line.
func TestPhaseErrorsNameFileAndLine(t *testing.T) {
	sc, src, err := Load("testdata/phases-bad.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	p := sc.Validate()
	msg := p.Explain(src, nil)
	for _, w := range []string{"phases-bad.yaml:9: phases[1].name", "phases-bad.yaml:11: phases[1].recovery_of", "phases-bad.yaml:13: phases[2].until"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not mention %q", msg, w)
		}
	}
}

// TestFitPhases: the phases keep their shape at another length.
func TestFitPhases(t *testing.T) {
	s := phased()
	s.Phases[0].Duration = Duration(30 * time.Second)
	s.Phases[1].Until, s.Phases[1].Idle = UntilIdle, Duration(10*time.Second)
	s.FitPhases(400 * time.Millisecond) // 40 s → 400 ms
	if p := s.Phases; p[0].Duration.D() != 300*time.Millisecond || p[2].Duration.D() != 100*time.Millisecond ||
		p[1].Idle.D() != 100*time.Millisecond || p[0].Messages != 10 {
		t.Errorf("fitted %+v", p)
	}
}
