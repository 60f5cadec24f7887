package audit

import "unsafe"

// Producer is one producer's side: what it published and what the broker
// confirmed. Owned by the producer's goroutine.
type Producer struct {
	Published uint32 // messages 0..Published-1 were sent
	Acked     Bitset // confirmed (basic.ack) by the broker
	Confirms  bool   // publisher confirms were on
}

// Consumer is one consumer's view of one queue. Owned by the consumer's
// goroutine.
type Consumer struct {
	// Per producer: dense when there are few producers (an index is
	// cheapest), sparse otherwise — with thousands of producers each
	// consumer only ever hears from some, and a dense table per consumer
	// would cost memory proportional to producers × consumers.
	dense       []seen
	sparse      map[int]*seen
	producers   int
	Duplicates  int64 // deliveries of a message this consumer already had
	Redelivered int64 // deliveries flagged redelivered by the broker
	OutOfOrder  int64 // a sequence below one already seen from the same producer
	Foreign     int64 // messages without mqbench's audit stamp, or from another run
}

type seen struct {
	set     Bitset
	refused Bitset // refused without requeue (nack or reject): the broker drops or dead-letters it
	last    int64  // last sequence seen, -1 before any
}

// denseMax is the producer count up to which consumers index producers
// directly.
const denseMax = 64

// NewConsumer returns a consumer view for n producers.
func NewConsumer(producers int) *Consumer {
	c := &Consumer{producers: producers}
	if producers <= denseMax {
		c.dense = make([]seen, producers)
		for i := range c.dense {
			c.dense[i].last = -1
		}
	} else {
		c.sparse = map[int]*seen{}
	}
	return c
}

// get returns producer id's state, creating it (sparse) on first use.
func (c *Consumer) get(id int) *seen {
	if c.dense != nil {
		return &c.dense[id]
	}
	s := c.sparse[id]
	if s == nil {
		s = &seen{last: -1}
		c.sparse[id] = s
	}
	return s
}

// peek returns producer id's state, or nil if nothing came from it.
func (c *Consumer) peek(id int) *seen {
	if c.dense != nil {
		return &c.dense[id]
	}
	return c.sparse[id]
}

// Deliver records one delivery of message seq from producer id (ok false:
// the body carried no audit stamp of this run).
func (c *Consumer) Deliver(id int, seq uint32, ok, redelivered bool) {
	if redelivered {
		c.Redelivered++
	}
	if !ok || id < 0 || id >= c.producers {
		c.Foreign++
		return
	}
	s := c.get(id)
	if s.set.Set(seq) {
		c.Duplicates++
	}
	if int64(seq) < s.last {
		c.OutOfOrder++
	} else {
		s.last = int64(seq)
	}
}

// Redelivery counts a delivery the broker flagged redelivered that was
// not recorded by Deliver (a refused one).
func (c *Consumer) Redelivery(redelivered bool) {
	if redelivered {
		c.Redelivered++
	}
}

// Refuse records that message seq from producer id was refused without
// requeue (basic.nack or basic.reject): the broker drops it, or
// dead-letters it, so it is not consumed and will not be seen again.
func (c *Consumer) Refuse(id int, seq uint32) {
	if id < 0 || id >= c.producers {
		return
	}
	c.get(id).refused.Set(seq)
}

// Bytes is the memory of the consumer's state: the bitsets' words and,
// per producer it heard from, the entry that holds them (in the sparse
// form also its map slot, counted as a key and a pointer — the map's own
// overhead on top is not counted). With thousands of producers the entries
// outweigh the words: a consumer that hears once from each producer keeps
// about a hundred bytes per producer, not one bit.
func (c *Consumer) Bytes() int64 {
	entry := int64(unsafe.Sizeof(seen{}))
	n := entry * int64(len(c.dense))
	for i := range c.dense {
		n += c.dense[i].set.Bytes() + c.dense[i].refused.Bytes()
	}
	n += (entry + sparseSlot) * int64(len(c.sparse))
	for _, s := range c.sparse {
		n += s.set.Bytes() + s.refused.Bytes()
	}
	return n
}

// sparseSlot is a sparse entry's map slot: its key and its pointer.
const sparseSlot = int64(unsafe.Sizeof(int(0)) + unsafe.Sizeof((*seen)(nil)))

// Queue is the reconciled account of one queue. Every message routed to
// it is exactly one of consumed, left, dropped, lost or unconfirmed:
// Expected = Consumed + Left + Dropped + Lost + Unconfirmed.
type Queue struct {
	Name string `json:"name"`
	// Expected is how many messages the producers routed to this queue.
	Expected int64 `json:"expected"`
	// Consumed counts distinct expected messages delivered.
	Consumed int64 `json:"consumed"`
	// Left: not consumed, and still in the queue when the run ended
	// (found there by reading what was left, or from its final depth).
	Left int64 `json:"left"`
	// Dropped: not consumed, not in the queue, and the queue's own
	// arguments allowed the broker to drop it (DropReason says which: a
	// length limit, a message TTL, dead-lettering, a delivery limit).
	Dropped    int64  `json:"dropped"`
	DropReason string `json:"drop_reason,omitempty"`
	// Lost: confirmed by the broker, and none of the above — the broker
	// promised to keep it and did not.
	Lost int64 `json:"lost"`
	// Unconfirmed: never confirmed (no confirms, nacked, or in flight when
	// a connection or the run ended), not consumed and not left — the
	// broker promised nothing.
	Unconfirmed int64 `json:"unconfirmed"`
	Duplicates  int64 `json:"duplicates"`
	Redelivered int64 `json:"redelivered"`
	OutOfOrder  int64 `json:"out_of_order"`
	// Unexpected counts deliveries of messages this queue should not have
	// received (routing disagrees) or that carry no stamp of this run.
	Unexpected int64 `json:"unexpected"`
}

