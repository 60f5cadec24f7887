// Package engine runs a workload through mqbench's timeline — start signal,
// warm-up, measured window, stop, drain, clean-up — while collecting its
// metrics once per interval, and assembles the result. It knows nothing of
// AMQP: the driver package supplies the workload, tests supply fakes.
package engine

import (
	"context"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/report"
)

// Event is something the workload tells the engine while it runs.
type Event struct {
	Reason string // report.StopMessageCount or report.StopError
	Err    error
}

// Workload is what the engine drives. The engine calls Start once, then at
// the end StopLoad, Drain and Close in that order, from one goroutine.
type Workload interface {
	// Start releases every (already prepared) worker at once.
	Start()
	// Events reports message-count completion and fatal errors.
	Events() <-chan Event
	// StopLoad stops publishing and returns once no worker will publish
	// again; outstanding confirms are awaited until ctx ends.
	StopLoad(ctx context.Context)
	// Drain consumes what is still queued until nothing is left or ctx ends.
	Drain(ctx context.Context)
	// Backlog returns the ready messages over all queues, if known.
	Backlog() (int64, bool)
	// Blocked returns how many connections the broker blocks right now.
	Blocked() int
	// Disconnected returns how many workers wait for a lost connection.
	Disconnected() int
	// Finish stops consumers, deletes what was declared and disconnects,
	// filling in the per-queue part of the result.
	Finish(ctx context.Context, r *report.Result) error
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
	// many the process may use.
	CPU   func() time.Duration
	Cores int
	// Registry is where the workers record; its window is opened by Run.
	Registry *metrics.Registry
	// Sinks receive every interval and the final result.
	Sinks []report.Sink
}

// Run drives w from the start signal to clean-up and fills res with times,
// stop reason, totals, rates, latencies, intervals and client cost. The
// caller fills in the tool, scenario and broker parts first (the scenario
// says which measures apply). ctx ending is an interruption: the run still
// stops, drains, cleans up and completes its result. The returned error is
// the run's failure, if any; res is complete either way.
func Run(ctx context.Context, cfg Config, w Workload, res *report.Result) error {
	r := &runner{cfg: cfg, w: w, reg: cfg.Registry, win: cfg.Registry.Window(), sinks: cfg.Sinks, col: metrics.NewCollector(cfg.Registry),
		rpc: res.Scenario.RPC.Clients > 0}
	return r.run(ctx, res)
}

type runner struct {
	cfg   Config
	w     Workload
	reg   *metrics.Registry
	win   *metrics.Window
	sinks []report.Sink
	col   *metrics.Collector
	rpc   bool // RPC clients run: intervals carry RPC figures

	start, measureStart, lastTick int64
	prev                          metrics.Counts // counts at the previous tick
	cpuBase, cpuTick              time.Duration  // CPU at the window's start and at the previous tick
	collects                      int
	collectSum, collectMax        time.Duration
	intervals                     []report.Interval
}

