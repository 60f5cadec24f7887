package driver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/scenario"
)

// workload is the AMQP implementation of engine.Workload.
type workload struct {
	sc         *scenario.Scenario
	topo       *topology
	conns      []*conn // every connection, admin first
	producers  []*producer
	consumers  []*consumer
	rpcClients []*rpcClient
	rpcServers []*rpcServer
	routes     [][]bool // key index → queue index → routed there (the audit's expectations)

	start    chan struct{}
	stop     chan struct{}
	stopping atomic.Bool
	abandon  chan struct{} // closed when waiting for confirms is given up
	flush    chan struct{} // closed at the end of the drain

	publishing sync.WaitGroup // producers still in their publish loop
	confirming sync.WaitGroup // producers waiting for confirms, RPC clients for replies
	limited    atomic.Int64   // workers with a message limit that have not met it

	events     chan engine.Event
	closing    atomic.Bool // set once Finish starts: failures after that are ours
	backlog    atomic.Int64
	hasLog     atomic.Bool
	blocks     *blockLog
	recoveries *recoveryLog
	sampler    chan struct{}
}

// fail reports a fatal error once; later ones and those caused by our own
// clean-up are dropped.
func (w *workload) fail(err error) {
	if w.closing.Load() {
		return
	}
	select {
	case w.events <- engine.Event{Reason: report.StopError, Err: err}:
	default:
	}
}

func (w *workload) emit(reason string) {
	select {
	case w.events <- engine.Event{Reason: reason}:
	default:
	}
}

// Start releases every worker at once and starts sampling queue depth.
func (w *workload) Start() {
	for _, p := range w.producers {
		w.publishing.Add(1)
		w.confirming.Add(1)
		go func(p *producer) {
			p.run(w.start, &w.stopping, w.stop)
			w.publishing.Done()
			if p.limit >= 0 {
				w.limitMet()
			}
			p.awaitConfirms(w.abandon)
			w.confirming.Done()
		}(p)
	}
	for _, c := range w.rpcClients {
		w.confirming.Add(1)
		go func(c *rpcClient) {
			c.run(w.start, w.stop, w.abandon)
			w.confirming.Done()
			if c.limit >= 0 {
				w.limitMet()
			}
		}(c)
	}
	close(w.start)
	go w.sampleBacklog()
}

// limitMet counts down the workers with a message limit; when the last one
// is done the run has reached its message count.
func (w *workload) limitMet() {
	if !w.stopping.Load() && w.limited.Add(-1) == 0 {
		w.emit(report.StopMessageCount)
	}
}

// Events reports message-count completion and failures.
func (w *workload) Events() <-chan engine.Event { return w.events }

// StopLoad stops every producer and waits until none can publish again,
// or until ctx ends: a producer stuck in a write to a connection the broker
// blocks (a resource alarm) must not hang the run; Finish closes its
// connection.
func (w *workload) StopLoad(ctx context.Context) {
	if w.stopping.CompareAndSwap(false, true) {
		close(w.stop)
	}
	stopped := make(chan struct{})
	go func() { w.publishing.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
	}
}