// Balanced reports whether every expected message is accounted for exactly
// once, and nothing unexpected arrived.
func (q Queue) Balanced() bool {
	return q.Expected == q.Consumed+q.Left+q.Dropped+q.Lost+q.Unconfirmed && q.Unexpected == 0
}

// End is what is known of a queue when the run ended, beyond what its
// consumers received.
type End struct {
	// Swept holds the messages read from the queue after the consumers
	// stopped (what was left in it), or nil when it was not read.
	Swept *Consumer
	// Depth is the number of this run's messages still in the queue that
	// Swept does not hold (a kept queue is not read; only counted).
	Depth int64
	// DropReason is set when the queue's arguments let the broker drop
	// messages ("x-max-length 1000"); "" when they do not.
	DropReason string
}

// Reconcile accounts for one queue. routed reports whether producer id's
// message seq was routed to this queue; consumers are the queue's
// consumers (competing consumers are audited together).
func Reconcile(name string, producers []*Producer, routed func(id int, seq uint32) bool, consumers []*Consumer, end End) Queue {
	q := Queue{Name: name}
	merged := make([]Bitset, len(producers))
	refused := make([]Bitset, len(producers))
	for _, c := range consumers {
		q.Duplicates += c.Duplicates
		q.Redelivered += c.Redelivered
		q.OutOfOrder += c.OutOfOrder
		q.Unexpected += c.Foreign
		for id := range merged {
			if s := c.peek(id); s != nil {
				q.Duplicates += merged[id].Merge(&s.set) // delivered to two consumers
				refused[id].Merge(&s.refused)
			}
		}
	}
	var t tally
	for id, p := range producers {
		if p == nil { // a producer of another shard, or one that never ran
			p = &Producer{}
		}
		var swept *Bitset
		if end.Swept != nil {
			if s := end.Swept.peek(id); s != nil {
				swept = &s.set
			}
		}
		t.producer(&q, p, func(seq uint32) bool { return routed(id, seq) }, &merged[id], swept, &refused[id])
		// Anything consumed beyond what was published is not of this run.
		q.Unexpected += merged[id].CountFrom(p.Published)
	}
	q.Unconfirmed = t.unconfirmed
	q.settle(end)
	if t.refused > 0 {
		q.Dropped += t.refused
		q.DropReason = joinReasons("refused by the consumers without requeue", q.DropReason)
	}
	return q
}

// tally is what Reconcile counts beside the queue's own figures.
type tally struct {
	refused     int64 // refused without requeue, so dropped by the broker
	unconfirmed int64 // not consumed nor found, never confirmed
}

// producer accounts for each message of p routed to the queue: consumed,
// left (swept), refused, lost (confirmed) or unconfirmed.
func (t *tally) producer(q *Queue, p *Producer, routed func(seq uint32) bool, consumed, swept, refused *Bitset) {
	for seq := uint32(0); seq < p.Published; seq++ {
		got := consumed.Has(seq)
		if !routed(seq) {
			if got {
				q.Unexpected++
			}
			continue
		}
		q.Expected++
		switch {
		case got:
			q.Consumed++
		case swept != nil && swept.Has(seq):
			q.Left++
		case refused.Has(seq):
			t.refused++
		case p.Confirms && p.Acked.Has(seq):
			q.Lost++
		default:
			t.unconfirmed++
		}
	}
}

func joinReasons(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// settle moves messages known only by count out of lost: those the final
// depth says are still in the queue are left, and when the queue's
// arguments let the broker drop messages, the rest of the confirmed ones
// not found are dropped. What remains lost, nothing explains.
func (q *Queue) settle(end End) {
	left := min(end.Depth, q.Lost+q.Unconfirmed)
	fromLost := min(left, q.Lost)
	q.Lost -= fromLost
	q.Unconfirmed -= left - fromLost
	q.Left += left
	if end.DropReason != "" && q.Lost > 0 {
		q.Dropped, q.Lost, q.DropReason = q.Lost, 0, end.DropReason
	}
}

// Add sums o into q (for totals over queues).
func (q *Queue) Add(o Queue) {
	q.Expected += o.Expected
	q.Consumed += o.Consumed
	q.Left += o.Left
	q.Dropped += o.Dropped
	q.Lost += o.Lost
	q.Unconfirmed += o.Unconfirmed
	q.Duplicates += o.Duplicates
	q.Redelivered += o.Redelivered
	q.OutOfOrder += o.OutOfOrder
	q.Unexpected += o.Unexpected
	if q.DropReason == "" {
		q.DropReason = o.DropReason
	} else if o.DropReason != "" && o.DropReason != q.DropReason {
		q.DropReason = "several (see the queues)"
	}
}
