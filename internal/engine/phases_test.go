package engine

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// queueFake is a phased workload without a broker: a queue in memory. Its
// producer adds a message every millisecond, its consumer takes up to
// perTick every millisecond, recording each message's end-to-end latency
// (its time in the queue); the phases pause either, and a phase's
// message count stops the producer at exactly that many.
type queueFake struct {
	*fake
	plans   []scenario.PhasePlan
	perTick int

	mu               sync.Mutex
	queue            []int64 // send times, oldest first
	prodOff, consOff bool
	quota            int64 // messages the phase may still publish; -1: no count
	reached          func()
}

func newQueueFake(cfg Config, f *fake, perTick int) *queueFake {
	return &queueFake{fake: f, plans: cfg.Header.Scenario.PhasePlans(), perTick: perTick, quota: -1}
}

func (q *queueFake) EnterPhase(i int, _ int64, reached func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	pl := q.plans[i]
	q.prodOff, q.consOff = pl.ProducersPaused || pl.ProducersStopped, pl.ConsumersPaused || pl.ConsumersStopped
	q.quota, q.reached = -1, nil
	if pl.Messages > 0 {
		q.quota, q.reached = pl.Messages, reached
	}
}

func (q *queueFake) Start() {
	q.stopped.Add(1)
	go func() {
		defer q.stopped.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-q.stop:
				return
			case <-t.C:
			}
			q.step()
		}
	}()
}

// step publishes one message, then consumes up to perTick: each takes
// a millisecond of processing on top of its time in the queue.
func (q *queueFake) step() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	if !q.prodOff && q.quota != 0 && now < q.win.End() {
		q.queue = append(q.queue, now)
		q.w.Count(metrics.Published, now)
		if q.quota > 0 {
			if q.quota--; q.quota == 0 {
				q.reached()
			}
		}
	}
	for n := 0; !q.consOff && n < q.perTick && len(q.queue) > 0; n++ {
		sent := q.queue[0]
		q.queue = q.queue[1:]
		q.w.Count(metrics.Consumed, now)
		q.w.Record(metrics.EndToEnd, time.Duration(now-sent)+time.Millisecond)
	}
}

func (q *queueFake) depth() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(len(q.queue))
}

func (q *queueFake) ReadBacklog() (result.Backlog, bool) {
	return result.Backlog{Ready: q.depth()}, true
}
func (q *queueFake) Backlog() (result.Backlog, bool)   { return result.Backlog{Ready: q.depth()}, true }
func (q *queueFake) Drain(context.Context) DrainResult { return DrainResult{Ended: result.DrainEmpty} }

func phasedSetup(phases []scenario.Phase, perTick int) (Config, *queueFake) {
	cfg, f := setup(0, 0)
	cfg.Header.Scenario.Phases = phases
	return cfg, newQueueFake(cfg, f, perTick)
}

func paused(v bool) *bool { return &v }

