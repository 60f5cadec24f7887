package scenario

import (
	"fmt"
	"regexp"
	"time"

	"github.com/mqbench/mqbench/internal/stamp"
)

// phaseName is what a phase may be called: its name is a path component
// of its figures (phases.<name>.drain_s), a CSV cell and a Prometheus
// label value.
var phaseName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// validatePhases checks the phases: names, what ends each, what each
// changes, and how they sit with the run's own settings.
func (s *Scenario) validatePhases(c *checker) {
	if len(s.Phases) == 0 {
		return
	}
	c.check(len(s.Phases) <= MaxPhases, "phases", fmt.Sprintf("%d phases", len(s.Phases)), "at most %d phases", MaxPhases)
	c.check(s.Warmup == 0, "warmup", s.Warmup,
		"a phased run has no warm-up: make it a phase of its own (its figures are then reported apart)")
	c.check(!s.Shard.Sharded(), "phases", "(set)", "a sharded run cannot have phases yet: each shard would keep its own time")
	s.validatePhasesAlongside(c)
	seen := map[string]int{}
	for i, ph := range s.Phases {
		p := fmt.Sprintf("phases[%d]", i)
		c.check(phaseName.MatchString(ph.Name), p+".name", ph.Name,
			"must be 1 to 64 letters, digits, - or _ (it names the phase's figures: phases.<name>.drain_s)")
		if j, dup := seen[ph.Name]; dup {
			c.check(false, p+".name", ph.Name, "phases[%d] has this name already", j)
		}
		seen[ph.Name] = i
		s.validatePhaseEnd(c, p, ph, i == len(s.Phases)-1)
		s.validatePhaseChanges(c, p, ph)
		if ph.RecoveryOf != "" {
			j, ok := seen[ph.RecoveryOf]
			c.check(ok && j < i, p+".recovery_of", ph.RecoveryOf, "must name an earlier phase (the steady one whose latency this phase recovers to)")
			c.check(s.Consumers.Count > 0, p+".recovery_of", ph.RecoveryOf, "recovery is measured by end-to-end latency: it needs consumers")
		}
		c.check(ph.RecoveryOf != "" || ph.RecoveryWithin == 0, p+".recovery_within", ph.RecoveryWithin, "only applies with recovery_of")
		c.check(ph.RecoveryWithin >= 0 && ph.RecoveryWithin <= 1000, p+".recovery_within", ph.RecoveryWithin,
			"must be 0 (the default, %g%%) to 1000 percent", DefaultRecoveryWithin)
	}
	s.validatePhasePlans(c)
	s.validatePhasesDuration(c)
	if s.PhasesPace() && !s.Producers.Paced() {
		path := "producers.size"
		if s.Producers.SizeDistribution != nil {
			path = "producers.size_distribution"
		}
		c.check(s.Producers.minSize() >= stamp.ScheduledSize, path, s.Producers.minSize(),
			"must be at least %d bytes: a phase paces the producers, whose bodies then carry the scheduled send time", stamp.ScheduledSize)
	}
}

// validatePhaseEnd checks what ends phase ph (at path p).
func (s *Scenario) validatePhaseEnd(c *checker, p string, ph Phase, last bool) {
	c.duration(p+".duration", ph.Duration, 0)
	c.check(ph.Until == "" || ph.Until == UntilQueuesEmpty || ph.Until == UntilIdle, p+".until", ph.Until,
		"must be %s or %s (a message count is messages: N)", UntilQueuesEmpty, UntilIdle)
	c.check(ph.Until == "" || ph.Messages == 0, p+".messages", ph.Messages, "give one end condition: until or messages, not both")
	c.inRange(p+".messages", ph.Messages, 0, int64(max(s.Producers.Count, 1))*MaxMessagesPerWorker, "messages the producers publish in the phase; 0 = no count")
	c.check(ph.Messages == 0 || s.Producers.Count > 0, p+".messages", ph.Messages, "there are no producers to publish them")
	c.check(ph.Until == UntilIdle || ph.Idle == 0, p+".idle", ph.Idle, "only applies to until: idle")
	c.duration(p+".idle", ph.Idle, 0)
	c.check(last || ph.Duration > 0 || ph.Until != "" || ph.Messages > 0, p, ph.Name,
		"needs a duration, an end condition (until: queues-empty or idle) or a message count (messages: N); only the last phase may last until the run stops")
}

