package driver

import (
	"context"
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// sweepTimeout bounds reading what is left in the queues at the end; what
// it does not read is counted from the queue's depth instead.
const sweepTimeout = 30 * time.Second

// sweepQuiet is how long the sweep waits for another message once the
// queue reports none ready.
const sweepQuiet = 200 * time.Millisecond

// consumersGoneWait bounds how long the end waits for the broker to drop
// the consumers mqbench closed, and consumersGonePoll how often it looks.
const (
	consumersGoneWait = 10 * time.Second
	consumersGonePoll = 50 * time.Millisecond
)

// awaitConsumersGone waits until the broker lists no more consumers on
// each audited queue than it had before the run: only then are the
// deliveries they held unacknowledged back in the queue (a quorum queue
// returns them when it applies the consumer's removal, after the channel
// closed), and only then do the reads that follow see them. A queue whose
// consumers outlast the wait gets a note: what they held may be missing
// from what is left. Not in a sharded run, where the owner waits for the
// other shards instead.
func (w *workload) awaitConsumersGone(ctx context.Context) {
	if w.sc.Shard.Sharded() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, consumersGoneWait)
	defer cancel()
	t := time.NewTicker(consumersGonePoll)
	defer t.Stop()
	for _, a := range w.accounts {
		q := a.q
		if a.stream || q.consumers == 0 {
			continue
		}
		for ctx.Err() == nil {
			_, n, err := q.stat()
			if err != nil || n <= q.consumersBefore {
				break // gone (an unreadable queue gets its note from evidence)
			}
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				w.endNotes = append(w.endNotes, fmt.Sprintf("the broker still listed %d consumers on queue %s %v after mqbench's closed: what they held may not be back in it, and may be counted lost", n, q.currentName(), consumersGoneWait))
			}
			break
		}
	}
}

// queueEnds finds, for every audited queue, what the run left in it and
// what the broker was seen to do to it (the evidence a missing message
// may be explained by). A queue mqbench declared and is about to delete
// is read to the end, so each message left is known exactly; a queue that
// stays (an existing one, or --keep) is only counted, from its depth.
// Other queues mqbench declared and is about to delete are read too, for
// messages dead-lettered from an audited queue. It runs after the
// publishers' channels closed and the consumers stopped, before the
// topology is deleted.
func (w *workload) queueEnds(ctx context.Context) map[*queue]audit.Evidence {
	out := map[*queue]audit.Evidence{}
	if len(w.accounts) == 0 || !w.sc.Shard.Owner() { // in a sharded run, the owner reads what is left
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	for _, a := range w.accounts {
		if a.stream {
			continue
		}
		q := a.q
		if q.created && !w.sc.Keep {
			w.sweep(ctx, q, a.a)
		}
		out[q] = w.evidence(q)
	}
	for _, q := range w.topo.queues { // the others, for dead letters only
		if !w.audited(q) && !q.rpc && q.created && !w.sc.Keep && q.spec.Type != scenario.QueueStream {
			w.sweep(ctx, q, nil)
		}
	}
	return out
}

// evidence is what the broker was seen to do to q, read once its sweep is
// over: its delivery limit, TTL, whether it was at its length limit,
// whether it is gone, and what is still in it.
func (w *workload) evidence(q *queue) audit.Evidence {
	ev := audit.Evidence{DeliveryLimit: deliveryLimit(q.spec, w.brokerMajor), TTLEnd: time.Now().UnixNano()}
	ev.TTLMillis, ev.TTLFrom, _ = w.messageTTL(q)
	if d := q.maxDepth.Load(); d > 0 {
		ev.LengthLimit = lengthLimit(q.spec, d, w.minBody)
	}
	n, err := q.depth()
	switch {
	case err == nil:
		// What the queue held before the run and no consumer took is not
		// this run's, and never stands in for a missing message.
		ev.Depth = max(0, n-max(0, q.before-w.foreignFrom(q)))
		if ev.LengthLimit == "" {
			ev.LengthLimit = lengthLimit(q.spec, n, w.minBody)
		}
	case amqpconn.IsCode(err, amqp.NotFound):
		if v, ok := q.spec.Arguments["x-expires"]; ok {
			ev.Expired = fmt.Sprintf("x-expires %v (the queue expired: it was gone at the end)", v)
		}
	default: // what is still in it is unknown: nothing can be called lost
		w.endNotes = append(w.endNotes, fmt.Sprintf("the depth of queue %s could not be read at the end (%v): what is missing from it may be left in it", q.currentName(), err))
	}
	return ev
}

// messageTTL is the TTL q's messages live by — the queue's x-message-ttl
// or the messages' own expiration, whichever is shorter — and which one it
// is (audit.TTLExpiration for the messages' own); false when neither.
// Every message has the same expiration, so the queue stays first in,
// first out for expiry, as the audit's evidence assumes.
func (w *workload) messageTTL(q *queue) (ms int64, from string, ok bool) {
	ms, ok = intArg(q.spec.Arguments, "x-message-ttl")
	if e := w.sc.Producers.ExpirationMillis(); e > 0 && (!ok || e < ms) {
		return e, audit.TTLExpiration, true
	}
	return ms, "", ok
}

// foreignFrom counts the deliveries from q that were not this run's.
func (w *workload) foreignFrom(q *queue) int64 {
	var n int64
	for _, c := range w.consumers {
		if c.q == q {
			n += c.m.Load(metrics.Foreign)
		}
	}
	return n
}

// sweep reads every message left in q with automatic acks (the queue is
// about to be deleted): this run's are left in acct (nil: not audited),
// and those dead-lettered from an audited queue are booked there.
func (w *workload) sweep(ctx context.Context, q *queue, acct *audit.Account) {
	h, err := q.owner.Open("sweep of "+q.currentName(), nil)
	if err != nil {
		return
	}
	defer func() { _ = h.Ch().Close() }()
	deliveries, err := h.Ch().Consume(q.currentName(), "mqbench-sweep", true, false, false, false, nil)
	if err != nil {
		return
	}
	quiet := time.NewTimer(sweepQuiet)
	defer quiet.Stop()
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return
			}
			w.swept(&d, acct)
			quiet.Reset(sweepQuiet)
		case <-quiet.C:
			if n, err := q.depth(); err != nil || n == 0 {
				return
			}
			quiet.Reset(sweepQuiet)
		case <-ctx.Done():
			// Cut short: what the broker already handed over (automatic
			// acks: gone from the queue) is read to the end, so the depth
			// counts exactly the rest.
			_ = h.Ch().Cancel("mqbench-sweep", false)
			w.sweepRest(deliveries, acct)
			return
		}
	}
}

