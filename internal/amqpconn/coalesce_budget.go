package amqpconn

// One bound for what all of a run's connections buffer.
//
// MaxBuffered bounds one connection. A stall that hits every connection at
// once — a memory alarm makes the broker stop reading from every
// publishing connection — fills every one of them: 2,000 publishing
// connections held 2 × 256 KiB each, about 1 GiB. A Budget, shared by the
// connections of one Dialer (a run), bounds what they buffer together.
//
//   - What counts is what a connection holds: bytes Write accepted that
//     have not reached the socket (being written or waiting to be). Each
//     connection holds up to Reserve bytes of its own; only what it holds
//     beyond that is charged to the budget, when a Write is accepted, and
//     given back as the flusher writes it (or, when the connection fails or
//     closes, when its flusher ends: what is left will never be written).
//   - A Write whose bytes fit in the reserve, with what the connection
//     already holds, never waits for the budget: it waits only for its own
//     connection (MaxBuffered, its ticket). So once a connection's socket
//     has taken what it held, a Write of up to the reserve goes in
//     whatever the other connections hold. That is what keeps a healthy
//     connection alive while others stall and hold the whole budget: its
//     acks (which drain the queues that make an alarm go away), heartbeats,
//     channel and connection close handshakes are all far smaller.
//   - A Write that needs budget waits for its turn: the connection that
//     holds least of the budget goes first, then the one that asked first
//     among equals, and budget given back waits for it rather than go to a
//     smaller Write behind it (a large Write is not starved by small ones).
//     Least first rather than first come: stalled connections keep asking
//     for more, and served in turn they would take whatever a healthy
//     connection gives back until they held all of it; a connection that
//     holds little — a healthy one, whose socket takes what it holds —
//     goes first instead. A Write also goes in, without waiting for its
//     turn, as soon as its own connection's flush has brought it within
//     the reserve. So a Write larger than the reserve, on a healthy
//     connection, waits only until the budget has room for it; but if
//     stalled connections hold all of it, that is until they are written
//     to, fail (a heartbeat timeout) or are closed.
//   - A Write that needs more than the whole budget goes in when its turn
//     comes and no connection holds any of the budget, as an empty buffer
//     takes a Write larger than MaxBuffered: it never waits for room that
//     cannot exist.
//   - Close and failures turn a Write waiting for budget away at once, as
//     one waiting for room (kickLocked); the connection leaves the queue.
//
// So the bytes buffered by all the connections sharing a Budget never
// exceed its size (or, while one is held, a single Write larger than that)
// plus the reserve of each connection. The buffers' allocated capacity
// can be up to about twice what they hold (they grow by doubling, and one
// kept from an earlier burst is reused).
//
// Locks: a connection's mutex, then the budget's; the budget never takes
// a connection's. A connection waiting for budget sleeps on its own wake
// channel (one token at most, so a wake-up before the sleep is not lost),
// which the budget fills when the connection comes first in the queue and
// budget is given back, and the connection's own flusher fills when it
// has written some of what the connection held.

import (
	"slices"
	"sync"
)

const (
	// DefaultBudget is the Dialer's budget: what all of a run's connections
	// may buffer beyond their reserves. Ordinary batching needs far less —
	// a batch is what queues up during one system call, a few KB even at
	// 100,000 msg/s — so the budget only decides what a stall costs in
	// memory, and buffering more during a stall publishes nothing faster.
	// 64 MiB lets 256 connections each hold MaxBuffered (a few fast
	// large-message publishers are never held back by it) and caps what a
	// stall of 2,000 connections holds at 64 MiB + 2,000 × DefaultReserve
	// ≈ 95 MiB of unsent bytes instead of 1 GiB.
	DefaultBudget = 64 << 20
	// DefaultReserve is what each connection may hold without budget: four
	// of amqp091's 4 KiB flushes, room for any ack, heartbeat or close
	// handshake, and for the small publishes of an ordinary batch, which
	// then never touch the budget's lock.
	DefaultReserve = 16 << 10
)

// Budget bounds the bytes that the CoalescingConns sharing it hold
// buffered (accepted, not yet written), together: each holds up to the
// reserve of its own, and what they hold beyond that never exceeds the
// budget's size (but for one Write larger than the whole budget, let in
// when nothing else holds any). A Write that needs budget waits for it;
// the connection holding least goes first. The guarantee that keeps
// healthy connections going while others stall: a Write that fits in
// its connection's reserve, with what that connection holds, never waits
// for the budget — once its own socket has taken what it held, a Write of
// up to the reserve goes in. The design, and why: coalesce_budget.go. Its
// methods are safe for concurrent use.
type Budget struct {
	size, reserve int

	mu   sync.Mutex
	used int
	// queue holds the connections whose Write waits for budget, in the
	// order they came; only the first (see firstLocked) may take budget.
	queue []waiter
}

