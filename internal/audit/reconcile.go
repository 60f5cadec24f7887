package audit

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Evidence is what mqbench saw the broker do to a queue: the only
// explanations a missing message may be given. A message nothing here
// explains, that the broker took, is lost.
type Evidence struct {
	// DeliveryLimit describes the queue's delivery limit ("x-delivery-limit
	// 5"), "" without one: a message refused with requeue there and never
	// seen again was dropped by it.
	DeliveryLimit string `json:"delivery_limit,omitempty"`
	// TTLMillis is the TTL the queue's messages live by (0: none) and
	// TTLEnd when the queue was last read (Unix ns): a message published
	// more than the TTL before that, never consumed, and no later message
	// of its producer consumed before its TTL ran out (the queue is first
	// in, first out), waited longer than the TTL. TTLFrom says whose TTL
	// it is: "" the queue's x-message-ttl, TTLExpiration the messages' own
	// expiration property (the shorter of the two counts).
	TTLMillis int64  `json:"ttl_ms,omitempty"`
	TTLEnd    int64  `json:"ttl_end,omitempty"`
	TTLFrom   string `json:"ttl_from,omitempty"`
	// LengthLimit describes the length limit the queue was seen at during
	// the run ("x-max-length 50, depth 50"), "" when it never was: the
	// broker dropped messages from its head, how many only it knows.
	LengthLimit string `json:"length_limit,omitempty"`
	// Expired says the queue was gone at the end (an x-expires queue the
	// broker deleted), "" otherwise.
	Expired string `json:"expired,omitempty"`
	// Depth is the number of this run's messages still in the queue that
	// were not read at the end (a queue mqbench keeps is only counted; a
	// sweep cut short leaves some), messages from before the run excluded.
	Depth int64 `json:"depth"`
	// Stream: a stream reader's account. A stream keeps what it took:
	// whatever the broker took that the reader did not read is left in
	// it; what it never took (nacked, unknown) is not.
	Stream bool `json:"stream,omitempty"`
}

// TTLExpiration is Evidence.TTLFrom when the TTL is the messages' own
// expiration property.
const TTLExpiration = "expiration"

// Reconcile accounts for every message the producers routed to the
// account. producers is indexed by producer id (nil: a producer that never
// ran, or whose side is not known here); cc sums the account's consumers'
// own counts. It costs what is in doubt — gaps, windows, ranges — not the
// messages sent. approx is how many messages were classified by count
// only (their positions given up to bound memory).
func (a *Account) Reconcile(producers []*Producer, cc ConsumerCounts, ev Evidence) (q Queue, approx uint64) {
	q = Queue{Name: a.Name, Redelivered: cc.Redelivered, OutOfOrder: cc.OutOfOrder, Unexpected: cc.Unexpected + cc.Foreign}
	var t tally
	for id := range a.tracks {
		var p *Producer
		if id < len(producers) {
			p = producers[id]
		}
		if p == nil {
			p = &Producer{}
		}
		t.add(a.reconcileOne(id, p, ev, &q))
	}
	q.settle(t, ev)
	return q, t.approx
}

// tally is where the missing messages of an account went.
type tally struct {
	lostCand    int64 // the broker took them: lost unless something explains it
	unconfirmed int64
	unknown     int64
	refused     int64
	deadLetter  int64
	ttl         int64
	limit       int64
	approx      uint64
}

func (t *tally) add(o tally) {
	t.lostCand += o.lostCand
	t.unconfirmed += o.unconfirmed
	t.unknown += o.unknown
	t.refused += o.refused
	t.deadLetter += o.deadLetter
	t.ttl += o.ttl
	t.limit += o.limit
	t.approx += o.approx
}

// notKnown books n missing messages the broker did not promise to keep.
func (t *tally) notKnown(confirms bool, n int64) {
	if confirms {
		t.unconfirmed += n
	} else {
		t.unknown += n
	}
}

// reconcileOne accounts for producer id's messages.
func (a *Account) reconcileOne(id int, p *Producer, ev Evidence, q *Queue) tally {
	exp := a.Pattern.Expected(id, uint64(p.Published))
	q.Expected += int64(exp)
	tr := a.tracks[id].Load()
	if tr == nil {
		tr = newTrack(0, 0)
	}
	c := tr.counts
	if tr.hi > exp { // accounted for, yet beyond what was published: not this run's
		beyond := tr.hi - exp - min(tr.hi-exp, tr.missingCount(exp, tr.hi))
		q.Unexpected += int64(beyond)
		c[Consumed] -= min(c[Consumed], beyond)
	}
	q.Consumed += int64(c[Consumed])
	q.Left += int64(c[Left])
	q.Duplicates += int64(tr.dups)
	t := tally{refused: int64(c[Refused]), deadLetter: int64(c[DeadLettered]),
		approx: tr.gaps.Uncounted() + tr.gaps.Ambiguous + p.Acked.Uncounted() + p.Received.Uncounted()}
	cl := classifier{pt: a.Pattern, id: id, p: p, marks: &tr.marks, ev: ev}
	tr.missing(0, exp, func(from, to uint64) { cl.run(from, to, &t) })
	for _, g := range tr.gaps.Counted() {
		if g.From < exp {
			cl.counted(g, exp, &t)
		}
	}
	if ev.DeliveryLimit != "" {
		tr.requeued.Each(0, exp, func(from, to uint64) {
			for o := from; o < to; o++ {
				cl.requeued(o, &t)
			}
		})
	}
	return t
}

// classifier sorts a producer's missing messages by what the broker
// promised of them and what explains their absence.
type classifier struct {
	pt    Pattern
	id    int
	p     *Producer
	marks *Marks
	ev    Evidence
}