func (r *runner) run(ctx context.Context, res *report.Result) error {
	res.Schema = report.Schema
	r.start = r.cfg.Now()
	r.measureStart = r.start + int64(r.cfg.Warmup)
	r.win.Set(r.measureStart)
	if r.cfg.Duration > 0 {
		r.win.SetEnd(r.start + int64(r.cfg.Duration))
	}
	r.lastTick = r.start
	r.cpuBase = r.cfg.CPU()
	r.cpuTick = r.cpuBase
	res.StartedAt = time.Unix(0, r.start).UTC()
	r.w.Start()

	reason, runErr := r.loop(ctx)
	res.StopReason = reason

	// Stop the load; the measured window closes when no producer can publish.
	stopCtx, cancel := context.WithTimeout(context.Background(), r.cfg.DrainTimeout+5*time.Second)
	r.w.StopLoad(stopCtx)
	cancel()
	end := r.cfg.Now()
	if end < r.measureStart { // stopped during warm-up: nothing was measured
		r.measureStart = end
		r.cpuBase = r.cfg.CPU()
	}
	r.tick(end)
	windowCounts := r.reg.Measured()
	cpuWindow := r.cfg.CPU() - r.cpuBase

	if runErr == nil {
		drainCtx, cancel := context.WithTimeout(context.Background(), r.cfg.DrainTimeout)
		r.w.Drain(drainCtx)
		cancel()
	}
	finCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	finErr := r.w.Finish(finCtx, res)
	cancel()
	// Collected after Finish so that deliveries still buffered in the client
	// when consumers were cancelled are in both the totals and the queues.
	r.col.Collect()
	totals := r.reg.Measured()
	if runErr == nil && finErr != nil {
		runErr = finErr
		res.StopReason = report.StopError
	}
	if runErr != nil {
		res.Error = runErr.Error()
	}
	res.EndedAt = time.Unix(0, r.cfg.Now()).UTC()
	res.MeasuredS = float64(end-r.measureStart) / 1e9
	res.Client.CPUS = cpuWindow.Seconds()
	if res.MeasuredS > 0 {
		res.Client.Cores = round3(res.Client.CPUS / res.MeasuredS)
	}
	res.Client.CoresAvailable = r.cfg.Cores
	if r.collects > 0 {
		res.Client.CollectMeanUs = round3(float64(r.collectSum.Microseconds()) / float64(r.collects))
		res.Client.CollectMaxUs = float64(r.collectMax.Microseconds())
	}
	res.Intervals = r.intervals
	if err := fill(res, r.col, windowCounts, totals); err != nil && runErr == nil {
		runErr = err
	}
	res.Warnings = append(warnings(res), res.Warnings...)
	for _, s := range r.sinks {
		s.Done(res)
	}
	return runErr
}

// loop runs the measured part of the timeline and returns why it stopped.
func (r *runner) loop(ctx context.Context) (string, error) {
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
		select {
		case <-ctx.Done():
			return report.StopInterrupted, nil
		case <-deadline:
			return report.StopDuration, nil
		case ev := <-r.w.Events():
			if ev.Err != nil {
				return report.StopError, ev.Err
			}
			return ev.Reason, nil
		case <-warmup:
			r.tick(r.cfg.Now())
			r.cpuBase = r.cfg.CPU()
		case <-ticker.C:
			r.tick(r.cfg.Now())
		}
	}
}

// tick collects one interval ending at now and hands it to the sinks.
func (r *runner) tick(now int64) {
	var iv metrics.Interval
	took := onThreadCPU(func() { iv = r.col.Collect() })
	r.collects++
	r.collectSum += took
	r.collectMax = max(r.collectMax, took)
	cpu := r.cfg.CPU()
	d := iv.Counts.Sub(r.prev)
	r.prev = iv.Counts
	out := report.Interval{
		TS:        round3(float64(now-r.start) / 1e9),
		Seconds:   round3(float64(now-r.lastTick) / 1e9),
		Warmup:    now <= r.measureStart && r.cfg.Warmup > 0,
		Published: d[metrics.Published], Confirmed: d[metrics.Confirmed], Consumed: d[metrics.Consumed],
		Returned: d[metrics.Returned], Nacked: d[metrics.Nacked],
	}
	if out.Seconds > 0 {
		out.CPUCores = round3((cpu - r.cpuTick).Seconds() / out.Seconds)
	}
	r.cpuTick = cpu
	out.Blocked = r.w.Blocked()
	out.Disconnected = r.w.Disconnected()
	r.lastTick = now
	if h := iv.Latency[metrics.EndToEnd]; h.TotalCount() > 0 {
		out.E2EP50Us = ptr(h.ValueAtQuantile(50))
		out.E2EP99Us = ptr(h.ValueAtQuantile(99))
	}
	if h := iv.Latency[metrics.Confirm]; h.TotalCount() > 0 {
		out.ConfirmP99Us = ptr(h.ValueAtQuantile(99))
	}
	if r.rpc {
		out.RPCReplies, out.RPCTimeouts = ptr(d[metrics.RPCReplies]), ptr(d[metrics.RPCTimeouts])
		if h := iv.Latency[metrics.RPC]; h.TotalCount() > 0 {
			out.RPCP50Us = ptr(h.ValueAtQuantile(50))
			out.RPCP99Us = ptr(h.ValueAtQuantile(99))
		}
	}
	if b, ok := r.w.Backlog(); ok {
		out.Backlog = &b
	}
	if out.Seconds <= 0 {
		return
	}
	r.intervals = append(r.intervals, out)
	for _, s := range r.sinks {
		s.Interval(out)
	}
}

func ptr[T any](v T) *T { return &v }

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
