package audit

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Class is how an owed message was accounted for.
type Class uint8

// The classes of an accounted message.
const (
	Consumed     Class = iota // delivered to a consumer and processed
	Refused                   // refused by a consumer without requeue: the broker drops or dead-letters it
	Left                      // found in the queue at the end of the run
	DeadLettered              // read back from a dead-letter queue, dead-lettered by this queue
	numClasses
)

// Track is an account's record of one producer's messages, by ordinal
// (see Pattern). It is shared by the account's consumers, behind a lock of
// its own: consumers of one queue take it when they receive the same
// producer's messages, nobody else ever does.
//
// Below base every ordinal is accounted for, except those listed in gaps.
// Above it, a window of bits holds what arrived out of order. Messages
// mostly arrive in order, so base moves up with them and the window stays
// empty; a message that has not arrived (requeued, in another consumer's
// hands, or gone) holds base back while later ones fill the window. When
// the window spans more than spill ordinals and its lower half has few
// holes, those holes move into gaps and base moves on: a gap that never
// fills costs one range, not a window that grows with the run. A window
// with many holes (another consumer far behind on its share) is cheaper
// as bits and stays, up to maxWindow. So a track's memory follows the
// messages in doubt — gaps and reordering — never the messages sent.
type Track struct {
	mu    sync.Mutex
	base  uint64
	wbase uint64   // the window's first ordinal, a multiple of 64, ≤ base
	ring  []uint64 // window words, ring[(head+i) mod len] covering wbase+64i…; len a power of two
	head  int
	n     int    // window words in use
	top   uint64 // 1 + the highest ordinal in the window (≤ base when it holds nothing above base)
	spill uint64 // window span past which gaps may move out; 0 = never (a shard's)
	next  uint64 // the span at which to look again (grows while the window is dense)
	gaps  Ranges // missing ordinals below base
	// requeued holds ordinals refused with requeue on a queue with a
	// delivery limit, not (yet) accounted for: the evidence that the
	// limit may have dropped them.
	requeued Ranges
	counts   [numClasses]uint64
	dups     uint64
	hi       uint64 // 1 + the highest ordinal ever accounted
	marks    Marks  // when hi grew (only for a queue with a TTL)
}

// maxWindow bounds a window however dense its holes (32 MiB of bits):
// past it the lower half's holes are counted, not placed.
const maxWindow = 1 << 28

// newTrack returns an empty track; spill 0 keeps every gap in the window
// (a shard's view of a queue it shares with other shards has gaps wherever
// another shard's consumers took a message: those are not in doubt, and
// the merge fills them).
func newTrack(spill uint64, gapCap int) *Track {
	return &Track{spill: spill, next: spill, gaps: Ranges{Cap: gapCap}, requeued: Ranges{Cap: gapCap}}
}

// account records ordinal o as accounted for by class c at time at (Unix
// ns; 0: not timed), and reports whether it already was (a duplicate).
func (t *Track) account(o uint64, c Class, at int64) (dup bool) {
	t.mu.Lock()
	dup = t.accountLocked(o, c, at)
	t.mu.Unlock()
	return dup
}

func (t *Track) accountLocked(o uint64, c Class, at int64) bool {
	if o >= t.hi {
		t.hi = o + 1
		if at != 0 && t.marks.on {
			t.marks.add(at, t.hi)
		}
	}
	switch {
	case o == t.base && t.n == 0: // in order: nothing else to do
		t.base++
	case o < t.base:
		if !t.gaps.Remove(o) {
			return t.again(c)
		}
	default:
		if t.has(o) {
			return t.again(c)
		}
		t.set(o)
		if o == t.base {
			t.advance()
		} else if t.spill > 0 && t.top-t.base > t.next {
			t.spillGaps()
		}
	}
	t.counts[c]++
	if t.requeued.Count() > 0 {
		t.requeued.Remove(o)
	}
	return false
}

// again books a message accounted for a second time: a duplicate, unless
// it is a message read back from a dead-letter queue — the consumer that
// refused it, or the sweep of its queue, may have booked it already.
func (t *Track) again(c Class) bool {
	if c == DeadLettered {
		return false
	}
	t.dups++
	return true
}

// requeue records that ordinal o was refused with requeue on a queue with
// a delivery limit.
func (t *Track) requeue(o uint64) {
	t.mu.Lock()
	if !t.accountedLocked(o) {
		t.requeued.Add(o)
	}
	t.mu.Unlock()
}

// accountedLocked reports whether o is accounted for.
func (t *Track) accountedLocked(o uint64) bool {
	if o < t.base {
		return !t.gaps.Has(o) && o >= t.gaps.floor()
	}
	return t.has(o)
}

// has reports whether window bit o is set (o ≥ base).
func (t *Track) has(o uint64) bool {
	if o >= t.top || o < t.wbase {
		return false
	}
	i := (o - t.wbase) / 64
	return t.ring[(t.head+int(i))&(len(t.ring)-1)]&(1<<(o%64)) != 0
}

// set sets window bit o (o ≥ base), growing the window as needed.
func (t *Track) set(o uint64) {
	if t.n == 0 {
		t.wbase = t.base &^ 63
		t.top = t.base
	}
	i := int((o - t.wbase) / 64)
	if i >= t.n {
		if i >= len(t.ring) {
			t.grow(i + 1)
		}
		t.n = i + 1
	}
	t.ring[(t.head+i)&(len(t.ring)-1)] |= 1 << (o % 64)
	t.top = max(t.top, o+1)
}

