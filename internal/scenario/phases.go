package scenario

import (
	"time"

	"github.com/mqbench/mqbench/internal/pace"
)

// Phase is one stretch of a phased run: what ends it and what changes in
// it. A phase changes only what it names; everything else carries over
// from the phase before (the first phase's "before" is the scenario's
// producers and consumers sections).
//
// A phase ends at its Duration, at its end condition (Until, or Messages
// published in it), at whichever comes first when it has both, or — the
// last phase only, when it has neither — when the run stops.
type Phase struct {
	Name     string   `yaml:"name" json:"name"`
	Duration Duration `yaml:"duration" json:"duration,omitzero"`
	// Until ends the phase on a condition: UntilQueuesEmpty (the backlog
	// read empty) or UntilIdle (nothing consumed for Idle).
	Until string   `yaml:"until" json:"until,omitempty"`
	Idle  Duration `yaml:"idle" json:"idle,omitzero"`
	// Messages ends the phase once the producers published this many in
	// it: exactly this many, they publish no more until the next phase.
	Messages  int64          `yaml:"messages" json:"messages,omitempty"`
	Producers PhaseProducers `yaml:"producers" json:"producers,omitzero"`
	Consumers PhaseConsumers `yaml:"consumers" json:"consumers,omitzero"`
	// RecoveryOf names an earlier phase (the steady one) whose end-to-end
	// p99 this phase's latency must come back to, within RecoveryWithin
	// percent (default DefaultRecoveryWithin): the result's recovery_s.
	RecoveryOf     string  `yaml:"recovery_of" json:"recovery_of,omitempty"`
	RecoveryWithin float64 `yaml:"recovery_within" json:"recovery_within,omitempty"`
}

// PhaseProducers is what a phase changes in the producers. Any of Rate,
// TotalRate and Schedule replaces the pace whole (Rate 0: as fast as they
// can); the new pace starts at the phase's start, as does the pace of
// producers a phase resumes.
type PhaseProducers struct {
	Rate      *float64   `yaml:"rate" json:"rate,omitempty"`
	TotalRate *float64   `yaml:"total_rate" json:"total_rate,omitempty"`
	Schedule  []RateStep `yaml:"schedule" json:"schedule,omitempty"`
	// Paused producers publish nothing until a phase resumes them
	// (paused: false); Stopped ones leave for good.
	Paused  *bool `yaml:"paused" json:"paused,omitempty"`
	Stopped bool  `yaml:"stopped" json:"stopped,omitempty"`
}

// PhaseConsumers is what a phase changes in the consumers.
type PhaseConsumers struct {
	// Paused consumers cancel their subscription (the queues keep their
	// messages: a consumer outage) until a phase resumes them; they finish
	// what the broker had already delivered to them. Stopped ones never
	// come back, not even for the drain after the load.
	Paused  *bool `yaml:"paused" json:"paused,omitempty"`
	Stopped bool  `yaml:"stopped" json:"stopped,omitempty"`
	// Delay is the processing time per message from this phase on.
	Delay *Duration `yaml:"delay" json:"delay,omitempty"`
}

// End conditions of a phase (Phase.Until).
const (
	UntilQueuesEmpty = "queues-empty" // the backlog (ready, held by the consumers, stream lag) read 0
	UntilIdle        = "idle"         // nothing consumed for the phase's idle time
)

// DefaultPhaseIdle is how long nothing may be consumed before a phase
// "until: idle" ends, when it does not say.
const DefaultPhaseIdle = 2 * time.Second

// DefaultRecoveryWithin is how close (percent) to the reference phase's
// end-to-end p99 a recovering phase's must come, when it does not say.
const DefaultRecoveryWithin = 10.0

// MaxPhases bounds a scenario's phases.
const MaxPhases = 100

// PhasePlan is one phase as it runs: the phase with everything carried
// over from those before it resolved.
type PhasePlan struct {
	Name     string
	Duration time.Duration // 0: none
	Until    string
	Idle     time.Duration // with UntilIdle
	Messages int64         // 0: none
	// Schedule is each producer's pace (nil: as fast as they can); Rebase
	// says that it starts afresh at the phase's start (a new pace, or
	// producers resumed) rather than going on from where it was.
	Schedule                          *pace.Schedule
	Rebase                            bool
	ProducersPaused, ProducersStopped bool
	ConsumersPaused, ConsumersStopped bool
	// ConsumerDelay is the consumers' processing time, when a phase (this
	// one or one before it) set one (ConsumerDelaySet): a fixed one, in
	// place of the scenario's (its distribution) from then on.
	ConsumerDelay    time.Duration
	ConsumerDelaySet bool
	// RecoveryOf is the index of the reference phase (-1: none);
	// RecoveryWithin the percent.
	RecoveryOf     int
	RecoveryWithin float64
}