// sweepRest books the deliveries a cancelled sweep still receives, until
// the library closes their channel (bounded by sweepRestWait).
func (w *workload) sweepRest(deliveries <-chan amqp.Delivery, acct *audit.Account) {
	limit := time.NewTimer(sweepRestWait)
	defer limit.Stop()
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return
			}
			w.swept(&d, acct)
		case <-limit.C:
			return
		}
	}
}

// sweepRestWait bounds reading what a cancelled sweep was already sent.
const sweepRestWait = 5 * time.Second

// swept books one message read by the sweep.
func (w *workload) swept(d *amqp.Delivery, acct *audit.Account) {
	st := stampOf(d)
	id, run, ok := stamp.Run(st)
	if !ok || run != w.runID {
		return
	}
	seq, _, _ := stamp.Read(st)
	if from := deadLetteredFrom(d.Headers); from != "" && w.deadLettered(from, id, seq) {
		return
	}
	if acct != nil {
		acct.Record(id, seq, audit.Left, 0)
	}
}

// deadLetteredFrom is the queue a message was dead-lettered from (its
// most recent x-death entry), "" when it never was.
func deadLetteredFrom(h amqp.Table) string {
	deaths, ok := h["x-death"].([]any)
	if !ok || len(deaths) == 0 {
		return ""
	}
	first, ok := deaths[0].(amqp.Table)
	if !ok {
		return ""
	}
	q, _ := first["queue"].(string)
	return q
}

// deliveryLimit describes q's delivery limit, "" without one. From
// RabbitMQ 4 every quorum queue has one (20 unless set).
func deliveryLimit(q scenario.Queue, brokerMajor int) string {
	if v, ok := q.Arguments["x-delivery-limit"]; ok {
		return fmt.Sprintf("x-delivery-limit %v", v)
	}
	if q.Type == scenario.QueueQuorum && brokerMajor >= 4 {
		return "a quorum queue's delivery limit (20 by default from RabbitMQ 4)"
	}
	return ""
}

// lengthLimit describes q's length limit when a depth of depth ready
// messages (of at least minSize bytes each) reaches it, and the limit
// drops messages (overflow drop-head, the default); "" otherwise.
func lengthLimit(q scenario.Queue, depth int64, minSize int) string {
	if !dropsAtLimit(q) {
		return ""
	}
	if n, ok := intArg(q.Arguments, "x-max-length"); ok && depth >= n {
		return fmt.Sprintf("x-max-length %d (the queue was at it: %d ready seen)", n, depth)
	}
	if n, ok := intArg(q.Arguments, "x-max-length-bytes"); ok && depth*int64(minSize) >= n {
		return fmt.Sprintf("x-max-length-bytes %d (the queue was at it: %d ready seen, at least %d bytes each)", n, depth, minSize)
	}
	return ""
}

// dropsAtLimit reports whether q has a length limit at which the broker
// drops messages (overflow drop-head, the default; reject-publish refuses
// new ones instead, which the publisher sees as nacks).
func dropsAtLimit(q scenario.Queue) bool {
	if o, ok := q.Arguments["x-overflow"]; ok && o != "drop-head" {
		return false
	}
	_, count := intArg(q.Arguments, "x-max-length")
	_, size := intArg(q.Arguments, "x-max-length-bytes")
	return count || size
}

// mayDrop reports whether q's arguments let the broker remove messages
// by itself.
func mayDrop(q scenario.Queue) bool {
	for _, k := range []string{"x-message-ttl", "x-max-length", "x-max-length-bytes", "x-expires", "x-delivery-limit"} {
		if _, ok := q.Arguments[k]; ok {
			return true
		}
	}
	return q.Type == scenario.QueueQuorum // RabbitMQ 4's default delivery limit
}

// intArg reads a whole-number queue argument, as YAML or flags give it.
func intArg(args map[string]any, key string) (int64, bool) {
	switch v := args[key].(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}