// TestPhaseBoundariesAndAccounting: a fill of exactly 200 messages with
// the consumer paused, a drain until the queue is empty with the producer
// paused, a steady tail. Every boundary ends an interval; every interval
// is in one phase; the phases' counts add up to the run's; each phase's
// latency holds what was received in it; the drain is timed.
func TestPhaseBoundariesAndAccounting(t *testing.T) {
	cfg, q := phasedSetup([]scenario.Phase{
		{Name: "fill", Messages: 200, Consumers: scenario.PhaseConsumers{Paused: paused(true)}},
		{Name: "drain", Until: scenario.UntilQueuesEmpty, Producers: scenario.PhaseProducers{Paused: paused(true)},
			Consumers: scenario.PhaseConsumers{Paused: paused(false)}},
		{Name: "tail", Duration: scenario.Duration(300 * time.Millisecond), Producers: scenario.PhaseProducers{Paused: paused(false)}},
	}, 1)
	res, err := Run(context.Background(), cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	if res.StopReason != result.StopDuration || len(res.Phases) != 3 {
		t.Fatalf("stop %q, %d phases; want duration (the last phase's), 3", res.StopReason, len(res.Phases))
	}
	fill, drain, tail := res.Phases[0], res.Phases[1], res.Phases[2]
	for i, want := range []string{result.StopMessageCount, result.StopQueuesEmpty, result.StopDuration} {
		if res.Phases[i].Ended != want {
			t.Errorf("phase %s ended %q, want %q", res.Phases[i].Name, res.Phases[i].Ended, want)
		}
	}
	if fill.Totals.Published != 200 || fill.Totals.Consumed != 0 || fill.Latency[metrics.EndToEnd] != nil {
		t.Errorf("fill published %d consumed %d: want exactly 200 and none", fill.Totals.Published, fill.Totals.Consumed)
	}
	if drain.Totals.Published != 0 || drain.Totals.Consumed != 200 || drain.Latency[metrics.EndToEnd].Count != 200 {
		t.Errorf("drain published %d consumed %d (latency count %d): want 0, 200, 200",
			drain.Totals.Published, drain.Totals.Consumed, drain.Latency[metrics.EndToEnd].Count)
	}
	if val(fill.BacklogEnd) != 200 || val(drain.BacklogStart) != 200 || val(fill.BacklogPeak) != 200 || val(drain.BacklogEnd) != 0 {
		t.Errorf("backlog: fill end %d peak %d, drain start %d end %d", val(fill.BacklogEnd), val(fill.BacklogPeak), val(drain.BacklogStart), val(drain.BacklogEnd))
	}
	// 200 messages at one per millisecond at most: the drain takes at
	// least 0.2 s, and is read every 50 ms.
	if drain.DrainS == nil || *drain.DrainS < 0.2 || *drain.DrainS > drain.Seconds+0.001 || drain.BacklogWatchS != 0.05 {
		t.Errorf("drain_s %v of a %.3f s phase (watch %.3f s), want at least 0.2", drain.DrainS, drain.Seconds, drain.BacklogWatchS)
	}
	if fill.StartS != 0 || drain.StartS != fill.EndS || tail.StartS != drain.EndS || math.Abs(tail.Seconds-0.3) > 0.05 {
		t.Errorf("boundaries: fill %.3f–%.3f, drain %.3f–%.3f, tail %.3f–%.3f", fill.StartS, fill.EndS, drain.StartS, drain.EndS, tail.StartS, tail.EndS)
	}
	checkIntervalsFollowPhases(t, res)
	var pub, cons int64
	for _, ph := range res.Phases {
		pub, cons = pub+ph.Totals.Published, cons+ph.Totals.Consumed
	}
	if pub != res.Totals.Published || cons != *res.Totals.Consumed {
		t.Errorf("the phases published %d and consumed %d, the run %d and %d", pub, cons, res.Totals.Published, *res.Totals.Consumed)
	}
	if r := tail.Rates.PublishedPerS; math.Abs(r-float64(tail.Totals.Published)/tail.Seconds) > 0.01*r+1 {
		t.Errorf("tail published/s %.1f, want %d over %.3f s", r, tail.Totals.Published, tail.Seconds)
	}
}

// checkIntervalsFollowPhases: every load interval names its phase, lies
// within it, and an interval ends at every phase's end. Times are rounded
// to the millisecond, and a boundary that falls within a millisecond of
// the ticker's beat leaves a sliver that is not kept as an interval: both
// are allowed for.
func checkIntervalsFollowPhases(t *testing.T, res *result.Result) {
	t.Helper()
	var ends []float64
	for _, iv := range res.Intervals {
		if iv.Drain {
			if iv.Phase != "" {
				t.Errorf("drain interval at %.3f in phase %q", iv.TS, iv.Phase)
			}
			continue
		}
		ends = append(ends, iv.TS)
		var in *result.Phase
		for i := range res.Phases {
			if res.Phases[i].Name == iv.Phase {
				in = &res.Phases[i]
			}
		}
		if in == nil || iv.TS-iv.Seconds < in.StartS-0.0015 || iv.TS > in.EndS+0.0015 {
			t.Errorf("interval %.3f–%.3f in phase %q, outside it", iv.TS-iv.Seconds, iv.TS, iv.Phase)
		}
	}
	for _, ph := range res.Phases {
		if !slices.ContainsFunc(ends, func(e float64) bool { return math.Abs(e-ph.EndS) <= 0.0015 }) {
			t.Errorf("no interval ends at the end of phase %s (%.3f)", ph.Name, ph.EndS)
		}
	}
	if t.Failed() {
		for _, ph := range res.Phases {
			t.Logf("phase %s %.3f–%.3f %s", ph.Name, ph.StartS, ph.EndS, ph.Ended)
		}
		for _, iv := range res.Intervals {
			t.Logf("interval %.3f–%.3f %q drain %v", iv.TS-iv.Seconds, iv.TS, iv.Phase, iv.Drain)
		}
	}
}

func val(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// TestOutageAndRecovery: the consumer stops for 200 ms of steady load;
// the backlog grows by what was published meanwhile, and once it is back
// (consuming 3 per millisecond) the recovery is timed against the steady
// phase's p99.
func TestOutageAndRecovery(t *testing.T) {
	cfg, q := phasedSetup([]scenario.Phase{
		{Name: "steady", Duration: scenario.Duration(300 * time.Millisecond)},
		{Name: "outage", Duration: scenario.Duration(200 * time.Millisecond), Consumers: scenario.PhaseConsumers{Paused: paused(true)}},
		{Name: "recovery", Duration: scenario.Duration(600 * time.Millisecond), Consumers: scenario.PhaseConsumers{Paused: paused(false)},
			RecoveryOf: "steady", RecoveryWithin: 100},
	}, 3)
	cfg.Interval = 20 * time.Millisecond
	res, err := Run(context.Background(), cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 3 {
		t.Fatalf("%d phases", len(res.Phases))
	}
	outage, rec := res.Phases[1], res.Phases[2]
	// The workload follows the boundary a moment after it ended an
	// interval: a message or two may be consumed in that moment.
	grew := val(outage.BacklogEnd) - val(outage.BacklogStart)
	if outage.Totals.Consumed > 2 || math.Abs(float64(grew-outage.Totals.Published)) > 2 || grew < 50 {
		t.Errorf("outage: backlog %d → %d, published %d, consumed %d; want it to grow by what was published",
			val(outage.BacklogStart), val(outage.BacklogEnd), outage.Totals.Published, outage.Totals.Consumed)
	}
	if rec.RecoveryOf != "steady" || rec.RecoveryTargetUs == nil || rec.RecoveryS == nil {
		t.Fatalf("recovery of %q target %v: %v", rec.RecoveryOf, rec.RecoveryTargetUs, rec.RecoveryS)
	}
	// The backlog drains at 2 per millisecond net: recovery comes once it
	// has (the last of it waited longest), within a few intervals; the
	// drain is read every 50 ms, the latency every 20 ms interval.
	if rec.DrainS == nil || *rec.RecoveryS < *rec.DrainS-rec.BacklogWatchS-0.02 || *rec.RecoveryS > *rec.DrainS+0.2 {
		t.Errorf("recovered after %.3f s, drained after %v", *rec.RecoveryS, rec.DrainS)
	}
	if steady := res.Phases[0]; steady.DrainS != nil || val(steady.BacklogStart) != 0 {
		t.Errorf("steady began with a backlog of %d: nothing to drain, drain_s %v", val(steady.BacklogStart), steady.DrainS)
	}
	if p := rec.Latency[metrics.EndToEnd]; p == nil || p.MaxUs < 100_000 {
		t.Errorf("recovery latency %+v: the backlog's messages waited the outage", p)
	}
}

// TestPhaseUntilIdle: a phase "until: idle" ends once nothing was
// consumed for its idle time, and no sooner.
func TestPhaseUntilIdle(t *testing.T) {
	cfg, q := phasedSetup([]scenario.Phase{
		{Name: "work", Duration: scenario.Duration(200 * time.Millisecond)},
		{Name: "quiet", Until: scenario.UntilIdle, Idle: scenario.Duration(150 * time.Millisecond), Duration: scenario.Duration(5 * time.Second),
			Producers: scenario.PhaseProducers{Paused: paused(true)}},
	}, 1)
	res, err := Run(context.Background(), cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 2 || res.StopReason != result.StopIdle {
		t.Fatalf("stop %q, phases %+v", res.StopReason, res.Phases)
	}
	if quiet := res.Phases[1]; quiet.Ended != result.StopIdle || quiet.Seconds < 0.15 || quiet.Seconds > 0.5 {
		t.Errorf("quiet ended %q after %.3f s, want idle after 0.15 s and a reading or two", quiet.Ended, quiet.Seconds)
	}
}
