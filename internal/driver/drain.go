package driver

import (
	"context"
	"sync"
	"time"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

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
	if len(w.consumers) == 0 || w.phases.consumersStopped() {
		// Nobody will consume: a phase stopped the consumers for good.
		return engine.DrainResult{Ended: result.DrainNone, LastConsumed: w.lastConsumed()}
	}
	w.phases.resumeForDrain()
	quiet := 300 * time.Millisecond
	if d := 3 * max(w.sc.Consumers.ProcessingDelay().Average(), w.sc.PhaseConsumerDelay()); d > quiet {
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
// whose arguments (or the messages' expiration) let the broker drop
// messages (those would count too).
func (w *workload) notYetQueued() int64 {
	if w.sc.Shard.Sharded() || w.sc.Consumers.Refuses() || w.model == nil {
		return -1
	}
	var routed, consumed int64
	for qi, q := range w.topo.queues {
		if q.rpc || q.spec.Type == scenario.QueueStream || mayDrop(q.spec) || w.sc.Producers.ExpirationMillis() > 0 {
			if q.rpc {
				continue
			}
			return -1
		}
		pattern := w.model.pattern(qi)
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
	// A delivery processed and left unacknowledged at a crash is consumed
	// once more when it comes back (or waits ready again): count it once.
	return max(0, routed-consumed-b.Ready-b.Delivered+w.crashedUnacked())
}

// lastConsumed is when any consumer last consumed a message (0: never).
func (w *workload) lastConsumed() int64 {
	var at int64
	for _, c := range w.consumers {
		at = max(at, c.lastAt.Load())
	}
	return at
}

// closePublishers closes the channel of every producer that left its
// publish loop and has not been closed yet, in parallel (bounded by ctx):
// an answered close means the broker read everything sent on it. A
// producer still stuck in a write keeps its channel (Finish calls this
// again, and then closes its connection).
func (w *workload) closePublishers(ctx context.Context) {
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
send:
	for _, p := range w.producers {
		if !p.done.Load() || !p.closed.CompareAndSwap(false, true) {
			continue
		}
		select {
		case work <- p:
		case <-ctx.Done(): // every closer stuck: the connections close later
			p.closed.Store(false)
			break send
		}
	}
	close(work)
	waitCtx(ctx, &wg)
}

// closeParallel bounds the channels closed at once at the end.
const closeParallel = 32