// validatePhaseChanges checks what phase ph (at path p) changes.
func (s *Scenario) validatePhaseChanges(c *checker, p string, ph Phase) {
	pp := ph.Producers
	if pp.paces() {
		var rate, total float64
		if pp.Rate != nil {
			rate = *pp.Rate
		}
		if pp.TotalRate != nil {
			total = *pp.TotalRate
		}
		validatePacing(c, p+".producers", rate, total, pp.Schedule, 0)
	}
	c.check(s.Producers.Count > 0 || (!pp.paces() && pp.Paused == nil && !pp.Stopped), p+".producers", "(set)", "there are no producers")
	c.check(s.Consumers.Count > 0 || (ph.Consumers.Paused == nil && !ph.Consumers.Stopped && ph.Consumers.Delay == nil),
		p+".consumers", "(set)", "there are no consumers")
	if d := ph.Consumers.Delay; d != nil {
		c.duration(p+".consumers.delay", *d, 0)
	}
}

// validatePhasePlans checks the phases as they follow each other: a
// stopped group never comes back, and a phase must be able to end.
func (s *Scenario) validatePhasePlans(c *checker) {
	plans := s.PhasePlans()
	var prodStopped, consStopped string // the phase that stopped them
	for i, pl := range plans {
		ph := s.Phases[i]
		p := fmt.Sprintf("phases[%d]", i)
		c.check(prodStopped == "" || ph.Producers.Paused == nil || *ph.Producers.Paused, p+".producers.paused", false,
			"the producers were stopped in phase %s and do not come back (pause them to resume them later)", prodStopped)
		c.check(consStopped == "" || ph.Consumers.Paused == nil || *ph.Consumers.Paused, p+".consumers.paused", false,
			"the consumers were stopped in phase %s and do not come back (pause them to resume them later)", consStopped)
		if prodStopped == "" && ph.Producers.Stopped {
			prodStopped = ph.Name
		}
		if consStopped == "" && ph.Consumers.Stopped {
			consStopped = ph.Name
		}
		idle := pl.ProducersPaused || pl.ProducersStopped
		c.check(ph.Messages == 0 || !idle, p+".messages", ph.Messages,
			"the producers are paused or stopped in this phase: it would never end by its count")
		consumersOff := pl.ConsumersPaused || pl.ConsumersStopped
		c.check(ph.Until != UntilQueuesEmpty || !consumersOff || ph.Duration > 0, p+".until", ph.Until,
			"the consumers are paused or stopped in this phase: the queues would never empty (give a duration to bound it)")
	}
}

// validatePhasesAlongside refuses what would end a phased run in the
// middle of a phase, or break a pause: the run's own stop conditions
// (--exit-when, message counts: phases have their own), and pausing
// consumers of a stream (they would resume at the stream's offset again,
// skipping or re-reading what came meanwhile) or of an auto-delete queue
// (cancelling its last consumer deletes it).
func (s *Scenario) validatePhasesAlongside(c *checker) {
	c.check(s.Consumers.ExitWhen == "", "consumers.exit_when", s.Consumers.ExitWhen,
		"a phased run ends with its last phase: give that phase until: queues-empty or idle instead")
	c.check(s.Producers.Messages == 0, "producers.messages", s.Producers.Messages,
		"a phased run counts messages per phase (phases[i].messages), not over the run")
	c.check(s.Consumers.Messages == 0, "consumers.messages", s.Consumers.Messages,
		"a phased run ends with its last phase, not at a count of messages consumed")
	pauses := false
	for _, ph := range s.Phases {
		pauses = pauses || (ph.Consumers.Paused != nil && *ph.Consumers.Paused) || ph.Consumers.Stopped
	}
	if !pauses {
		return
	}
	for i, q := range s.Queues {
		p := fmt.Sprintf("queues[%d]", i)
		c.check(q.Type != QueueStream, p+".type", q.Type,
			"a phase pauses or stops the consumers: a stream's readers would resume at its offset again, skipping or re-reading what came meanwhile")
		c.check(!q.AutoDelete, p+".auto_delete", q.AutoDelete,
			"a phase pauses or stops the consumers: the broker deletes an auto-delete queue when its last consumer goes")
	}
}

// validatePhasesDuration checks the run's duration against the phases':
// with phases, duration only bounds the run, so phases of fixed lengths
// must fit in it.
func (s *Scenario) validatePhasesDuration(c *checker) {
	if s.Duration == 0 {
		return
	}
	var fixed time.Duration
	for _, ph := range s.Phases {
		if ph.Until != "" || ph.Messages > 0 || ph.Duration == 0 {
			return // how long they last is not known: duration bounds them
		}
		fixed += ph.Duration.D()
	}
	c.check(fixed <= s.Duration.D(), "duration", s.Duration,
		"the phases last %v, longer than the run's duration: with phases the run lasts its phases, and duration only bounds it (leave it out)", fixed)
}
