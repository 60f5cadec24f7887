package engine

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Phased is a workload whose load follows the scenario's phases
// (Header.Scenario.Phases). The engine calls EnterPhase from its
// goroutine at the start of each phase — the first before Start — with
// the phase's start (Unix ns on the workers' clock); the workload calls
// reached, once and from any goroutine, when the phase's message count
// was reached (never when it has none).
type Phased interface {
	EnterPhase(i int, at int64, reached func())
}

// phaseWatch is how often a phased run's backlog is read, for each phase's
// drain time, peak and end condition: often enough that a drain of a few
// seconds is timed to a few percent, and at least phaseWatchPerQueue per
// queue apart (each read is a round trip per queue).
const (
	phaseWatch         = 50 * time.Millisecond
	phaseWatchPerQueue = 5 * time.Millisecond
)

// watchStopWait bounds how long the load's end waits for the watcher's
// reading under way.
const watchStopWait = 5 * time.Second

// countWait bounds how long a phase that reached its message count waits
// for the last of its publishes to be counted (the producer that took the
// last one says so before publishing it) and, with publisher confirms,
// confirmed: the phase's messages are then in their queues when the next
// phase starts (a fill's backlog is whole).
const countWait = time.Second

// phaser runs a phased run's timeline: which phase is under way, what
// ends it, and each phase's figures. Its methods are called from the
// engine's goroutine only; a nil phaser (no phases) does nothing and its
// channels are nil, so the engine's select never picks them.
type phaser struct {
	plans    []scenario.PhasePlan
	w        Phased // nil: the workload does not change between phases
	i        int    // the phase under way
	timer    *time.Timer
	reached  chan int     // the phase whose message count was reached
	readings chan reading // the watcher's readings
	quit     chan struct{}
	watching chan struct{} // closed when the watcher has returned
	every    time.Duration
	idle     bool // a phase ends when idle: the watcher reads the consumption too
	recs     []*phaseRec
	lastWhy  string // what ended the last phase, when that ended the run
}

// reading is one reading of the watcher: the backlog (ok false: could not
// be read) and the consumption so far, read from began to at.
type reading struct {
	began, at int64
	backlog   int64
	ok        bool
	consumed  int64
}

// phaseRec is what one phase measured.
type phaseRec struct {
	start, end               int64
	ended                    string
	counts0, counts1         metrics.Counts
	hist                     [metrics.NumKinds]*hdr.Histogram
	backlogStart, backlogEnd *result.Backlog
	peak                     int64
	peakOK                   bool
	drainAt                  int64 // when the backlog first read 0 (0: never)
	consumed, quietSince     int64 // the consumption last seen, and since when
}

// newPhaser is the phaser of r's run, nil when the scenario has no phases.
func newPhaser(r *runner) *phaser {
	sc := r.cfg.Header.Scenario
	if !sc.Phased() {
		return nil
	}
	p := &phaser{plans: sc.PhasePlans(), reached: make(chan int, len(sc.Phases)), readings: make(chan reading, 64),
		quit: make(chan struct{}), watching: make(chan struct{}), every: max(phaseWatch, time.Duration(len(sc.QueueNames()))*phaseWatchPerQueue)}
	p.w, _ = r.w.(Phased)
	for _, pl := range p.plans {
		p.idle = p.idle || pl.Until == scenario.UntilIdle
	}
	return p
}

// watch reads the backlog and the consumption every p.every until quit:
// on its own goroutine, so a slow broker never holds up the engine.
func (p *phaser) watch(r *runner) {
	defer close(p.watching)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		rd := reading{began: r.cfg.Now()}
		b, ok := r.w.ReadBacklog()
		if p.idle { // summing every worker's counters is not free with many workers
			rd.consumed = consumption(r.reg.Counts())
		}
		rd.at, rd.backlog, rd.ok = r.cfg.Now(), b.Total(), ok
		select {
		case p.readings <- rd:
		default: // the engine is 64 readings behind: it has more pressing things to do
		}
		select {
		case <-p.quit:
			return
		case <-t.C:
		}
	}
}

// consumption is every delivery the consumers handled: idle means none.
func consumption(c metrics.Counts) int64 {
	return c[metrics.Consumed] + c[metrics.Refused] + c[metrics.Foreign]
}

