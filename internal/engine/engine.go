// Package engine runs a workload through mqbench's timeline — start signal,
// warm-up, measured window, stop, drain, clean-up — while collecting its
// metrics once per interval, and assembles the result. It knows nothing of
// AMQP: the driver package supplies the workload, tests supply fakes.
package engine

import (
	"context"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// Event is something the workload tells the engine while it runs.
type Event struct {
	Reason string // result.StopMessageCount or result.StopError
	Err    error
	// At is when the load really ended (Unix ns), when that was before
	// the event could be sent: the shards of a sharded run learn that the
	// whole run reached its count only after watching for a while. 0: now.
	At int64
}

// DrainResult is how the drain ended.
type DrainResult struct {
	// Ended is result.DrainEmpty, DrainTimeout or DrainNone.
	Ended string
	// LastConsumed is when the last message was consumed (Unix ns; 0 when
	// nothing ever was).
	LastConsumed int64
}

// Workload is what the engine drives. The engine calls Start once, then at
// the end StopLoad, Drain and Finish in that order, from one goroutine.
// While StopLoad and Drain run, the engine goes on calling Backlog,
// Blocked, Disconnected, ConnectionsUp and BrokerSample from another (it
// reports the drain's intervals).
type Workload interface {
	// Start releases every (already prepared) worker at once.
	Start()
	// Events reports message-count completion and fatal errors.
	Events() <-chan Event
	// StopLoad stops publishing and returns once no worker will publish
	// again, or ctx ends.
	StopLoad(ctx context.Context)
	// Drain awaits outstanding confirms and replies, then consumes what is
	// still queued until nothing is left or ctx ends.
	Drain(ctx context.Context) DrainResult
	// Backlog returns the latest sample of what waits to be consumed over
	// all queues, if known; ReadBacklog reads it afresh (it may take a
	// round trip per queue: the engine calls it only when the load stops
	// and when the drain ends).
	Backlog() (result.Backlog, bool)
	ReadBacklog() (result.Backlog, bool)
	// Blocked returns how many connections the broker blocks right now.
	Blocked() int
	// Disconnected returns how many workers wait for a lost connection.
	Disconnected() int
	// ConnectionsUp returns how many of the workload's connections are open.
	ConnectionsUp() int
	// BrokerSample returns the broker's own latest figures (the management
	// API), or nil.
	BrokerSample() *result.BrokerSample
	// Finish stops every worker, deletes what was declared and
	// disconnects, and returns what only the workload knows: per-queue
	// figures, the audit, faults. After it returns no worker records again.
	Finish(ctx context.Context) (Final, error)
}

// Final is the workload's part of the result.
type Final struct {
	Queues      []result.Queue
	Connections []result.Connection
	Audit       *result.Audit
	Faults      result.Faults
	MaxUnacked  *int64 // null with automatic acks
	Warnings    []string
	// Kinds are the figures of the kinds of worker that report their own.
	Kinds map[string]*result.KindFigures
	// LastConsumed is when the last message was consumed (Unix ns; 0:
	// never), read once every consumer stopped: consumption the clean-up
	// saw (deliveries the client still held) is rated over its time too.
	LastConsumed int64
}

// Sink receives a run's progress. Calls come from the engine's goroutine,
// never from the hot path, and must not block for long.
type Sink interface {
	Interval(iv result.Interval)
	Done(r *result.Result)
}

// SnapshotSink is a sink that also wants each interval as the collector
// merged it (an exporter). Snapshot is called before Interval, and once
// more after the clean-up (Final) with everything the run counted.
type SnapshotSink interface {
	Snapshot(s Snapshot)
}

// Snapshot is one collection.
type Snapshot struct {
	Final bool // after the clean-up: the drain's events are in Counts too
	// Counts are cumulative since the start, warm-up included.
	Counts metrics.Counts
	// Latency holds the samples recorded since the previous snapshot; the
	// histograms are only valid during the call.
	Latency       [metrics.NumKinds]*hdr.Histogram
	Interval      result.Interval // empty when Final
	ConnectionsUp int
}

// Config is the engine's part of a scenario.
type Config struct {
	Duration     time.Duration // 0 = until message count or interrupt
	Warmup       time.Duration
	Interval     time.Duration
	DrainTimeout time.Duration
	// Now returns the current time in Unix nanoseconds; it must be the
	// clock the workers stamp and record with.
	Now func() int64
	// CPU returns the process's user+system CPU time so far; Cores is how
	// many the process may use; Cost returns the process's whole CPU time
	// and peak resident memory, read once at the end.
	CPU   func() time.Duration
	Cores int
	Host  string // the machine's name, for the result
	Cost  func() (cpu time.Duration, maxRSS int64)
	// Registry is where the workers record; its window is opened by Run.
	Registry *metrics.Registry
	// Sinks receive every interval and the final result.
	Sinks []Sink
	// Header describes the run: tool, resolved scenario (password masked:
	// it says which measures apply) and broker; Warnings are known before
	// the start (an unverified TLS certificate).
	Header   result.Header
	Warnings []string
	// IntervalHistograms puts each interval's latency histograms into the
	// interval (the shards of a sharded run, for an exact merge).
	IntervalHistograms bool
	// FinishTimeout bounds the clean-up (default 30s): the owner of a
	// sharded run's topology waits in it for the other shards to finish.
	FinishTimeout time.Duration
	// Abort, once closed (a second interruption), hurries the end: the
	// drain is skipped or cut short, stopping the load and the clean-up
	// get abortGrace at most, and the result is still built, marked with
	// result.StopDetailSecondSignal. Nil never aborts.
	Abort <-chan struct{}
}

// Run drives w from the start signal to clean-up and returns the run's
// result, built here and nowhere else from the timeline's measurements and
// the workload's Final. ctx ending is an interruption: the run still
// stops, drains, cleans up and completes its result. The returned error is
// the run's failure, if any; the result is complete either way.
func Run(ctx context.Context, cfg Config, w Workload) (*result.Result, error) {
	r := &runner{cfg: cfg, w: w, reg: cfg.Registry, win: cfg.Registry.Window(), col: metrics.NewCollector(cfg.Registry),
		rpc: cfg.Header.Scenario.RPC.Clients > 0}
	t, runErr := r.run(ctx)
	res, err := build(cfg, t)
	if runErr == nil {
		runErr = err
	}
	for _, s := range cfg.Sinks {
		s.Done(res)
	}
	return res, runErr
}

type runner struct {
	cfg Config
	w   Workload
	reg *metrics.Registry
	win *metrics.Window
	col *metrics.Collector
	rpc bool // RPC clients run: intervals carry RPC figures

	start, measureStart, lastTick int64
	prev                          metrics.Counts // counts at the previous tick
	cpuBase, cpuTick              time.Duration  // CPU at the window's start and at the previous tick
	collects                      int
	collectSum, collectMax        time.Duration
	intervals                     []result.Interval
	endBacklog                    *result.Backlog // read afresh when the drain ended
	ph                            *phaser         // nil without phases
}

// timeline is what the engine measured, for build.
type timeline struct {
	start, measureStart, windowEnd, end int64
	drainEnd                            int64
	drain                               DrainResult
	backlogAtStop, backlogAtEnd         *result.Backlog
	reason                              string
	runErr                              error
	window, totals                      metrics.Counts // measured counts at the window's end, and after the drain
	cpuWindow                           time.Duration
	collects                            int
	collectSum, collectMax              time.Duration
	intervals                           []result.Interval
	col                                 *metrics.Collector
	final                               Final
	aborted                             bool    // a second interruption hurried the end
	phases                              *phaser // nil without phases
}

func (r *runner) run(ctx context.Context) (timeline, error) {
	r.start = r.cfg.Now()
	r.measureStart = r.start + int64(r.cfg.Warmup)
	r.win.Set(r.measureStart)
	if r.cfg.Duration > 0 {
		r.win.SetEnd(r.start + int64(r.cfg.Duration))
	}
	r.lastTick = r.start
	r.cpuBase = r.cfg.CPU()
	r.cpuTick = r.cpuBase
	r.startPhases()
	r.w.Start()

	ev := r.loop(ctx)

	// The measured window is the load's: it closes when the run decided to
	// stop (at its duration, count or signal), not once every producer has
	// noticed — a producer stuck in a write the broker does not read can
	// take seconds to, and the drain that follows is reported on its own.
	end := r.cfg.Now()
	loadEnd := min(end, r.win.End()) // a duration's timer fires a little late
	if ev.At > 0 && ev.At < loadEnd {
		loadEnd = max(ev.At, r.start)
	}
	// Producers send nothing at or after the window's end: every message
	// published is the window's, however late its producer notices.
	r.win.SetEnd(loadEnd)
	window, cpu := r.reg.Measured(), r.cfg.CPU()
	if loadEnd < r.measureStart { // stopped during warm-up: nothing was measured
		r.measureStart = loadEnd
		r.cpuBase = cpu
	}
	r.tick(end, false)
	r.ph.finish(r, end, r.ph.stopWhy())
	t := timeline{start: r.start, measureStart: r.measureStart, windowEnd: loadEnd, reason: ev.Reason,
		window: window, cpuWindow: cpu - r.cpuBase, phases: r.ph}
	t.drain, t.backlogAtStop, t.backlogAtEnd = r.stopAndDrain(ev.Err == nil)
	t.drainEnd = r.cfg.Now()

	fin := r.cfg.FinishTimeout
	if fin <= 0 {
		fin = finishTimeout
	}
	finCtx, cancel := r.phase(fin, abortGrace)
	final, finErr := r.w.Finish(finCtx)
	cancel()
	t.drain.LastConsumed = max(t.drain.LastConsumed, final.LastConsumed)
	t.aborted = r.aborted()
	// Collected after Finish so that deliveries still buffered in the client
	// when consumers were cancelled are in both the totals and the queues.
	r.snapshot(r.col.Collect(), result.Interval{}, true)
	t.totals = r.reg.Measured()
	runErr := ev.Err
	if runErr == nil && finErr != nil {
		runErr = finErr
		t.reason = result.StopError
	}
	t.runErr, t.final, t.col = runErr, final, r.col
	t.collects, t.collectSum, t.collectMax, t.intervals = r.collects, r.collectSum, r.collectMax, r.intervals
	t.end = r.cfg.Now()
	return t, runErr
}

// loop runs the measured part of the timeline and returns why it stopped.
func (r *runner) loop(ctx context.Context) Event {
	ticker := time.NewTicker(r.cfg.Interval)
	defer ticker.Stop()
	var warmup, deadline <-chan time.Time
	if r.cfg.Warmup > 0 {
		// Timed from the start signal, not from here. Counts need no
		// baseline (workers split them by each event's own time); only the
		// CPU reading is taken here.
		t := time.NewTimer(time.Duration(r.measureStart - r.cfg.Now()))
		defer t.Stop()
		warmup = t.C
	}
	if r.cfg.Duration > 0 {
		t := time.NewTimer(r.cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	for {
		why := "" // the end condition of a phase met
		select {
		case <-ctx.Done():
			return Event{Reason: result.StopInterrupted}
		case <-r.cfg.Abort: // nil unless set
			return Event{Reason: result.StopInterrupted}
		case <-deadline:
			return Event{Reason: result.StopDuration}
		case ev := <-r.w.Events():
			if ev.Err != nil {
				ev.Reason = result.StopError
			}
			return ev
		case <-warmup:
			r.tick(r.cfg.Now(), false)
			r.cpuBase = r.cfg.CPU()
		case <-ticker.C:
			r.tick(r.cfg.Now(), false)
		case <-r.ph.timeUp():
			why = result.StopDuration
		case i := <-r.ph.countReached():
			why = r.ph.counted(r, i)
		case rd := <-r.ph.watched():
			why = r.ph.observe(rd)
		}
		if why == "" {
			continue
		}
		if ev, last := r.nextPhase(why, ticker); last {
			return ev
		}
	}
}

// tick collects one interval ending at now and hands it to the sinks;
// drain marks one after the load stopped.
func (r *runner) tick(now int64, drain bool) {
	var iv metrics.Interval
	took := onThreadCPU(func() { iv = r.col.Collect() })
	r.collects++
	r.collectSum += took
	r.collectMax = max(r.collectMax, took)
	cpu := r.cfg.CPU()
	d := iv.Counts.Sub(r.prev)
	r.prev = iv.Counts
	out := result.Interval{
		TS:      result.Round3(time.Duration(now - r.start).Seconds()),
		Seconds: result.Round3(time.Duration(now - r.lastTick).Seconds()),
		// An interval that began in the warm-up is not a measured one, even
		// if it ends after the warm-up (the timer fires a little late).
		Warmup:    r.lastTick < r.measureStart && r.cfg.Warmup > 0 && !drain,
		Drain:     drain,
		Published: d[metrics.Published], Confirmed: d[metrics.Confirmed], Consumed: d[metrics.Consumed],
		Returned: d[metrics.Returned], Nacked: d[metrics.Nacked],
	}
	if out.Seconds > 0 {
		out.CPUCores = result.Round3((cpu - r.cpuTick).Seconds() / out.Seconds)
	}
	r.cpuTick = cpu
	out.Blocked = r.w.Blocked()
	out.Disconnected = r.w.Disconnected()
	r.lastTick = now
	if h := iv.Latency[metrics.EndToEnd]; h != nil && h.TotalCount() > 0 {
		out.E2EP50Us = ptr(h.ValueAtQuantile(50))
		out.E2EP99Us = ptr(h.ValueAtQuantile(99))
	}
	if h := iv.Latency[metrics.Confirm]; h != nil && h.TotalCount() > 0 {
		out.ConfirmP99Us = ptr(h.ValueAtQuantile(99))
	}
	if r.rpc {
		out.RPCRequests, out.RPCReplies, out.RPCTimeouts = ptr(d[metrics.RPCRequests]), ptr(d[metrics.RPCReplies]), ptr(d[metrics.RPCTimeouts])
		if h := iv.Latency[metrics.RPC]; h != nil && h.TotalCount() > 0 {
			out.RPCP50Us = ptr(h.ValueAtQuantile(50))
			out.RPCP99Us = ptr(h.ValueAtQuantile(99))
		}
	}
	if b := r.endBacklog; b != nil { // the drain's last interval: read afresh
		out.Backlog, out.BacklogParts = ptr(b.Total()), b
	} else if b, ok := r.w.Backlog(); ok {
		out.Backlog, out.BacklogParts = ptr(b.Total()), &b
	}
	if !drain {
		r.ph.interval(&out, iv.Latency)
	}
	if r.cfg.IntervalHistograms {
		out.HDR = intervalHDR(iv.Latency)
	}
	out.Broker = r.w.BrokerSample()
	r.snapshot(iv, out, false)
	if out.Seconds <= 0 {
		return
	}
	r.intervals = append(r.intervals, out)
	for _, s := range r.cfg.Sinks {
		s.Interval(out)
	}
}

// snapshot hands the interval, with its histograms, to the sinks that
// want them.
func (r *runner) snapshot(iv metrics.Interval, out result.Interval, final bool) {
	s := Snapshot{Final: final, Counts: iv.Counts, Latency: iv.Latency, Interval: out, ConnectionsUp: r.w.ConnectionsUp()}
	for _, sink := range r.cfg.Sinks {
		if ss, ok := sink.(SnapshotSink); ok {
			ss.Snapshot(s)
		}
	}
}

func ptr[T any](v T) *T { return &v }
