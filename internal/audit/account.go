package audit

import (
	"sync/atomic"
	"unsafe"
)

// Account is what one audited reader of a queue owes and received: a
// queue's competing consumers together (a message delivered to two of
// them is a duplicate), or one reader of a stream (which reads the whole
// stream). It keeps a Track per producer, made on the producer's first
// message; consumers record into it through their Consumer.
type Account struct {
	Name    string
	Pattern Pattern
	tracks  []atomic.Pointer[Track] // by producer id
	opts    Options
}

// Options shape an account.
type Options struct {
	// Spill is the window span (in ordinals) past which a track moves its
	// oldest missing messages into its gap list; 0 never does (a shard's
	// view of a shared queue). DefaultSpill when building a run's audit.
	Spill uint64
	// GapCap bounds each track's gap list (ranges); past it the oldest
	// holes between gaps are filled and the figures said approximate.
	GapCap int
	// DeliveryLimit: the queue has a delivery limit, so messages refused
	// with requeue are remembered until they are accounted for — if one
	// never is, the limit explains it.
	DeliveryLimit bool
	// TTL: the queue has a message TTL, so each track logs when its
	// messages arrived (a missing message can have expired only if no
	// later one arrived before its TTL ran out).
	TTL bool
}

// DefaultSpill and DefaultGapCap bound a track: a window of 64 Ki
// ordinals (8 KiB) and 64 Ki gap ranges (1 MiB). Messages redelivered
// after a requeue arrive within a few thousand of their place; a message
// missing while 64 Ki later ones from the same producer arrived is in a
// gap, and a run whose queue has lost 64 Ki separate stretches of one
// producer's messages is reported approximately, said so.
const (
	DefaultSpill  = 1 << 16
	DefaultGapCap = 1 << 16
)

// NewAccount returns the account of one reader of a queue that pattern
// says what it owes, for producers producers.
func NewAccount(name string, pattern Pattern, producers int, o Options) *Account {
	return &Account{Name: name, Pattern: pattern, tracks: make([]atomic.Pointer[Track], producers), opts: o}
}

// Producers is the number of producers the account follows.
func (a *Account) Producers() int { return len(a.tracks) }

// track returns producer id's track, making it on first use: consumers
// race to make it, the first one's wins.
func (a *Account) track(id int) *Track {
	if t := a.tracks[id].Load(); t != nil {
		return t
	}
	t := newTrack(a.opts.Spill, a.opts.GapCap)
	t.marks.on = a.opts.TTL
	if a.tracks[id].CompareAndSwap(nil, t) {
		return t
	}
	return a.tracks[id].Load()
}

// Track returns producer id's track, or nil when nothing of it arrived.
func (a *Account) Track(id int) *Track { return a.tracks[id].Load() }

// Record accounts for producer id's message seq as class c at time at
// (Unix ns; 0 when its time does not matter), outside any consumer (the
// end-of-run sweep, a dead-letter queue read back): false when the message
// is not owed here or was already accounted for.
func (a *Account) Record(id int, seq uint32, c Class, at int64) bool {
	if id < 0 || id >= len(a.tracks) || !a.Pattern.Routed(id, uint64(seq)) {
		return false
	}
	return !a.track(id).account(a.Pattern.Ordinal(id, uint64(seq)), c, at)
}

// Bytes is the account's memory: its table of tracks and every track.
func (a *Account) Bytes() int64 {
	n := int64(len(a.tracks)) * int64(unsafe.Sizeof(atomic.Pointer[Track]{}))
	for i := range a.tracks {
		if t := a.tracks[i].Load(); t != nil {
			t.mu.Lock()
			n += t.Bytes()
			t.mu.Unlock()
		}
	}
	return n
}

// Consumer is one consumer's side of an account: what only it sees —
// redelivery flags, its own order of arrival, deliveries that are not
// owed — kept without a lock (only its goroutine writes; read it after the
// consumer stopped).
type Consumer struct {
	acct *Account
	last lastSeen
	ConsumerCounts
}

