package driver

import (
	"fmt"
	"strings"
	"time"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/routing"
	"github.com/mqbench/mqbench/internal/scenario"
)

// routes says, for each route — a routing key (by index) and a set of
// headers, numbered key + len(keys) × header set — and each queue,
// whether the exchange routes a message there, from the bindings mqbench
// made, so the audit knows exactly which queue owes which message (see
// routeModel). Keys are indexes: a server-named queue renamed by a
// reconnect keeps its index, and its key follows the new name.
func (t *topology) routes(keys []string, headers []map[string]any, rules routing.Rules) [][]bool {
	ex := t.sc.Exchange
	out := make([][]bool, len(keys)*len(headers))
	for r := range out {
		key, h := keys[r%len(keys)], headers[r/len(keys)]
		out[r] = make([]bool, len(t.queues))
		for qi, q := range t.queues {
			if q.rpc {
				continue
			}
			if ex.Name == "" {
				out[r][qi] = q.currentName() == key
				continue
			}
			for _, b := range q.bound {
				out[r][qi] = out[r][qi] || rules.Routes(ex.Type, b.Key, scenario.Table(b.Arguments), key, h)
			}
		}
	}
	return out
}

// audited reports whether q is in the audit: a queue of the scenario that
// has consumers in the whole run (consumer i reads queue i mod queues), in
// whichever shard they run.
func (w *workload) audited(q *queue) bool {
	return !q.rpc && q.index < w.sc.Consumers.Count
}

// account is one account of the audit — a queue's competing consumers
// together, or one reader of a stream — and the consumers recording
// into it.
type account struct {
	q         *queue
	a         *audit.Account
	consumers []*consumer
	stream    bool // a stream reader's: whatever it did not read is still in the stream
}

// prepareAudit opens the audit's accounts and gives each audited consumer
// its handle on its account; it runs once the routing is known (after the
// producers are prepared), before the start signal.
func (w *workload) prepareAudit() {
	sc := w.sc
	if !sc.Producers.Audited() || sc.Producers.Count == 0 || sc.Consumers.Count == 0 || w.model == nil {
		return
	}
	opts := audit.Options{Spill: audit.DefaultSpill, GapCap: audit.DefaultGapCap}
	if sc.Shard.Sharded() {
		// Each shard sees a share of every queue's messages: the holes are
		// the other shards' deliveries, not doubt, and only the merge fills
		// them. They stay in the window, one bit per message.
		opts.Spill = 0
	}
	for qi, q := range w.topo.queues {
		if !w.audited(q) {
			continue
		}
		pattern := w.model.pattern(qi)
		o := opts
		o.DeliveryLimit = deliveryLimit(q.spec, w.brokerMajor) != ""
		_, _, o.TTL = w.messageTTL(q)
		stream := q.spec.Type == scenario.QueueStream
		var shared *account
		for _, c := range w.consumers {
			switch {
			case c.q != q:
			case stream && !auditableOffset(sc.Consumers.StreamOffset):
				w.auditNote = "stream consumers starting at offset " + sc.Consumers.StreamOffset + " owe an unknown part of the stream and are not audited"
			case stream:
				a := &account{q: q, stream: true, consumers: []*consumer{c},
					a: audit.NewAccount(fmt.Sprintf("%s (consumer %d)", q.currentName(), c.id), pattern, sc.Producers.Count, o)}
				w.accounts = append(w.accounts, a)
				c.audit = a.a.NewConsumer()
			default:
				if shared == nil {
					shared = &account{q: q, a: audit.NewAccount(q.currentName(), pattern, sc.Producers.Count, o)}
					w.accounts = append(w.accounts, shared)
				}
				shared.consumers = append(shared.consumers, c)
				c.audit = shared.a.NewConsumer()
			}
		}
		if shared == nil && !stream { // this shard has none of its consumers: its owner still reads what was left
			w.accounts = append(w.accounts, &account{q: q, a: audit.NewAccount(q.currentName(), pattern, sc.Producers.Count, o)})
		}
	}
	for _, c := range w.consumers {
		c.deadLetter = w.deadLettered
	}
}

// deadLettered books producer id's message seq, dead-lettered from the
// queue named from, into that queue's account: the broker dropped it
// there, and here is the proof. False when from is not an audited queue.
func (w *workload) deadLettered(from string, id int, seq uint32) bool {
	for _, a := range w.accounts {
		if !a.stream && a.q.currentName() == from {
			a.a.Record(id, seq, audit.DeadLettered, 0) // not a delivery: no later-arrival mark
			return true
		}
	}
	return false
}

// progressEvery is how often the producers' progress is logged for the
// audit (0: never): when an audited queue has a message TTL (its own or
// the messages' expiration), a tenth of the shortest one (5 ms to an
// interval), so that a message that waited longer than the TTL is told
// from one that did not to within that.
func (w *workload) progressEvery() time.Duration {
	var every time.Duration
	for _, a := range w.accounts {
		if ms, _, ok := w.messageTTL(a.q); ok {
			d := min(max(time.Duration(ms)*time.Millisecond/10, 5*time.Millisecond), w.sc.Interval.D())
			if every == 0 || d < every {
				every = d
			}
		}
	}
	return every
}

