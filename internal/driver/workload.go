package driver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

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
	roles      []running   // every kind of worker the run has (roles.go)
	keys       *keyRing    // the producers' routing keys
	model      *routeModel // which queues each message reaches (the audit's expectations)
	minBody    int         // the smallest body the producers send (a length limit's evidence)
	runID      uint64      // this run's identity in every audited body
	shardWait  time.Duration
	// shardStop is the stop reason a sharded run's shards coordinate ("":
	// none; see shardstop.go).
	shardStop string
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
	// readingEnds is set when Finish starts reading what the queues hold
	// at the end. A publisher channel whose close the broker answers
	// after that had its messages routed after those reads (a saturated
	// broker may take many seconds to read what the socket holds): they
	// stay unknown, not received, or the reads would call them lost.
	readingEnds atomic.Bool
	backlog     atomic.Pointer[result.Backlog] // the latest sample; nil when it could not be read
	// checkpoints is how often the producers' progress is logged (0:
	// never): a TTL's evidence needs when each message was published.
	checkpoints time.Duration

	accounts  []*account // the audit's accounts (prepareAudit)
	auditNote string     // why part of the run is not audited
	endNotes  []string   // what made the end-of-run reading incomplete
	// unreceived is how many published messages were in no queue yet
	// when the load stopped (-1: not known).
	unreceived int64

	refusal atomic.Pointer[error] // the first publish the broker refused after its producer's quota (refusedPublish)

	mgmt   *mgmt.Client                        // nil without --management-url
	phases *phaseControl                       // nil without phases (phase.go)
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

// refusedPublish fails the run because the broker closed a producer's
// channel on what it published, found once the producer had met its
// quota: the run may have decided to stop already, so Finish returns it
// too (the engine reads no more events after the stop).
func (w *workload) refusedPublish(err error) {
	w.refusal.CompareAndSwap(nil, &err)
	w.fail(err)
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
	for _, r := range w.roles {
		r.start(w)
	}
	close(w.start)
	w.goAndTrack(w.sampleBacklog)
	if w.checkpoints > 0 {
		w.goAndTrack(w.logProgress)
	}
	for _, q := range w.limitedQueues() {
		w.goAndTrack(func() { w.watchLimit(q) })
	}
	if w.mgmt != nil {
		w.goAndTrack(w.sampleBroker)
	}
	if w.sc.Consumers.ExitWhen != "" && len(w.consumers) > 0 {
		w.goAndTrack(w.watchExit) // a shard without consumers has nothing to watch
	}
	if w.shardStop != "" {
		w.goAndTrack(w.watchShardStop)
	}
}

// exitQuiet is how long nothing may arrive before --exit-when empty
// believes an empty queue: a message can be on its way.
const exitQuiet = 500 * time.Millisecond

// watchExit ends the run when the consumers' queues are empty (and
// nothing arrived for a moment), or when nothing arrived for exit_idle.
func (w *workload) watchExit() {
	k := w.sc.Consumers
	idle := k.ExitIdle.D()
	if idle == 0 {
		idle = scenario.DefaultExitIdle
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
			w.stopLocally(result.StopIdle)
			return
		case k.ExitWhen == scenario.ExitEmpty && quiet >= exitQuiet && w.consumedQueuesEmpty():
			w.stopLocally(result.StopQueuesEmpty)
			return
		}
	}
}

// producerDone books a producer that left its publish loop, having met
// its message limit or not.
func (w *workload) producerDone(p *producer, met bool) {
	p.done.Store(true)
	w.publishing.Done()
	if met {
		w.limitMet()
	}
}

// limitMet counts down the workers with a message limit; when the last one
// has met its limit the run has reached its message count. A worker that
// stopped for another reason (the run's duration, a schedule that ends)
// never counts down.
func (w *workload) limitMet() {
	if !w.stopping.Load() && w.limited.Add(-1) == 0 {
		w.stopLocally(result.StopMessageCount)
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

// inParallel calls fn on every item, closeParallel at a time, and waits
// for them within ctx: false when ctx ended first (a broker that does not
// answer; the calls left end when their connections close).
func inParallel[T any](ctx context.Context, items []T, fn func(T)) bool {
	work := make(chan T)
	var wg sync.WaitGroup
	for range min(len(items), closeParallel) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				fn(it)
			}
		}()
	}
	go func() { // on its own, so that stuck calls cannot hold up the wait
		defer close(work)
		for _, it := range items {
			work <- it
		}
	}()
	return waitCtx(ctx, &wg)
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

// rpcQueue is the RPC request queue, nil without RPC.
func (w *workload) rpcQueue() *queue {
	for _, q := range w.topo.queues {
		if q.rpc {
			return q
		}
	}
	return nil
}
