package driver

import (
	"container/heap"
	"context"
	"sync/atomic"
	"time"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/stamp"
)

// Thousands of slow paced producers (a device fleet: each a message a
// second) do not need a publishing goroutine each: every goroutine keeps a
// stack of 4–8 KiB that a publish through the client library grows, and
// a timer, while it sleeps almost all the time. The slow paced producers
// of one connection share a goroutine instead (as PerfTest's producer
// scheduler threads do): it keeps them in order of their next message's
// due time, sleeps until the earliest, and takes one step of that
// producer. Each producer keeps its own channel, confirm window (and the
// goroutine that times its confirms), counters, schedule and start
// offset; its messages are due when they would have been alone.
//
// What one producer waits for, the others on its goroutine wait for too:
// a full confirm window (confirms slower than window ÷ rate, which
// pacedGroups keeps to at least pacedConfirmSlack), the mending of its channel after a
// failure (the group's channels reopen one after another). Every such wait
// shows, as all lateness does, in the waiting producers' send lag and in
// their latency timed from the due time; nothing is hidden, but a group's
// members are not independent of each other the way lone producers on
// the same connection are (they share its socket and its blocking anyway).

// pacedGroupRate is the most messages per second (at the schedule's peak)
// one shared goroutine is given: a publish costs the goroutine a few µs,
// so it stays mostly idle, and producers due at the same moment wait for
// each other no longer than a single core would make them wait anyway.
const pacedGroupRate = 1000

// pacedConfirmSlack: a confirming producer shares a goroutine only when its
// confirm window holds this long of its peak rate, so that its window
// fills, and holds up the others, only when confirms take longer than
// that: a broker in trouble, not one that is merely slower than the rate.
const pacedConfirmSlack = 100 * time.Millisecond

// pacedGroups splits producers into those that run alone and groups that
// share a goroutine: the paced producers of each connection, in chunks
// whose peak rates add up to at most pacedGroupRate, when a chunk holds at
// least two. Unpaced producers, fast paced ones, and those whose confirm
// window is short for their rate (pacedConfirmSlack) run alone.
func pacedGroups(ps []*producer) (alone []*producer, groups [][]*producer) {
	byConn := map[*amqpconn.Conn][]*producer{}
	var order []*amqpconn.Conn
	for _, p := range ps {
		if p.shareOf() < 2 {
			alone = append(alone, p)
			continue
		}
		if _, seen := byConn[p.cn]; !seen {
			order = append(order, p.cn)
		}
		byConn[p.cn] = append(byConn[p.cn], p)
	}
	for _, cn := range order {
		members := byConn[cn]
		per := members[0].shareOf() // one schedule and window for all producers
		for len(members) > 0 {
			n := min(per, len(members))
			if n == 1 {
				alone = append(alone, members[0])
			} else {
				groups = append(groups, members[:n:n])
			}
			members = members[n:]
		}
	}
	return alone, groups
}

// shareOf is how many producers like p one goroutine may run: 0 when p
// must run alone (unpaced, only pauses, or a confirm window short for its
// rate).
func (p *producer) shareOf() int {
	if p.schedule == nil || p.ph != nil { // phases change paces: a phased producer runs alone
		return 0
	}
	r := p.schedule.MaxRate()
	if r <= 0 || (p.window > 0 && float64(p.window) < r*pacedConfirmSlack.Seconds()) {
		return 0
	}
	return int(pacedGroupRate / r)
}

// pacedEntry is one producer of a group: its next message and when it is due.
type pacedEntry struct {
	p         *producer
	i         int64 // the next message
	base, due int64 // the schedule's start for this producer, and message i's due time (Unix ns)
}

// dueOrder is a min-heap of a group's producers by their next due time.
type dueOrder []*pacedEntry

func (h dueOrder) Len() int           { return len(h) }
func (h dueOrder) Less(a, b int) bool { return h[a].due < h[b].due }
func (h dueOrder) Swap(a, b int)      { h[a], h[b] = h[b], h[a] }
func (h *dueOrder) Push(x any)        { *h = append(*h, x.(*pacedEntry)) }
func (h *dueOrder) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// runPacedGroup runs the producers of one group from the start signal
// until each is done, as producer.run would run each alone: finished is
// called once for every producer, with whether it met its message limit,
// as soon as it is done.
func runPacedGroup(ctx context.Context, ps []*producer, start <-chan struct{}, stopping *atomic.Bool, stop <-chan struct{}, finished func(p *producer, met bool)) {
	if !started(ctx, start) {
		for _, p := range ps {
			finished(p, false)
		}
		return
	}
	h := make(dueOrder, 0, len(ps))
	now := ps[0].clock.Now() // one clock for the run
	for _, p := range ps {
		e := &pacedEntry{p: p, base: now + int64(p.jitter)}
		if p.limit == 0 {
			finished(p, true)
			continue
		}
		due, ok := p.due(0, e.base)
		if !ok {
			finished(p, false)
			continue
		}
		e.due = due
		h = append(h, e)
	}
	heap.Init(&h)
	stepPacedGroup(ctx, &h, stopping, stop, finished)
	for _, e := range h {
		finished(e.p, false)
	}
}

// stepPacedGroup sends the group's messages in due order until every
// producer is done or the load stops; the producers it leaves in h are
// not done.
func stepPacedGroup(ctx context.Context, h *dueOrder, stopping *atomic.Bool, stop <-chan struct{}, finished func(p *producer, met bool)) {
	var sleep sleeper
	for h.Len() > 0 && !stopping.Load() {
		e := (*h)[0]
		if !sleep.until(e.p.clock, e.due, stop) {
			return
		}
		switch e.p.step(ctx, e.i, e.due, stop) {
		case stepRetry:
			continue // the same message, still first in line
		case stepEnded:
			heap.Pop(h)
			finished(e.p, false)
			continue
		}
		e.i++
		if e.p.limit >= 0 && e.i >= e.p.limit {
			heap.Pop(h)
			finished(e.p, true)
			continue
		}
		due, ok := e.p.due(e.i, e.base)
		if !ok {
			heap.Pop(h)
			finished(e.p, false)
			continue
		}
		e.due = due
		heap.Fix(h, 0)
	}
}

// sleeper waits for due times on one reusable timer; wake, when set (a
// phase's end), cuts a wait short.
type sleeper struct {
	timer *time.Timer
	wake  <-chan struct{}
}

// until waits until due (Unix ns on clock), or until wake closes; false
// when stop closed first.
func (s *sleeper) until(clock *stamp.Clock, due int64, stop <-chan struct{}) bool {
	wait := time.Duration(due - clock.Now())
	if wait <= 0 {
		return true
	}
	if s.timer == nil {
		s.timer = time.NewTimer(wait)
	} else {
		s.timer.Reset(wait)
	}
	select {
	case <-s.timer.C:
		return true
	case <-s.wake:
		s.timer.Stop() // no stale tick can follow (Go 1.23 timers)
		return true
	case <-stop:
		return false
	}
}
