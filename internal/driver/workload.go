package driver

import (
	"context"

	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/mgmt"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// workload is the AMQP implementation of engine.Workload.
type workload struct {
	// ctx is the workers' lifetime, apart from the run's (an interrupted
	// run still drains and cleans up): Finish, or a setup that fails,
	// cancels it, which ends every recovery, backoff and wait at once.
	ctx    context.Context
	cancel context.CancelFunc

	sc         *scenario.Scenario
	dialer     *amqpconn.Dialer
	topo       *topology
	conns      []*amqpconn.Conn // every connection, admin first
	producers  []*producer
	consumers  []*consumer
	rpcClients []*rpcClient
	rpcServers []*rpcServer
	keys       *keyRing // the producers' routing keys
	routes     [][]bool // key index → queue index → routed there (the audit's expectations)
	runID      uint64   // this run's identity in every audited body
	shardWait  time.Duration
	// brokerMajor is the broker's major version (0 when it did not say):
	// some defaults differ between releases.
	brokerMajor int

	start    chan struct{}
	stop     chan struct{}
	stopping atomic.Bool
	abandon  chan struct{} // closed when waiting for confirms is given up
	flush    chan struct{} // closed at the end of the drain

	publishing sync.WaitGroup // producers still in their publish loop
	confirming sync.WaitGroup // producers waiting for confirms, RPC clients for replies
	goroutines sync.WaitGroup // every goroutine the workload started
	limited    atomic.Int64   // workers with a message limit that have not met it

	events  chan engine.Event
	closing atomic.Bool // set once Finish starts: failures after that are ours
	backlog atomic.Int64
	hasLog  atomic.Bool

	mgmt   *mgmt.Client                        // nil without --management-url
	broker atomic.Pointer[result.BrokerSample] // its latest sample
}

// fail reports a fatal error once; later ones and those caused by our own
// clean-up are dropped.
func (w *workload) fail(err error) {
	if w.closing.Load() {
		return
	}
	select {
	case w.events <- engine.Event{Reason: result.StopError, Err: err}:
	default:
	}
}

func (w *workload) emit(reason string) {
	select {
	case w.events <- engine.Event{Reason: reason}:
	default:
	}
}

// goAndTrack runs fn in a goroutine the workload waits for at its end.
func (w *workload) goAndTrack(fn func()) {
	w.goroutines.Add(1)
	go func() {
		defer w.goroutines.Done()
		fn()
	}()
}

// Start releases every worker at once and starts sampling queue depth.
func (w *workload) Start() {
	for _, p := range w.producers {
		w.publishing.Add(1)
		w.confirming.Add(1)
		w.goAndTrack(func() {
			met := p.run(w.ctx, w.start, &w.stopping, w.stop)
			w.publishing.Done()
			if met {
				w.limitMet()
			}
			p.awaitConfirms(w.abandon)
			w.confirming.Done()
		})
	}
	for _, c := range w.rpcClients {
		w.confirming.Add(1)
		w.goAndTrack(func() {
			met := c.run(w.ctx, w.start, w.stop, w.abandon)
			w.confirming.Done()
			if met {
				w.limitMet()
			}
		})
	}
	close(w.start)
	w.goAndTrack(w.sampleBacklog)
	if w.mgmt != nil {
		w.goAndTrack(w.sampleBroker)
	}
	if w.sc.Consumers.ExitWhen != "" {
		w.goAndTrack(w.watchExit)
	}
}

// exitQuiet is how long nothing may arrive before --exit-when empty
// believes an empty queue: a message can be on its way.
const exitQuiet = 500 * time.Millisecond

// defaultExitIdle is --exit-idle's default.
const defaultExitIdle = 2 * time.Second

// watchExit ends the run when the consumers' queues are empty (and
// nothing arrived for a moment), or when nothing arrived for exit_idle.
func (w *workload) watchExit() {
	k := w.sc.Consumers
	idle := k.ExitIdle.D()
	if idle == 0 {
		idle = defaultExitIdle
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	last, since := w.consumedSoFar(), time.Now()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
		if n := w.consumedSoFar(); n != last {
			last, since = n, time.Now()
			continue
		}
		quiet := time.Since(since)
		switch {
		case k.ExitWhen == scenario.ExitIdle && quiet >= idle:
			w.emit(result.StopIdle)
			return
		case k.ExitWhen == scenario.ExitEmpty && quiet >= exitQuiet && w.consumedQueuesEmpty():
			w.emit(result.StopQueuesEmpty)
			return
		}
	}
}

// limitMet counts down the workers with a message limit; when the last one
// has met its limit the run has reached its message count. A worker that
// stopped for another reason (the run's duration, a schedule that ends)
// never counts down.
func (w *workload) limitMet() {
	if !w.stopping.Load() && w.limited.Add(-1) == 0 {
		w.emit(result.StopMessageCount)
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
	waitCtx(ctx, &w.publishing)
}

// Drain waits for outstanding confirms and replies, then lets consumers
// empty their queues until nothing has arrived for a quiet period and no
// consumed queue holds a ready message, or ctx ends.
func (w *workload) Drain(ctx context.Context) {
	waitCtx(ctx, &w.confirming)
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

// waitCtx waits for wg or ctx, whichever comes first.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *workload) consumedSoFar() int64 {
	var n int64
	for _, c := range w.consumers {
		n += c.m.Load(metrics.Consumed) + c.m.Load(metrics.Foreign) + c.m.Load(metrics.Refused)
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
func (w *workload) Disconnected() int { return w.dialer.Faults().Disconnected() }

// ConnectionsUp returns how many of the workload's connections are open.
func (w *workload) ConnectionsUp() int {
	n := 0
	for _, c := range w.conns {
		if c.Up() {
			n++
		}
	}
	return n
}

// Blocked returns how many connections the broker blocks right now.
func (w *workload) Blocked() int { return w.dialer.Faults().Blocked() }

// BrokerSample returns the management API's latest sample, or nil.
func (w *workload) BrokerSample() *result.BrokerSample { return w.broker.Load() }

// sampleBroker reads the management API every interval in its own
// goroutine (a slow API never delays the collector); a failed read keeps
// the previous sample.
func (w *workload) sampleBroker() {
	t := time.NewTicker(w.sc.Interval.D())
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(w.ctx, w.sc.Interval.D())
		if s, err := w.mgmt.Sample(ctx); err == nil {
			w.broker.Store(&s)
		}
		cancel()
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
	}
}

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
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Finish stops every worker, records per-queue figures and faults, deletes
// the topology (unless kept), closes every connection, waits for every
// goroutine the workload started, and only then reconciles the audit: no
// worker touches its bitsets any more.
func (w *workload) Finish(ctx context.Context) (engine.Final, error) {
	w.closing.Store(true)
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
	var shardWarning string
	if w.sc.Shard.Sharded() && w.sc.Shard.Owner() {
		// What is left in the queues, and their depth at the end, are
		// known only once the other shards' consumers have gone.
		wait, cancel := context.WithTimeout(ctx, w.othersGoneWait())
		shardWarning = w.awaitOthersGone(wait)
		cancel()
	}
	var final engine.Final
	final.Queues, final.MaxUnacked = w.queueFigures()
	final.Faults = w.dialer.Faults().Snapshot()
	final.Connections = w.dialer.Connections()
	ends := w.queueEnds(ctx)
	w.cancel()
	var err error
	if !w.sc.Keep {
		err = w.topo.teardown()
	}
	w.closeAll(ctx)
	var aerr error
	if final.Audit, aerr = w.reconcile(ends); err == nil {
		err = aerr
	}
	final.Warnings = w.warnings()
	if shardWarning != "" {
		final.Warnings = append(final.Warnings, shardWarning)
	}
	if w.crossShard(final.Audit) {
		final.Warnings = append(final.Warnings, crossShardWarning)
	}
	return final, err
}

// closeAll closes every connection and waits (within ctx) for every
// goroutine the workload started: workers, confirm trackers, samplers.
func (w *workload) closeAll(ctx context.Context) {
	w.cancel()
	for _, c := range w.conns {
		c.Close()
	}
	waitCtx(ctx, &w.goroutines)
	for _, p := range w.producers {
		p.stopped(ctx)
	}
}

// queueFigures is each queue's share of the run and the most deliveries
// one consumer held unacknowledged (null with automatic acks).
func (w *workload) queueFigures() ([]result.Queue, *int64) {
	per := map[*queue]int64{}
	var maxUnacked int64
	for _, c := range w.consumers {
		select {
		case <-c.finished:
			per[c.q] += c.m.LoadMeasured(metrics.Consumed)
			maxUnacked = max(maxUnacked, c.maxUnacked)
		default: // still running: its counts are not safe to read
		}
	}
	var mu *int64
	if len(w.consumers) > 0 && w.sc.Consumers.Ack != scenario.AckAuto {
		mu = &maxUnacked
	}
	for _, s := range w.rpcServers {
		per[w.rpcQueue()] += s.m.LoadMeasured(metrics.RPCServed)
	}
	var out []result.Queue
	for _, q := range w.topo.queues {
		r := result.Queue{Name: q.currentName(), Type: q.spec.Type, Consumers: q.consumers, Consumed: per[q], RPC: q.rpc}
		if q.spec.Type != scenario.QueueStream {
			if n, err := q.depth(); err == nil {
				r.Depth = &n
			}
		}
		if q.spec.Type == scenario.QueueQuorum || q.spec.Type == scenario.QueueStream {
			r.LeaderLocator = q.spec.LeaderLocator
			if v, ok := q.spec.Arguments["x-queue-leader-locator"].(string); ok && r.LeaderLocator == "" {
				r.LeaderLocator = v
			}
			if r.LeaderLocator == "" {
				r.LeaderLocator = "broker default"
			}
		}
		out = append(out, r)
	}
	w.placements(out)
	return out, mu
}

// maxPlacements bounds how many queues' placement is read from the
// management API at the end (one request each), and placementWait how long
// that may take.
const (
	maxPlacements = 1000
	placementWait = 10 * time.Second
)

// placements reads each queue's leader and members from the management
// API, when there is one; a queue it cannot read keeps none.
func (w *workload) placements(qs []result.Queue) {
	if w.mgmt == nil {
		return
	}
	u, err := amqp.ParseURI(w.sc.URL)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), placementWait)
	defer cancel()
	for i := range qs[:min(len(qs), maxPlacements)] {
		p, err := w.mgmt.Placement(ctx, u.Vhost, qs[i].Name)
		if err != nil {
			continue
		}
		qs[i].Leader, qs[i].Members = p.Leader, p.Members
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