// grow makes room for at least words words, keeping their order.
func (t *Track) grow(words int) {
	size := max(len(t.ring)*2, 4)
	for size < words {
		size *= 2
	}
	ring := make([]uint64, size)
	for i := 0; i < t.n; i++ {
		ring[i] = t.ring[(t.head+i)&(len(t.ring)-1)]
	}
	t.ring, t.head = ring, 0
}

// word returns the window word i (0 = the one at wbase).
func (t *Track) word(i int) uint64 { return t.ring[(t.head+i)&(len(t.ring)-1)] }

// advance moves base past the set bits at it, and drops the window words
// wholly below base; an empty window is released to the fast path.
func (t *Track) advance() {
	for t.base < t.top {
		i := int((t.base - t.wbase) / 64)
		free := ^t.word(i) >> (t.base % 64) // zeros from base on
		if free != 0 {
			t.base += uint64(bits.TrailingZeros64(free))
			break
		}
		t.base = t.wbase + uint64(i+1)*64
	}
	if t.base >= t.top {
		t.base = max(t.base, t.top)
		t.clearWindow()
		return
	}
	for t.wbase+64 <= t.base {
		t.ring[t.head] = 0
		t.head = (t.head + 1) & (len(t.ring) - 1)
		t.n--
		t.wbase += 64
	}
}

// clearWindow empties the window (its words are kept for reuse).
func (t *Track) clearWindow() {
	for i := 0; i < t.n; i++ {
		t.ring[(t.head+i)&(len(t.ring)-1)] = 0
	}
	t.n, t.head, t.top = 0, 0, t.base
	t.next = t.spill
}

// spillGaps moves the holes of the window's lower half into gaps when
// they form few runs (a range per run costs less than the half's bits),
// and looks again at twice the span when they form many. Past maxWindow
// the lower half's holes are counted, not placed.
func (t *Track) spillGaps() {
	span := t.top - t.base
	half := t.base + span/2
	var runs, holes uint64
	t.missing(t.base, half, func(a, b uint64) { runs, holes = runs+1, holes+b-a })
	switch {
	case runs*16 <= span/2/8: // few runs: as ranges they cost less than as bits
		for t.n > 0 && t.base < half {
			next := t.nextSet(t.base)
			t.gaps.AddRange(t.base, next)
			t.base = next
			t.advance()
		}
		t.next = t.spill
	case span >= maxWindow:
		t.gaps.forget(t.base, half, holes)
		t.base = half
		t.advance()
	default:
		t.next = 2 * span
	}
}

// forget adds the stretch [from, to), holding n members whose positions
// are not kept, above everything the set holds: its exact ranges become
// one counted stretch first (the counted part stays below the exact one).
func (s *Ranges) forget(from, to, n uint64) {
	if len(s.rs) > 0 {
		c := Counted{From: s.rs[0].From, To: s.rs[len(s.rs)-1].To}
		for _, r := range s.rs {
			c.N += r.To - r.From
		}
		s.appendCounted(c)
		s.rs = s.rs[:0]
	}
	s.appendCounted(Counted{From: from, To: to, N: n})
}

// nextSet returns the first set window bit at or after o (top when none).
func (t *Track) nextSet(o uint64) uint64 {
	for o < t.top {
		i := int((o - t.wbase) / 64)
		if w := t.word(i) >> (o % 64); w != 0 {
			return min(o+uint64(bits.TrailingZeros64(w)), t.top)
		}
		o = t.wbase + uint64(i+1)*64
	}
	return t.top
}

// nextClear returns the first clear window bit at or after o (top when
// none below it).
func (t *Track) nextClear(o uint64) uint64 {
	for o < t.top {
		i := int((o - t.wbase) / 64)
		if w := ^t.word(i) >> (o % 64); w != 0 {
			return min(o+uint64(bits.TrailingZeros64(w)), t.top)
		}
		o = t.wbase + uint64(i+1)*64
	}
	return t.top
}

// missing calls fn with each run of ordinals in [from, to) known to be
// missing: the exact gaps, the window's holes, and everything above the
// window. The counted gaps (Ranges.Counted) are not runs: callers take
// them apart. Call it only once nothing accounts any more.
func (t *Track) missing(from, to uint64, fn func(from, to uint64)) {
	t.gaps.Each(from, to, fn)
	o := max(t.base, from)
	for o < min(t.top, to) {
		next := t.nextSet(o)
		if next > o {
			fn(o, min(next, to))
		}
		o = t.nextClear(next)
	}
	if rest := max(t.top, t.base, from); rest < to {
		fn(rest, to)
	}
}

// missingCount counts the ordinals in [from, to) missing, counted gaps
// that lie wholly inside included.
func (t *Track) missingCount(from, to uint64) uint64 {
	var n uint64
	t.missing(from, to, func(a, b uint64) { n += b - a })
	for _, c := range t.gaps.Counted() {
		if c.From >= from && c.To <= to {
			n += c.N
		}
	}
	return n
}

// Bytes is the track's memory: its struct, window, gaps, requeued set
// and marks.
func (t *Track) Bytes() int64 {
	return int64(unsafe.Sizeof(*t)) + int64(8*cap(t.ring)) + t.gaps.Bytes() + t.requeued.Bytes() + t.marks.bytes()
}
