package driver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/audit"
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
	closing atomic.Bool                    // set once Finish starts: failures after that are ours
	backlog atomic.Pointer[result.Backlog] // the latest sample; nil when it could not be read
	// checkpoints is how often the producers' progress is logged (0:
	// never): a TTL's evidence needs when each message was published.
	checkpoints time.Duration

	accounts  []*account // the audit's accounts (prepareAudit)
	auditNote string     // why part of the run is not audited
	closePub  sync.Once  // the publishers' channels are closed once
	// unreceived is how many published messages were in no queue yet
	// when the load stopped (-1: not known).
	unreceived int64

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
	alone, groups := pacedGroups(w.producers)
	for _, p := range alone {
		w.publishing.Add(1)
		w.confirming.Add(1)
		w.goAndTrack(func() {
			w.producerDone(p, p.run(w.ctx, w.start, &w.stopping, w.stop))
			p.awaitConfirms(w.abandon)
			w.confirming.Done()
		})
	}
	for _, g := range groups {
		w.publishing.Add(len(g))
		w.confirming.Add(len(g))
		w.goAndTrack(func() {
			runPacedGroup(w.ctx, g, w.start, &w.stopping, w.stop, w.producerDone)
			for _, p := range g {
				p.awaitConfirms(w.abandon)
				w.confirming.Done()
			}
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

// Drain waits for outstanding confirms and replies, closes the
// publishers' channels (so that what they sent is in the queues before
// any depth is read), then lets consumers empty their queues until
// nothing has arrived for a quiet period and nothing waits — ready in a
// queue or delivered and unprocessed in the client — or ctx ends.
func (w *workload) Drain(ctx context.Context) engine.DrainResult {
	w.unreceived = w.notYetQueued()
	waitCtx(ctx, &w.confirming)
	w.closePublishers(ctx)
	defer close(w.flush)
	if len(w.consumers) == 0 {
		return engine.DrainResult{Ended: result.DrainNone}
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
			return engine.DrainResult{Ended: result.DrainTimeout, LastConsumed: w.lastConsumed()}
		case <-tick.C:
		}
		if n := w.consumedSoFar(); n != last {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) >= quiet && w.consumedQueuesEmpty() && w.heldInClient() == 0 {
			return engine.DrainResult{Ended: result.DrainEmpty, LastConsumed: w.lastConsumed()}
		}
	}
}

// notYetQueued estimates how many published messages had not reached
// their queues when the load stopped: what the producers routed to every
// queue, less what was consumed, is ready or is held in the client. Without
// confirms a broker applying flow control leaves them in the publishers'
// socket buffers. -1 when it cannot be told: in a sharded run (the other
// shards' counts are elsewhere), with consumers that refuse, or queues
// whose arguments let the broker drop messages (those would count too).
func (w *workload) notYetQueued() int64 {
	if w.sc.Shard.Sharded() || w.sc.Consumers.Refuses() || w.routes == nil {
		return -1
	}
	var routed, consumed int64
	for qi, q := range w.topo.queues {
		if q.rpc || q.spec.Type == scenario.QueueStream || mayDrop(q.spec) {
			if q.rpc {
				continue
			}
			return -1
		}
		routes := make([]bool, w.keys.n)
		for k := range routes {
			routes[k] = w.routes[k][qi]
		}
		pattern := audit.NewPattern(routes)
		for _, p := range w.producers {
			routed += int64(pattern.Expected(p.id, uint64(p.m.Load(metrics.Published))))
		}
	}
	for _, c := range w.consumers {
		consumed += c.m.Load(metrics.Consumed)
	}
	b, ok := w.readBacklog()
	if !ok {
		return -1
	}
	return max(0, routed-consumed-b.Ready-b.Delivered)
}

// lastConsumed is when any consumer last consumed a message (0: never).
func (w *workload) lastConsumed() int64 {
	var at int64
	for _, c := range w.consumers {
		at = max(at, c.lastAt.Load())
	}
	return at
}

// closePublishers closes, once, the channel of every producer that left
// its publish loop, in parallel (bounded by ctx): an answered close means
// the broker read everything sent on it. A producer still stuck in a
// write keeps its channel; Finish closes its connection.
func (w *workload) closePublishers(ctx context.Context) {
	w.closePub.Do(func() {
		var wg sync.WaitGroup
		work := make(chan *producer)
		for range min(len(w.producers), closeParallel) {
			wg.Add(1)
			w.goAndTrack(func() {
				defer wg.Done()
				for p := range work {
					p.closeChannel()
				}
			})
		}
		for _, p := range w.producers {
			select {
			case work <- p:
			case <-ctx.Done():
			}
		}
		close(work)
		waitCtx(ctx, &wg)
	})
}

// closeParallel bounds the channels closed at once at the end.
const closeParallel = 32

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

// Backlog returns the latest sample of what waits to be consumed.
func (w *workload) Backlog() (result.Backlog, bool) {
	if b := w.backlog.Load(); b != nil {
		return *b, true
	}
	return result.Backlog{}, false
}

// sampleBacklog reads what waits to be consumed every interval, in its
// own goroutine, so a slow broker never delays the collector. A sample
// that cannot be read is unknown (nil), never the previous one again.
func (w *workload) sampleBacklog() {
	t := time.NewTicker(w.sc.Interval.D())
	defer t.Stop()
	for {
		if b, ok := w.readBacklog(); ok {
			w.backlog.Store(&b)
		} else {
			w.backlog.Store(nil)
		}
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logProgress logs every producer's published count every checkpoints,
// until the workload ends: the audit tells from it which missing messages
// waited longer than a queue's TTL.
func (w *workload) logProgress() {
	t := time.NewTicker(w.checkpoints)
	defer t.Stop()
	for {
		now := time.Now().UnixNano()
		for _, p := range w.producers {
			if p.audit != nil {
				p.audit.Times.Add(now, uint64(p.m.Load(metrics.Published)))
			}
		}
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// limitedQueues are the audited queues whose length limit drops messages
// (this process reads what is left in them).
func (w *workload) limitedQueues() []*queue {
	var out []*queue
	for _, a := range w.accounts {
		if !a.stream && w.sc.Shard.Owner() && dropsAtLimit(a.q.spec) {
			out = append(out, a.q)
		}
	}
	return out
}

// watchLimit reads q's depth every limitPoll until it sees the queue at
// its length limit once — the evidence that the broker dropped from its
// head — or the workload ends. A burst fills and drains a small queue
// between two backlog samples; this sees it.
func (w *workload) watchLimit(q *queue) {
	t := time.NewTicker(limitPoll)
	defer t.Stop()
	for {
		if n, err := q.depth(); err == nil {
			raiseMax(&q.maxDepth, n)
			if lengthLimit(q.spec, n, w.sc.Producers.MinSize()) != "" {
				return
			}
		}
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// raiseMax raises m to v if v is larger.
func raiseMax(m *atomic.Int64, v int64) {
	for old := m.Load(); v > old && !m.CompareAndSwap(old, v); old = m.Load() {
	}
}

// limitPoll is how often a length-limited queue's depth is read until it
// is seen at its limit.
const limitPoll = 5 * time.Millisecond

// readBacklog reads every queue's ready messages (passive declares, and
// the deepest each got, for the audit), what the client holds delivered
// and unprocessed, and the streams' lag.
func (w *workload) readBacklog() (result.Backlog, bool) {
	var b result.Backlog
	for _, q := range w.topo.queues {
		if q.spec.Type == scenario.QueueStream {
			continue
		}
		n, err := q.depth()
		if err != nil {
			return b, false
		}
		b.Ready += n
		raiseMax(&q.maxDepth, n)
	}
	b.Delivered = w.heldInClient()
	b.StreamLag = w.streamLag()
	return b, true
}

// heldInClient is what the broker delivered to the consumers' connections
// that no consumer has processed yet: per connection, the deliveries its
// current generation received less those processed by the consumers
// subscribed on that generation.
func (w *workload) heldInClient() int64 {
	handled := map[*amqpconn.Conn]int64{}
	for _, c := range w.consumers {
		cn := c.h.Conn()
		if gen, _ := cn.Deliveries(); c.subGen.Load() == gen {
			handled[cn] += c.handled.Load()
		} else if _, ok := handled[cn]; !ok {
			handled[cn] = 0
		}
	}
	var held int64
	for cn, done := range handled {
		_, got := cn.Deliveries()
		held += max(0, got-done)
	}
	return held
}

// streamLag is, over the streams and their readers, the messages routed
// to a stream (by this process's producers) that the reader has not read.
func (w *workload) streamLag() int64 {
	var lag int64
	for qi, q := range w.topo.queues {
		if q.spec.Type != scenario.QueueStream || q.consumers == 0 || w.routes == nil {
			continue
		}
		routes := make([]bool, w.keys.n)
		for k := range routes {
			routes[k] = w.routes[k][qi]
		}
		pattern := audit.NewPattern(routes)
		var routed int64
		for _, p := range w.producers {
			routed += int64(pattern.Expected(p.id, uint64(p.m.Load(metrics.Published))))
		}
		for _, c := range w.consumers {
			if c.q == q {
				lag += max(0, routed-c.m.Load(metrics.Consumed))
			}
		}
	}
	return lag
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