// Phased reports whether the scenario is a sequence of phases.
func (s Scenario) Phased() bool { return len(s.Phases) > 0 }

// pacing is a worker group's pace as a scenario states it.
type pacing struct {
	rate, total float64
	steps       []RateStep
}

// PhasePlans resolves every phase: what holds in it, carried over from
// the scenario and the phases before it. Call it on a valid scenario.
func (s Scenario) PhasePlans() []PhasePlan {
	out := make([]PhasePlan, 0, len(s.Phases))
	pc := pacing{s.Producers.Rate, s.Producers.TotalRate, s.Producers.Schedule}
	var prev PhasePlan
	prev.ConsumerDelay = s.Consumers.Delay.D()
	for i, ph := range s.Phases {
		p := prev
		p.Name, p.Duration, p.Until, p.Messages = ph.Name, ph.Duration.D(), ph.Until, ph.Messages
		p.Idle, p.RecoveryOf, p.RecoveryWithin = 0, -1, 0
		if ph.Until == UntilIdle {
			p.Idle = ph.Idle.D()
			if p.Idle == 0 {
				p.Idle = DefaultPhaseIdle
			}
		}
		newPace := ph.Producers.paces()
		if newPace {
			pc = ph.Producers.pacing()
		}
		resumed := ph.Producers.Paused != nil && !*ph.Producers.Paused && prev.ProducersPaused
		p.Rebase = i == 0 || newPace || resumed
		p.Schedule = paceSchedule(pc.rate, pc.total, s.Producers.Count, pc.steps)
		if ph.Producers.Paused != nil {
			p.ProducersPaused = *ph.Producers.Paused
		}
		p.ProducersStopped = p.ProducersStopped || ph.Producers.Stopped
		if ph.Consumers.Paused != nil {
			p.ConsumersPaused = *ph.Consumers.Paused
		}
		p.ConsumersStopped = p.ConsumersStopped || ph.Consumers.Stopped
		if ph.Consumers.Delay != nil {
			p.ConsumerDelay, p.ConsumerDelaySet = ph.Consumers.Delay.D(), true
		}
		if ph.RecoveryOf != "" {
			p.RecoveryOf = s.phaseIndex(ph.RecoveryOf)
			p.RecoveryWithin = ph.RecoveryWithin
			if p.RecoveryWithin == 0 {
				p.RecoveryWithin = DefaultRecoveryWithin
			}
		}
		out = append(out, p)
		prev = p
	}
	return out
}

// paces reports whether the phase sets the producers' pace.
func (p PhaseProducers) paces() bool { return p.Rate != nil || p.TotalRate != nil || p.Schedule != nil }

// pacing is the pace the phase sets (call when paces).
func (p PhaseProducers) pacing() pacing {
	var out pacing
	if p.Rate != nil {
		out.rate = *p.Rate
	}
	if p.TotalRate != nil {
		out.total = *p.TotalRate
	}
	out.steps = p.Schedule
	return out
}

// phaseIndex is the index of the phase named name, -1 when none is.
func (s Scenario) phaseIndex(name string) int {
	for i, ph := range s.Phases {
		if ph.Name == name {
			return i
		}
	}
	return -1
}

// PhasesPace reports whether producers follow a schedule in any phase:
// their bodies then carry the scheduled send time, and they record their
// send lag.
func (s Scenario) PhasesPace() bool {
	for _, p := range s.PhasePlans() {
		if p.Schedule != nil {
			return true
		}
	}
	return false
}

// PhaseConsumerDelay is the longest processing time any phase gives the
// consumers (the scenario's own when it has no phases).
func (s Scenario) PhaseConsumerDelay() time.Duration {
	d := s.Consumers.Delay.D()
	for _, p := range s.Phases {
		if p.Consumers.Delay != nil {
			d = max(d, p.Consumers.Delay.D())
		}
	}
	return d
}

// FitPhases scales every phase's duration, idle time and message count
// by one factor (a count stays at least 1), so that the phases' durations
// add up to total: the shipped phased scenarios run briefly in tests,
// with the same shape.
func (s *Scenario) FitPhases(total time.Duration) {
	var sum time.Duration
	for _, p := range s.Phases {
		sum += p.Duration.D()
	}
	if sum <= 0 {
		return
	}
	f := float64(total) / float64(sum)
	for i := range s.Phases {
		p := &s.Phases[i]
		p.Duration = Duration(float64(p.Duration) * f)
		p.Idle = Duration(float64(p.Idle) * f)
		if p.Messages > 0 {
			p.Messages = max(1, int64(float64(p.Messages)*f))
		}
	}
}