// waiter is a connection in the budget's queue: where it sleeps, and what
// it holds of the budget, as of its last take or give.
type waiter struct {
	wake    chan struct{}
	charged int
}

// NewBudget returns a budget of size bytes shared by connections that may
// each hold reserve bytes without it; 0 or less means DefaultBudget,
// DefaultReserve.
func NewBudget(size, reserve int) *Budget {
	if size <= 0 {
		size = DefaultBudget
	}
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	return &Budget{size: size, reserve: reserve}
}

// Used returns the bytes of the budget the connections hold now.
func (b *Budget) Used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// take charges n bytes to the connection woken by w, which holds charged
// bytes of the budget, if it may have them now: it is first (or would be,
// joining the queue), and they fit, or no budget is in use at all.
// Otherwise the connection joins the queue (once) and take returns false.
// n of 0 always succeeds: the connection leaves the queue.
func (b *Budget) take(w chan struct{}, charged, n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.indexLocked(w)
	if i < 0 && n > 0 {
		b.queue = append(b.queue, waiter{wake: w})
		i = len(b.queue) - 1
	}
	if i >= 0 {
		b.queue[i].charged = charged
	}
	if n > 0 {
		if b.firstLocked() != i || (b.used > 0 && b.used+n > b.size) {
			return false
		}
		b.used += n
	}
	b.removeLocked(i)
	return true
}

// give returns n bytes to the budget from the connection woken by w, which
// holds charged bytes now, and wakes the first waiting connection, which
// may fit now.
func (b *Budget) give(w chan struct{}, charged, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if i := b.indexLocked(w); i >= 0 {
		b.queue[i].charged = charged
	}
	if len(b.queue) > 0 {
		nudge(b.queue[b.firstLocked()].wake)
	}
}

// leave takes the connection woken by w out of the queue.
func (b *Budget) leave(w chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.removeLocked(b.indexLocked(w))
}

func (b *Budget) indexLocked(w chan struct{}) int {
	return slices.IndexFunc(b.queue, func(q waiter) bool { return q.wake == w })
}

// firstLocked is the index of the waiting connection whose turn it is:
// the one holding least of the budget, the earliest among equals; -1 when
// none waits.
func (b *Budget) firstLocked() int {
	first := -1
	for i, q := range b.queue {
		if first < 0 || q.charged < b.queue[first].charged {
			first = i
		}
	}
	return first
}

// removeLocked removes queue[i] (nothing when i < 0) and wakes the
// connection whose turn it is now: it may fit.
func (b *Budget) removeLocked(i int) {
	if i < 0 {
		return
	}
	b.queue = slices.Delete(b.queue, i, i+1)
	if len(b.queue) > 0 {
		nudge(b.queue[b.firstLocked()].wake)
	}
}

// nudge leaves a wake-up token in w unless one is there already.
func nudge(w chan struct{}) {
	select {
	case w <- struct{}{}:
	default:
	}
}

// heldLocked is what the connection holds: accepted, not yet written.
func (c *CoalescingConn) heldLocked() int { return len(c.pending) + len(c.fill) }

// chargeLocked reports whether n more bytes may be buffered as far as the
// budget goes, and charges them. A Write within the reserve takes no
// lock but the connection's.
func (c *CoalescingConn) chargeLocked(n int) bool {
	if c.budget == nil {
		return true
	}
	need := max(0, c.heldLocked()+n-c.budget.reserve-c.charged)
	if need == 0 && !c.queued {
		return true
	}
	if !c.budget.take(c.wake, c.charged, need) {
		c.queued = true
		return false
	}
	c.queued = false
	c.charged += need
	return true
}

// waitBudgetLocked sleeps, without the lock, until the budget, the
// connection's own flush or a kick may have changed the answer.
func (c *CoalescingConn) waitBudgetLocked() {
	c.mu.Unlock()
	<-c.wake
	c.mu.Lock()
}

// settleLocked gives back the budget the connection no longer needs, now
// that the flusher has written some of what it held, and wakes its own
// Write waiting for budget: the flush may have brought it within the
// reserve.
func (c *CoalescingConn) settleLocked() {
	if c.budget == nil {
		return
	}
	if over := c.charged - max(0, c.heldLocked()-c.budget.reserve); over > 0 {
		c.charged -= over
		c.budget.give(c.wake, c.charged, over)
	}
	if c.queued {
		nudge(c.wake)
	}
}

// leaveBudgetLocked takes the connection out of the budget's queue and
// wakes its waiting Write (kickLocked turns it away).
func (c *CoalescingConn) leaveBudgetLocked() {
	if c.queued {
		c.budget.leave(c.wake)
		c.queued = false
		nudge(c.wake)
	}
}

// releaseBudgetLocked gives back all the connection holds of the budget:
// its flusher has ended, and what is left will never be written.
func (c *CoalescingConn) releaseBudgetLocked() {
	if n := c.charged; n > 0 {
		c.charged = 0
		c.budget.give(c.wake, 0, n)
	}
}