// known are the messages the broker took: confirmed with confirms on,
// received on a cleanly closed channel without.
func (c *classifier) known() *Ranges {
	if c.p.Confirms {
		return &c.p.Acked
	}
	return &c.p.Received
}

// owed counts the messages owed among sequence numbers [x, y).
func (c *classifier) owed(x, y uint64) uint64 { return c.pt.Ordinal(c.id, y) - c.pt.Ordinal(c.id, x) }

// ttlSeq is the sequence number below which a message of a missing run
// ending at ordinal end can have waited longer than the TTL: published
// more than the TTL before the queue was last read, and no later message
// of the producer delivered before its TTL ran out (FIFO: that one would
// have come after it). 0 without a TTL.
func (c *classifier) ttlSeq(end uint64) uint64 {
	if c.ev.TTLMillis <= 0 {
		return 0
	}
	ttl := int64(time.Duration(c.ev.TTLMillis) * time.Millisecond)
	s := c.p.Times.PublishedBy(c.ev.TTLEnd - ttl)
	if later := c.marks.firstBeyond(end); later != math.MaxInt64 {
		s = min(s, c.p.Times.PublishedAfter(later-ttl))
	}
	return s
}

// run classifies the missing ordinals [from, to).
func (c *classifier) run(from, to uint64, t *tally) {
	sa, sb := c.pt.Seq(c.id, from), c.pt.Seq(c.id, to-1)+1
	ttlSeq := c.ttlSeq(to)
	var taken, expired uint64
	known := c.known()
	known.Each(sa, sb, func(x, y uint64) {
		taken += c.owed(x, y)
		if x < ttlSeq {
			expired += c.owed(x, min(y, ttlSeq))
		}
	})
	// Members of known whose positions were given up: at least as many as
	// the count allows, by count only.
	for _, k := range known.Counted() {
		if x, y := max(sa, k.From), min(sb, k.To); x < y {
			seqs := y - x
			lo := k.N - min(k.N, (k.To-k.From)-seqs) // members of k inside [x, y)
			ow := c.owed(x, y)
			add := lo - min(lo, seqs-ow) // of them owed here
			taken += add
			t.approx += add
		}
	}
	t.lostCand += int64(taken - expired)
	t.ttl += int64(expired)
	t.notKnown(c.p.Confirms, int64(to-from-taken))
}

// counted classifies a counted gap (n missing among [From, To) below end,
// positions given up): as few of them lost as the count allows.
func (c *classifier) counted(g Counted, end uint64, t *tally) {
	to := min(g.To, end)
	span := to - g.From
	n := min(g.N, span)
	sa, sb := c.pt.Seq(c.id, g.From), c.pt.Seq(c.id, to-1)+1
	var known uint64
	c.known().Each(sa, sb, func(x, y uint64) { known += c.owed(x, y) })
	lost := n - min(n, span-known) // at least this many missing were taken by the broker
	t.lostCand += int64(lost)
	t.notKnown(c.p.Confirms, int64(n-lost))
	t.approx += n
}

// requeued moves missing ordinal o, refused with requeue on a queue with a
// delivery limit, to dropped by the limit: the broker certainly had it.
func (c *classifier) requeued(o uint64, t *tally) {
	seq := c.pt.Seq(c.id, o)
	switch {
	case !c.known().Has(seq):
		if c.p.Confirms {
			t.unconfirmed--
		} else {
			t.unknown--
		}
	case seq < c.ttlSeq(o+1):
		return // already explained by the TTL
	default:
		t.lostCand--
	}
	t.limit++
}

// settle turns the account's tally into figures: what the depth says is
// still in the queue is left, what evidence explains is dropped, and what
// the broker took and nothing explains is lost.
func (q *Queue) settle(t tally, ev Evidence) {
	t.lostCand, t.unconfirmed, t.unknown = max(0, t.lostCand), max(0, t.unconfirmed), max(0, t.unknown)
	if ev.Stream {
		q.Left += t.lostCand
		t.lostCand = 0
	}
	left := min(ev.Depth, t.lostCand+t.unconfirmed+t.unknown)
	for _, b := range []*int64{&t.lostCand, &t.unconfirmed, &t.unknown} {
		n := min(left, *b)
		*b -= n
		left -= n
		q.Left += n
	}
	var whole int64 // dropped by an explanation that covers the whole queue
	if ev.LengthLimit != "" || ev.Expired != "" {
		whole, t.lostCand = t.lostCand, 0
	}
	q.Lost, q.Unconfirmed, q.Unknown = t.lostCand, t.unconfirmed, t.unknown
	var why []string
	add := func(n int64, reason string) {
		if n > 0 {
			q.Dropped += n
			why = append(why, fmt.Sprintf("%s: %d", reason, n))
		}
	}
	add(t.refused, "refused by the consumers without requeue")
	add(t.deadLetter, "dead-lettered (read back from the dead-letter queue)")
	add(t.limit, ev.DeliveryLimit+" (refused with requeue, never seen again)")
	add(t.ttl, ttlReason(ev))
	switch {
	case ev.Expired != "":
		add(whole, ev.Expired)
	case ev.LengthLimit != "":
		add(whole, ev.LengthLimit)
	}
	q.DropReason = strings.Join(why, "; ")
}

// ttlReason says which TTL dropped messages that waited longer than it.
func ttlReason(ev Evidence) string {
	if ev.TTLFrom == TTLExpiration {
		return fmt.Sprintf("expiration %d (waited longer than the messages' own TTL)", ev.TTLMillis)
	}
	return fmt.Sprintf("x-message-ttl %d (waited longer than the TTL)", ev.TTLMillis)
}
