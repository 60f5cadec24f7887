package driver

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqbench/mqbench/internal/pace"
	"github.com/mqbench/mqbench/internal/scenario"
)

// A phased run changes its load at every phase boundary (scenario
// phases): the engine says when, EnterPhase applies it. The workers are
// told through small lock-free controls they read per message — the
// producers' current plan behind one atomic pointer, the consumers'
// processing time in one atomic — so a run without phases pays one nil
// check per message, and one with phases an atomic load; nothing
// allocates. Pausing consumers is different: it cancels their
// subscriptions (the queues keep the messages, as in a real consumer
// outage) and resuming subscribes them again (phasecontrol.go).

// phaseControl is what EnterPhase changes. Only the engine's goroutine
// calls EnterPhase.
type phaseControl struct {
	plans     []scenario.PhasePlan
	producers atomic.Pointer[producerPlan]
	consumers []*consumer
	// stopped: a phase stopped the consumers for good; they are not
	// resumed for the drain.
	stopped bool
}

// producerPlan is the producers' load in one phase, replaced whole at
// every boundary (never changed once published).
type producerPlan struct {
	schedule *pace.Schedule // nil: as fast as they can
	at       int64          // the phase's start (Unix ns)
	// rebase: the schedule starts at the phase's start (a new pace, or
	// producers resumed); otherwise it goes on as before.
	rebase          bool
	paused, stopped bool
	// quota is what the producers may still publish in the phase (nil:
	// no count); reached is told when the last of it was taken.
	quota   *atomic.Int64
	reached func()
	next    chan struct{} // closed when the plan is replaced
}

// producerFollow is one producer's view of the plans; only its own
// goroutine touches it.
type producerFollow struct {
	shared *atomic.Pointer[producerPlan]
	plan   *producerPlan // the plan followed
	from   int64         // the message index the schedule's count starts at
	took   int64         // the last message index that took a share of the quota
}

// newPhaseControl hands every worker its control; nil without phases.
func newPhaseControl(w *workload) *phaseControl {
	if !w.sc.Phased() {
		return nil
	}
	pc := &phaseControl{plans: w.sc.PhasePlans(), consumers: w.consumers}
	for _, p := range w.producers {
		p.ph = &producerFollow{shared: &pc.producers, took: -1}
	}
	for _, c := range w.consumers {
		// A consumer held by its start delay has no subscription yet.
		c.ctl = &consumerCtl{subscribed: !c.polling && !c.behave.held.Load()}
	}
	return pc
}

// EnterPhase applies phase i, which starts at at (engine.Phased).
func (w *workload) EnterPhase(i int, at int64, reached func()) {
	pc := w.phases
	if pc == nil || i >= len(pc.plans) {
		return
	}
	pl := pc.plans[i]
	// The consumers' processing time: the scenario's own (its distribution)
	// unless this phase gives another, a fixed one.
	delay := w.sc.Consumers.ProcessingDelay()
	if pl.ConsumerDelaySet {
		delay = scenario.Delay{Distribution: scenario.DelayFixed, Mean: scenario.Duration(pl.ConsumerDelay)}
	}
	for _, c := range pc.consumers {
		c.behave.setDelay(delay)
	}
	plan := &producerPlan{schedule: pl.Schedule, at: at, rebase: pl.Rebase, paused: pl.ProducersPaused,
		stopped: pl.ProducersStopped, next: make(chan struct{})}
	if pl.Messages > 0 {
		plan.quota, plan.reached = &atomic.Int64{}, reached
		plan.quota.Store(pl.Messages)
	}
	if old := pc.producers.Swap(plan); old != nil {
		close(old.next) // wakes the producers waiting on the old plan
	}
	pc.stopped = pc.stopped || pl.ConsumersStopped
	pc.setConsumers(pl.ConsumersPaused || pl.ConsumersStopped)
}

// consumerChangeWait bounds how long a boundary waits for the consumers'
// subscriptions to be cancelled or opened (a round trip each, in
// parallel): a broker that does not answer must not hold up the timeline.
const consumerChangeWait = 5 * time.Second

// setConsumers pauses (off) or resumes every consumer not already so.
func (pc *phaseControl) setConsumers(off bool) {
	var wg sync.WaitGroup
	for _, c := range pc.consumers {
		if c.ctl.isPaused() == off {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if off {
				c.pause()
			} else {
				c.resume()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(consumerChangeWait):
	}
}

// consumersStopped reports whether a phase stopped the consumers (false
// without phases).
func (pc *phaseControl) consumersStopped() bool { return pc != nil && pc.stopped }

// resumeForDrain resumes paused consumers when the load has stopped: the
// drain consumes what is left. Consumers a phase stopped stay stopped.
func (pc *phaseControl) resumeForDrain() {
	if pc == nil || pc.stopped {
		return
	}
	pc.setConsumers(false)
}

// follow brings producer p up to the plan of the phase under way before
// message i: a new pace starts at the phase's start (base and the
// schedule's count are reset); a paused producer, or one whose phase's
// count is spent, waits for the next phase. False when the producer is
// done (stopped by a phase, or the load ended while it waited).
func (p *producer) follow(i int64, base *int64, s *sleeper, stop <-chan struct{}) bool {
	f := p.ph
	for {
		pl := f.shared.Load()
		if pl == nil {
			return true // no phase entered (a workload driven without the engine)
		}
		if pl != f.plan {
			f.plan, f.took, s.wake = pl, -1, pl.next
			if pl.rebase {
				p.schedule, *base, f.from = pl.schedule, pl.at+int64(p.jitter), i
			}
		}
		if pl.stopped {
			return false
		}
		if !pl.paused && !f.spent(i) {
			return true
		}
		select {
		case <-pl.next:
		case <-stop:
			return false
		}
	}
}

// spent reports whether the phase's count has no share left for message i.
func (f *producerFollow) spent(i int64) bool {
	q := f.plan.quota
	return q != nil && f.took != i && q.Load() <= 0
}

// proceed reports whether message i may be sent now, once its due time
// came: the phase did not change meanwhile (else its due time is another)
// and its count has a share for it — taken here, once per message however
// often it is retried, and only now, so that the phase's count is reached
// by a message being sent, not one waiting for its time. True without
// phases.
func (f *producerFollow) proceed(i int64) bool {
	if f == nil {
		return true
	}
	pl := f.plan
	if f.shared.Load() != pl {
		return false
	}
	if pl.quota == nil || f.took == i {
		return true
	}
	n := pl.quota.Add(-1)
	if n < 0 {
		return false // another producer took the last share: wait for the next phase
	}
	f.took = i
	if n == 0 {
		pl.reached()
	}
	return true
}

// fromIndex is the message index the producer's schedule counts from (0
// without phases).
func (f *producerFollow) fromIndex() int64 {
	if f == nil {
		return 0
	}
	return f.from
}