// Drain waits for outstanding confirms, then lets consumers empty their
// queues until nothing has arrived for a quiet period and no consumed queue
// holds a ready message, or ctx ends.
func (w *workload) Drain(ctx context.Context) {
	confirmed := make(chan struct{})
	go func() { w.confirming.Wait(); close(confirmed) }()
	select {
	case <-confirmed:
	case <-ctx.Done():
	}
	defer close(w.flush)
	if len(w.consumers) == 0 {
		return
	}
	quiet := 300 * time.Millisecond
	if d := 3 * w.sc.Consumers.Delay.D(); d > quiet {
		quiet = d
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last, since := w.consumedSoFar(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n := w.consumedSoFar(); n != last {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) >= quiet && w.consumedQueuesEmpty() {
			return
		}
	}
}

func (w *workload) consumedSoFar() int64 {
	var n int64
	for _, c := range w.consumers {
		n += c.m.Load(metrics.Consumed)
	}
	return n
}

// consumedQueuesEmpty reports whether every queue with consumers has no
// ready message. Streams keep their messages, so only quiet counts there.
func (w *workload) consumedQueuesEmpty() bool {
	for _, q := range w.topo.queues {
		if q.consumers == 0 || q.spec.Type == scenario.QueueStream {
			continue
		}
		if n, err := q.depth(); err != nil || n > 0 {
			return false
		}
	}
	return true
}

// Disconnected returns how many workers wait for a lost connection.
func (w *workload) Disconnected() int { return int(w.recoveries.disconnected.Load()) }

// Blocked returns how many connections the broker blocks right now.
func (w *workload) Blocked() int { return int(w.blocks.now.Load()) }

// Backlog returns the last sampled number of ready messages over all queues.
func (w *workload) Backlog() (int64, bool) { return w.backlog.Load(), w.hasLog.Load() }

// sampleBacklog reads queue depths (passive declares) in its own goroutine,
// so a slow broker never delays the collector.
func (w *workload) sampleBacklog() {
	t := time.NewTicker(w.sc.Interval.D())
	defer t.Stop()
	for {
		var total int64
		ok := true
		for _, q := range w.topo.queues {
			if q.spec.Type == scenario.QueueStream {
				continue
			}
			n, err := q.depth()
			if err != nil {
				ok = false
				break
			}
			total += n
		}
		if ok {
			w.backlog.Store(total)
			w.hasLog.Store(true)
		}
		select {
		case <-w.sampler:
			return
		case <-t.C:
		}
	}
}

// Finish cancels consumers, deletes the topology (unless kept) and closes
// every connection, recording per-queue figures in r.
func (w *workload) Finish(ctx context.Context, r *report.Result) error {
	w.closing.Store(true)
	if w.sampler != nil {
		close(w.sampler)
	}
	if w.stopping.CompareAndSwap(false, true) {
		close(w.stop)
	}
	select {
	case <-w.abandon:
	default:
		close(w.abandon)
	}
	var finished []chan struct{}
	for _, c := range w.consumers {
		c.cancel()
		finished = append(finished, c.finished)
	}
	for _, s := range w.rpcServers {
		s.cancel()
		finished = append(finished, s.finished)
	}
	for _, c := range w.rpcClients {
		finished = append(finished, c.finished)
	}
	for _, f := range finished {
		select {
		case <-f:
		case <-ctx.Done():
		}
	}
	w.fillQueues(r)
	r.Faults.Blocked = w.blocks.snapshot()
	r.Audit = w.reconcile()
	w.recoveries.fill(&r.Faults)
	var err error
	if !w.sc.Keep {
		err = w.topo.teardown()
	}
	for _, c := range w.conns {
		c.close()
	}
	return err
}

func (w *workload) fillQueues(r *report.Result) {
	per := map[*queue]int64{}
	var maxUnacked int64
	for _, c := range w.consumers {
		select {
		case <-c.finished:
			per[c.q] += c.m.LoadMeasured(metrics.Consumed)
			if c.maxUnacked > maxUnacked {
				maxUnacked = c.maxUnacked
			}
		default: // still running: its counts are not safe to read
		}
	}
	if len(w.consumers) > 0 && w.sc.Consumers.Ack != scenario.AckAuto {
		r.Totals.MaxUnacked = &maxUnacked
	}
	for _, s := range w.rpcServers {
		per[w.rpcQueue()] += s.m.LoadMeasured(metrics.RPCServed)
	}
	for _, q := range w.topo.queues {
		out := report.Queue{Name: q.name, Type: q.spec.Type, Consumers: q.consumers, Consumed: per[q], RPC: q.rpc}
		if q.spec.Type != scenario.QueueStream {
			if n, err := q.depth(); err == nil {
				out.Depth = &n
			}
		}
		r.Queues = append(r.Queues, out)
	}
}

func (w *workload) rpcQueue() *queue {
	for _, q := range w.topo.queues {
		if q.rpc {
			return q
		}
	}
	return nil
}

// brokerInfo reads the product and version the broker announced.
func brokerInfo(c *amqp.Connection) (product, version string) {
	p, _ := c.Properties["product"].(string)
	v, _ := c.Properties["version"].(string)
	return p, v
}

func connName(run, role string, i int) string { return fmt.Sprintf("mqbench-%s-%s-%d", run, role, i) }
