package driver

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Finish stops every worker, records per-queue figures and faults, deletes
// the topology (unless kept), closes every connection, waits for every
// goroutine the workload started, and only then reconciles the audit: no
// worker touches its bitsets any more.
func (w *workload) Finish(ctx context.Context) (engine.Final, error) {
	w.closing.Store(true)
	if w.stopping.CompareAndSwap(false, true) {
		close(w.stop)
	}
	w.closePublishers(ctx) // done already, unless the drain was skipped
	select {
	case <-w.abandon:
	default:
		close(w.abandon)
	}
	var finished []<-chan struct{}
	for _, r := range w.roles {
		r.cancel()
		finished = append(finished, r.done()...)
	}
	for _, f := range finished {
		select {
		case <-f:
		case <-ctx.Done():
		}
	}
	w.closeConsumers(ctx)
	// Nothing this process measures is running any more: the workers'
	// garbage is collected and handed back before the audit and the
	// result are built, so that building them does not raise the run's
	// peak memory above its steady state's (by a few MB at thousands of
	// workers). It takes a full collection, some tens of milliseconds at
	// most, out of the time Finish is given.
	debug.FreeOSMemory()
	var shardWarning string
	if w.sc.Shard.Sharded() && w.sc.Shard.Owner() {
		// What is left in the queues, and their depth at the end, are
		// known only once the other shards' consumers have gone.
		wait, cancel := context.WithTimeout(ctx, w.othersGoneWait())
		shardWarning = w.awaitOthersGone(wait)
		cancel()
	}
	var final engine.Final
	final.LastConsumed = w.lastConsumed()
	final.Queues, final.MaxUnacked = w.queueFigures()
	final.Faults = w.dialer.Faults().Snapshot()
	final.Connections = w.dialer.Connections()
	w.readingEnds.Store(true)
	w.awaitConsumersGone(ctx)
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
	final.Kinds = w.kindFigures()
	if shardWarning != "" {
		final.Warnings = append(final.Warnings, shardWarning)
	}
	if w.crossShard(final.Audit) {
		final.Warnings = append(final.Warnings, crossShardWarning)
	}
	if r := w.refusal.Load(); r != nil && err == nil {
		err = *r
	}
	return final, err
}

// closeConsumers closes the channels of the consumers that acknowledge
// (they left their loop without handling what the client still held):
// the broker puts those deliveries back in their queues, where the sweep
// finds them as left, instead of their vanishing with the connection.
func (w *workload) closeConsumers(ctx context.Context) {
	var acking []*consumer
	for _, c := range w.consumers {
		if c.ack == scenario.AckAuto {
			continue // nothing held is the broker's any more
		}
		select {
		case <-c.finished:
			acking = append(acking, c)
		default: // still running (or stuck): its connection closes later
		}
	}
	inParallel(ctx, acking, func(c *consumer) { _ = c.h.Ch().Close() })
}

// closeAll closes every connection and waits (within ctx) for every
// goroutine the workload started: workers, confirm trackers, samplers. The
// admin connection (conns[0]) closes last: in a sharded run it holds the
// shard's marker, which says the shard is still there.
func (w *workload) closeAll(ctx context.Context) {
	w.cancel()
	for i := len(w.conns) - 1; i >= 0; i-- {
		w.conns[i].Close()
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
