// Package driver runs mqbench scenarios against a real AMQP 0-9-1 broker:
// it declares the topology, spreads producers and consumers over
// connections and channels, and hands them to the engine's timeline.
package driver

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// Options are what a caller adds to a scenario.
type Options struct {
	Version string        // mqbench's version, for the result
	Sinks   []report.Sink // live progress and other outputs
}

// SetupError is a failure before the start signal: nothing was measured.
type SetupError struct{ Err error }

// Error returns the setup failure's message.
func (e *SetupError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SetupError) Unwrap() error { return e.Err }

// Run runs a validated scenario and returns its result. The result is
// complete whenever it is non-nil, even when err reports that the run
// failed midway; a *SetupError means nothing was measured.
func Run(ctx context.Context, sc scenario.Scenario, opts Options) (*report.Result, error) {
	clock := stamp.NewClock()
	win := metrics.NewWindow() // nothing counts until the engine opens it
	reg := metrics.NewRegistry(shardCount(sc.Producers.Count+sc.Consumers.Count+sc.RPC.Clients+sc.RPC.Servers), win)
	w, info, err := prepare(ctx, &sc, reg, win, clock)
	if err != nil {
		return nil, &SetupError{err}
	}
	res := &report.Result{
		Tool:     report.Tool{Name: "mqbench", Version: opts.Version},
		Scenario: sc.Masked(),
		Broker:   report.Broker{URL: scenario.MaskURL(sc.URL), Product: info.product, Version: info.version},
	}
	cfg := engine.Config{
		Duration: sc.Duration.D(), Warmup: sc.Warmup.D(), Interval: sc.Interval.D(), DrainTimeout: sc.DrainTimeout.D(),
		Now: clock.Now, CPU: cpuTime, Cores: runtime.GOMAXPROCS(0), Registry: reg, Sinks: opts.Sinks,
	}
	if sc.TLS.Insecure {
		res.Warnings = append(res.Warnings, "--tls-insecure: the broker's certificate was not verified; anyone on the path could have answered")
	}
	err = engine.Run(ctx, cfg, w, res)
	res.Client.CPUTotalS, res.Client.MaxRSSBytes = processCost()
	return res, err
}

// shardCount bounds the histogram shards: enough that workers rarely share
// one, few enough that memory and merge time stay flat at thousands of
// workers.
func shardCount(workers int) int {
	n := 4 * runtime.GOMAXPROCS(0)
	if workers < n {
		n = workers
	}
	return max(n, 1)
}

type brokerProps struct{ product, version string }

// prepare connects, declares and subscribes everything, so that all that is
// left at the start signal is to publish. On failure it undoes what it did.
func prepare(ctx context.Context, sc *scenario.Scenario, reg *metrics.Registry, win *metrics.Window, clock *stamp.Clock) (w *workload, info brokerProps, err error) {
	d, err := newDialer(sc.URL, sc.ConnectTimeout.D(), sc.TLS)
	if err != nil {
		return nil, info, err
	}
	run := runID()
	d.recoveries.enabled, d.recoveries.giveUp = !sc.NoReconnect, sc.ReconnectTimeout.D()
	w = &workload{
		sc: sc, blocks: d.blocks, recoveries: d.recoveries, start: make(chan struct{}), stop: make(chan struct{}), abandon: make(chan struct{}),
		flush: make(chan struct{}), events: make(chan engine.Event, 1), sampler: make(chan struct{}),
	}
	d.recoveries.closing = &w.closing
	defer func() {
		if err != nil {
			w.closing.Store(true)
			if w.topo != nil && !sc.Keep {
				_ = w.topo.teardown()
			}
			for _, c := range w.conns {
				c.close()
			}
			w = nil
		}
	}()
	admin, err := d.dial(connName(run, "admin", 0))
	if err != nil {
		return w, info, err
	}
	w.conns = append(w.conns, admin)
	info.product, info.version = brokerInfo(admin.cur.Load())
	w.topo = &topology{sc: sc, admin: admin}
	if err = w.topo.declareExchange(); err != nil {
		return w, info, err
	}
	if sc.Producers.Count > 0 || sc.Consumers.Count > 0 {
		if err = w.prepareConsumers(ctx, d, run, reg, win, clock); err != nil {
			return w, info, err
		}
	}
	if err = w.prepareRPC(d, run, reg, win, clock); err != nil {
		return w, info, err
	}
	if err = w.prepareProducers(ctx, d, run, reg, win, clock); err != nil {
		return w, info, err
	}
	w.limited.Store(w.limitedWorkers())
	for _, c := range w.conns {
		c.redeclare = w.topo.redeclare
	}
	admin.watch(context.Background())
	return w, info, nil
}