// begin starts phase i at now: the workload changes, the backlog is read
// afresh (after the change, so that the workers follow the boundary
// closely; it is also the end of the phase before), its timer is set.
func (p *phaser) begin(r *runner, i int, now int64) {
	if p == nil {
		return
	}
	p.i = i
	rec := &phaseRec{start: now, counts0: r.prev, quietSince: now, consumed: consumption(r.prev)}
	p.recs = append(p.recs, rec)
	if p.w != nil {
		p.w.EnterPhase(i, now, func() {
			select {
			case p.reached <- i:
			default:
			}
		})
	}
	rec.backlogStart = r.readBacklog()
	rec.sawBacklog(rec.backlogStart)
	if i > 0 {
		prev := p.recs[i-1]
		prev.backlogEnd = rec.backlogStart
		prev.sawBacklog(prev.backlogEnd)
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if d := p.plans[i].Duration; d > 0 {
		p.timer = time.NewTimer(d - time.Duration(r.cfg.Now()-now))
	}
}

// timeUp fires when the phase under way has lasted its duration.
func (p *phaser) timeUp() <-chan time.Time {
	if p == nil || p.timer == nil {
		return nil
	}
	return p.timer.C
}

// countReached delivers the phase whose message count was reached.
func (p *phaser) countReached() <-chan int {
	if p == nil {
		return nil
	}
	return p.reached
}

// watched delivers the watcher's readings.
func (p *phaser) watched() <-chan reading {
	if p == nil {
		return nil
	}
	return p.readings
}

// observe takes one reading of the watcher and returns the end condition
// it meets ("" when none). A reading begun before the phase started is
// the phase before's, and is dropped.
func (p *phaser) observe(rd reading) string {
	rec, pl := p.recs[p.i], p.plans[p.i]
	if rd.began < rec.start {
		return ""
	}
	if rd.ok {
		rec.saw(rd.backlog)
		if rd.backlog == 0 && rec.drainAt == 0 && rec.hadBacklog() {
			rec.drainAt = rd.at
		}
	}
	if rd.consumed != rec.consumed {
		rec.consumed, rec.quietSince = rd.consumed, rd.at
	}
	switch {
	case pl.Until == scenario.UntilQueuesEmpty && rd.ok && rd.backlog == 0:
		return result.StopQueuesEmpty
	case pl.Until == scenario.UntilIdle && time.Duration(rd.at-rec.quietSince) >= pl.Idle:
		return result.StopIdle
	}
	return ""
}

// countIn waits (up to countWait) until the phase's count of published
// messages shows in the registry, so the boundary's interval has them,
// and with confirms until the broker answered every publish.
func (p *phaser) countIn(r *runner) {
	want := p.recs[p.i].counts0[metrics.Published] + p.plans[p.i].Messages
	confirms := r.cfg.Header.Scenario.Producers.Confirm > 0
	for deadline := time.Now().Add(countWait); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c := r.reg.Counts()
		if c[metrics.Published] >= want && (!confirms || c[metrics.Confirmed]+c[metrics.Nacked] >= c[metrics.Published]) {
			return
		}
	}
}

// interval books a load interval that ended in the phase under way: it
// is marked with the phase, and its histograms go into the phase's.
func (p *phaser) interval(out *result.Interval, lat [metrics.NumKinds]*hdr.Histogram) {
	if p == nil || p.i >= len(p.recs) {
		return
	}
	rec := p.recs[p.i]
	out.Phase = p.plans[p.i].Name
	for k, h := range lat {
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		if rec.hist[k] == nil {
			rec.hist[k] = metrics.NewHistogram()
		}
		rec.hist[k].Merge(h)
	}
	if out.Backlog != nil {
		rec.saw(*out.Backlog)
	}
}

// finish ends the phase under way at now (an interval ended there), for
// why; the last phase's end is the load's, and stops the watcher.
func (p *phaser) finish(r *runner, now int64, why string) {
	if p == nil {
		return
	}
	rec := p.recs[p.i]
	rec.end, rec.ended, rec.counts1 = now, why, r.prev
	if p.i == len(p.plans)-1 || why == result.PhaseStopped {
		close(p.quit)
		if p.timer != nil {
			p.timer.Stop()
		}
		// The watcher reads the workload: it must be done before the
		// workload's end (bounded: a read the broker never answers).
		select {
		case <-p.watching:
		case <-time.After(watchStopWait):
		}
		rec.backlogEnd = r.readBacklog()
		rec.sawBacklog(rec.backlogEnd)
	}
}

func (rec *phaseRec) saw(n int64) {
	if !rec.peakOK || n > rec.peak {
		rec.peak, rec.peakOK = n, true
	}
}

func (rec *phaseRec) sawBacklog(b *result.Backlog) {
	if b != nil {
		rec.saw(b.Total())
	}
}

// counted is the end condition met when the workload says phase i
// reached its message count ("" when i is not under way any more).
func (p *phaser) counted(r *runner, i int) string {
	if i != p.i {
		return ""
	}
	p.countIn(r)
	return result.StopMessageCount
}

// stopWhy is how the phase under way when the load stopped ended: by its
// own end (the last phase's), or stopped with the run.
func (p *phaser) stopWhy() string {
	if p == nil || p.lastWhy == "" {
		return result.PhaseStopped
	}
	return p.lastWhy
}

// startPhases enters the first phase, before the start signal, and starts
// the watcher.
func (r *runner) startPhases() {
	r.ph = newPhaser(r)
	if r.ph == nil {
		return
	}
	r.ph.begin(r, 0, r.start)
	go r.ph.watch(r)
}

// nextPhase ends the phase under way, for why. Every boundary ends an
// interval, and the intervals start afresh from it (ticker), so that each
// interval is in one phase and each phase's figures are exact. The last
// phase's end is the load's: it returns the run's stop event, and the
// run's end takes the last interval.
func (r *runner) nextPhase(why string, ticker *time.Ticker) (Event, bool) {
	p := r.ph
	if p.i == len(p.plans)-1 {
		p.lastWhy = why
		return Event{Reason: why}, true
	}
	now := r.cfg.Now()
	r.tick(now, false)
	p.finish(r, now, why)
	p.begin(r, p.i+1, now)
	ticker.Reset(r.cfg.Interval)
	return Event{}, false
}

// hadBacklog reports whether the phase began with something to drain.
func (rec *phaseRec) hadBacklog() bool {
	return rec.backlogStart != nil && rec.backlogStart.Total() > 0
}