// auditableOffset reports whether a stream reader starting there owes a
// known part of the stream (all of it).
func auditableOffset(off string) bool {
	return off == "" || off == scenario.OffsetFirst || off == scenario.OffsetNext
}

// auditState gathers what the audit needs from this process: its
// producers' sides, and per account its tracks, its consumers' own counts
// and (where this process read the queue at the end) the evidence. It
// runs after every producer and consumer stopped. Nil when the run is not
// audited.
func (w *workload) auditState(ends map[*queue]audit.Evidence) *audit.State {
	sc := w.sc
	if len(w.accounts) == 0 {
		return nil
	}
	st := &audit.State{Version: audit.StateVersion, Producers: sc.Producers.Count, Keys: w.model.period, Note: w.auditNote}
	for _, p := range w.producers {
		if a := p.audit; a != nil {
			st.Publishers = append(st.Publishers, audit.ProducerState{ID: p.id, Published: a.Published, Confirms: a.Confirms,
				Acked: a.Acked, Received: a.Received, Times: a.Times.Points,
				AckedCounted: a.Acked.Counted(), ReceivedCounted: a.Received.Counted()})
		}
	}
	byQueue := map[*queue]int{}
	for _, acc := range w.accounts {
		qi, ok := byQueue[acc.q]
		if !ok {
			qi = len(st.Queues)
			byQueue[acc.q] = qi
			st.Queues = append(st.Queues, audit.QueueState{Index: acc.q.index, Name: acc.q.currentName(), Routes: acc.a.Pattern.Routes()})
		}
		g := audit.GroupState{Name: acc.a.Name, Tracks: acc.a.State()}
		if !acc.stream {
			g.Name = acc.q.currentName() // renamed by a reconnect, perhaps
		}
		for _, c := range acc.consumers {
			select {
			case <-c.finished:
				g.Consumers.Add(c.audit.ConsumerCounts)
			default: // still running: its own counts are not safe to read
				st.Incomplete = true
				st.Note = "a consumer did not stop in time; its own counts (redelivered, order) are not in the audit"
			}
		}
		switch {
		case acc.stream:
			g.End = &audit.Evidence{Stream: true} // what it did not read is still in the stream
		case sc.Shard.Owner():
			ev := ends[acc.q]
			g.End = &ev
		}
		st.Queues[qi].Groups = append(st.Queues[qi].Groups, g)
	}
	for _, n := range w.endNotes {
		st.Incomplete = true
		st.Note = strings.TrimPrefix(st.Note+"; "+n, "; ")
	}
	return st
}

// publishedSoFar is what this process's producers published.
func (w *workload) publishedSoFar() int64 {
	var n int64
	for _, p := range w.producers {
		n += p.m.Load(metrics.Published)
	}
	return n
}

// reconcile audits every queue mqbench's consumers read: what each owed
// (the messages routed to it), what arrived, what was lost. A shard of a
// sharded run does not: it saves its state for mqbench merge, which
// reconciles the whole run's.
func (w *workload) reconcile(ends map[*queue]audit.Evidence) (*result.Audit, error) {
	st := w.auditState(ends)
	if st == nil {
		return nil, nil
	}
	memory := w.auditMemory()
	if w.sc.Shard.Sharded() {
		note := fmt.Sprintf("shard %s: this shard's part of the audit only; mqbench merge reconciles the whole run's", w.sc.Shard)
		return &result.Audit{MemoryBytes: memory, State: st, Note: note, Partial: true}, nil
	}
	out, err := result.ReconcileAudit(st, memory)
	if err == nil && w.sc.Shard != nil {
		out.State = st // --shard 0/1: the whole run, and mergeable
	}
	return out, err
}

// auditMemory is what the audit's state took: accounts, consumers'
// order tables, producers' ranges.
func (w *workload) auditMemory() int64 {
	var n int64
	for _, p := range w.producers {
		if p.audit != nil {
			n += p.audit.Bytes()
		}
	}
	for _, a := range w.accounts {
		n += a.a.Bytes()
	}
	for _, c := range w.consumers {
		if c.audit != nil {
			n += c.audit.Bytes()
		}
	}
	return n
}

// warnings says what the workload saw that the figures alone do not:
// queues that held other messages before the run; published messages
// that had not reached their queues when the load stopped.
func (w *workload) warnings() []string {
	var out []string
	if n := w.unreceived; n > 1000 && n*100 > w.publishedSoFar() && w.sc.Producers.Confirm == 0 {
		out = append(out, fmt.Sprintf("when the load stopped about %d published messages had not reached their queues yet: "+
			"they were in the publishers' socket buffers, held back by the broker's flow control, so the publish rate is what mqbench wrote, "+
			"faster than the broker took them in (the queues received them during the drain); with --confirm the confirmed rate is what the broker accepted", n))
	}
	for _, q := range w.topo.queues {
		if q.before > 0 && !q.rpc {
			out = append(out, fmt.Sprintf("queue %s held %d messages before the run began: they are not this run's "+
				"(counted as foreign when consumed, left out of latency, rates and the audit)", q.currentName(), q.before))
		}
	}
	return out
}