// ConsumerCounts are the figures a consumer keeps alone (and a group's
// consumers' sums).
type ConsumerCounts struct {
	Redelivered int64 `json:"redelivered"` // deliveries flagged redelivered by the broker
	OutOfOrder  int64 `json:"out_of_order"`
	Foreign     int64 `json:"foreign"`    // stamped with an unknown producer
	Unexpected  int64 `json:"unexpected"` // not owed here: the routing model disagrees
}

// Add sums o into c.
func (c *ConsumerCounts) Add(o ConsumerCounts) {
	c.Redelivered += o.Redelivered
	c.OutOfOrder += o.OutOfOrder
	c.Foreign += o.Foreign
	c.Unexpected += o.Unexpected
}

// NewConsumer returns a consumer's handle on the account.
func (a *Account) NewConsumer() *Consumer {
	return &Consumer{acct: a, last: newLastSeen(len(a.tracks))}
}

// Deliver records one delivery of producer id's message seq, received at
// at (Unix ns).
func (c *Consumer) Deliver(id int, seq uint32, redelivered bool, at int64) {
	if o, ok := c.owed(id, seq, redelivered); ok {
		c.acct.track(id).account(o, Consumed, at)
	}
}

// owed books what the consumer alone sees of a delivery and returns its
// ordinal, false when the account does not owe it.
func (c *Consumer) owed(id int, seq uint32, redelivered bool) (uint64, bool) {
	if redelivered {
		c.Redelivered++
	}
	a := c.acct
	if id < 0 || id >= len(a.tracks) {
		c.Foreign++
		return 0, false
	}
	if c.last.observe(id, seq) {
		c.OutOfOrder++
	}
	if !a.Pattern.Routed(id, uint64(seq)) {
		c.Unexpected++
		return 0, false
	}
	return a.Pattern.Ordinal(id, uint64(seq)), true
}

// Refuse records that the consumer refused producer id's message seq
// (basic.nack or basic.reject). Without requeue the broker drops or
// dead-letters it: it is accounted for as refused. With requeue it comes
// back, unless the queue's delivery limit drops it: that is remembered.
func (c *Consumer) Refuse(id int, seq uint32, requeue, redelivered bool, at int64) {
	o, ok := c.owed(id, seq, redelivered)
	switch {
	case !ok:
	case !requeue:
		c.acct.track(id).account(o, Refused, at)
	case c.acct.opts.DeliveryLimit:
		c.acct.track(id).requeue(o)
	}
}

// Redelivery counts a delivery the broker flagged redelivered that no
// other call recorded.
func (c *Consumer) Redelivery(redelivered bool) {
	if redelivered {
		c.Redelivered++
	}
}

// Bytes is the consumer's own memory (its order table).
func (c *Consumer) Bytes() int64 { return int64(unsafe.Sizeof(*c)) + c.last.bytes() }

// lastSeen is, per producer, the last sequence a consumer received:
// indexed directly for a few producers, a map of those heard from for
// many (a table per consumer sized by the producers would cost
// producers × consumers).
type lastSeen struct {
	dense  []int64 // -1: none yet
	sparse map[int32]uint32
}

const denseMax = 64

func newLastSeen(producers int) lastSeen {
	if producers > denseMax {
		return lastSeen{sparse: map[int32]uint32{}}
	}
	d := make([]int64, producers)
	for i := range d {
		d[i] = -1
	}
	return lastSeen{dense: d}
}

// observe records seq from producer id and reports whether it came after
// a later one (out of order).
func (l *lastSeen) observe(id int, seq uint32) (outOfOrder bool) {
	if l.dense != nil {
		if int64(seq) < l.dense[id] {
			return true
		}
		l.dense[id] = int64(seq)
		return false
	}
	last, ok := l.sparse[int32(id)]
	if ok && seq < last {
		return true
	}
	l.sparse[int32(id)] = seq
	return false
}

// sparseEntry is one map entry's cost, about: key, value and overhead.
const sparseEntry = 16

func (l *lastSeen) bytes() int64 { return int64(8*cap(l.dense)) + int64(len(l.sparse))*sparseEntry }