// prepareConsumers declares the queues and subscribes the consumers. An
// exclusive queue is declared on the connection of its first consumer (the
// only connection that may use it); every other queue on the admin one.
func (w *workload) prepareConsumers(ctx context.Context, d *dialer, run string, reg *metrics.Registry, win *metrics.Window, clock *stamp.Clock) error {
	sc := w.sc
	for _, spec := range sc.Queues {
		for _, name := range spec.Names() {
			w.topo.queues = append(w.topo.queues, &queue{spec: spec, name: name})
		}
	}
	conns := make([]*conn, scenario.ConnectionCount(sc.Consumers.Count, sc.Consumers.Connections))
	var quota *atomic.Int64
	if sc.Consumers.Messages > 0 {
		quota = &atomic.Int64{}
		quota.Store(sc.Consumers.Messages)
	}
	for i := 0; i < sc.Consumers.Count; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ci := scenario.ConnectionOf(i, sc.Consumers.Count, sc.Consumers.Connections)
		cn, err := w.connFor(d, conns, ci, run, "consumer")
		if err != nil {
			return err
		}
		q := w.topo.queues[i%len(w.topo.queues)]
		if q.owner == nil {
			owner := w.topo.admin
			if q.spec.Exclusive {
				owner = cn
			}
			if err := w.topo.declareQueue(q, owner); err != nil {
				return err
			}
		}
		q.consumers++
		c := &consumer{
			id: i, conn: cn, q: q, m: reg.NewWorker(), clock: clock, win: win,
			ack: sc.Consumers.Ack, every: sc.Consumers.MultiAckEvery, delay: sc.Consumers.Delay.D(),
			quota: quota, onQuota: func() { w.emit(report.StopMessageCount) }, fail: w.fail,
			flush: w.flush, finished: make(chan struct{}),
		}
		if sc.Producers.Audited() {
			c.audit = audit.NewConsumer(sc.Producers.Count)
		}
		deliveries, err := c.subscribe(sc.Consumers.Prefetch, sc)
		if err != nil {
			return err
		}
		w.consumers = append(w.consumers, c)
		go c.run(w.start, deliveries)
	}
	for _, q := range w.topo.queues { // queues nobody consumes from
		if q.owner == nil {
			if err := w.topo.declareQueue(q, w.topo.admin); err != nil {
				return err
			}
		}
	}
	return nil
}

// prepareProducers opens every producer's channel; they wait for the start
// signal in Start.
func (w *workload) prepareProducers(ctx context.Context, d *dialer, run string, reg *metrics.Registry, win *metrics.Window, clock *stamp.Clock) error {
	sc := w.sc
	p := sc.Producers
	keys := w.topo.publishKeys()
	conns := make([]*conn, scenario.ConnectionCount(p.Count, p.Connections))
	schedule := p.PaceSchedule()
	w.routes = w.topo.routes(keys, scenario.Table(p.Headers))
	mode := uint8(1) // transient
	if p.Persistent {
		mode = 2
	}
	for i := 0; i < p.Count; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		cn, err := w.connFor(d, conns, scenario.ConnectionOf(i, p.Count, p.Connections), run, "producer")
		if err != nil {
			return err
		}
		pr := &producer{
			id: i, conn: cn, m: reg.NewWorker(), clock: clock, win: win,
			exchange: sc.Exchange.Name, keys: keys, mandator: p.Mandatory, schedule: schedule,
			limit: split(p.Messages, p.Count, i), fail: w.fail,
			buf: make([]byte, p.MaxSize()), sizes: newSizeDraw(p.SizeDistribution),
			rng: rand.New(rand.NewPCG(uint64(i), rngSeed)),
		}
		if schedule != nil && p.StartJitter > 0 {
			pr.jitter = time.Duration(pr.rng.Int64N(int64(p.StartJitter)))
		}
		if p.Audited() && len(w.consumers) > 0 {
			pr.audit = &audit.Producer{Confirms: p.Confirm > 0}
		}
		pr.msg.DeliveryMode = mode
		pr.msg.Headers = scenario.Table(p.Headers)
		if err := pr.open(p.Confirm, p.Mandatory); err != nil {
			return err
		}
		w.producers = append(w.producers, pr)
	}
	return nil
}

// limitedWorkers counts the workers that stop by themselves at a limit.
func (w *workload) limitedWorkers() int64 {
	var n int64
	for _, p := range w.producers {
		if p.limit >= 0 {
			n++
		}
	}
	for _, c := range w.rpcClients {
		if c.limit >= 0 {
			n++
		}
	}
	return n
}

// split gives worker i its share of total messages over n workers (the
// first total%n get one more), so the shares add up exactly; without a
// total (0) there is no limit (-1).
func split(total int64, n, i int) int64 {
	if total <= 0 || n <= 0 {
		return -1
	}
	q := total / int64(n)
	if int64(i) < total%int64(n) {
		q++
	}
	return q
}

// rngSeed seeds the producers' random draws (sizes, jitter): fixed, so a
// scenario draws the same sequence every run.
const rngSeed = 0x6d7162656e6368

func runID() string {
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCost returns total CPU seconds and peak resident memory.
func processCost() (cpuS float64, maxRSS int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return cpuTime().Seconds(), ru.Maxrss * 1024 // Linux reports KiB
}
