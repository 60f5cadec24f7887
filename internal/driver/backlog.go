package driver

import (
	"sync/atomic"
	"time"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Backlog returns the latest sample of what waits to be consumed.
func (w *workload) Backlog() (result.Backlog, bool) {
	if b := w.backlog.Load(); b != nil {
		return *b, true
	}
	return result.Backlog{}, false
}

// ReadBacklog reads what waits to be consumed now (a passive declare per
// queue), apart from the sampler.
func (w *workload) ReadBacklog() (result.Backlog, bool) { return w.readBacklog() }

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
			if lengthLimit(q.spec, n, w.minBody) != "" {
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
		if q.spec.Type != scenario.QueueStream || q.consumers == 0 || w.model == nil {
			continue
		}
		pattern := w.model.pattern(qi)
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
