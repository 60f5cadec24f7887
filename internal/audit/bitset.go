// Package audit accounts for every message of a run: which the broker
// confirmed, which each queue delivered (once, twice, out of order,
// redelivered), and so which confirmed messages it lost. Producers and
// consumers each keep their own bitsets (no lock on the hot path); the
// reconciliation at the end merges them.
package audit

import "math/bits"

// Bitset is a growable set of sequence numbers.
type Bitset struct{ words []uint64 }

// Set adds i and reports whether it was already there.
func (b *Bitset) Set(i uint32) (was bool) {
	w := int(i / 64)
	if w >= len(b.words) {
		// Grow geometrically: amortized, no allocation per message. The
		// first allocation is only what i needs: a consumer sharing a
		// queue with thousands of producers keeps a set per producer it
		// hears from, most holding a handful of messages, and a larger
		// first allocation would cost more than all the messages.
		n := max(w+1, 2*len(b.words))
		nw := make([]uint64, n)
		copy(nw, b.words)
		b.words = nw
	}
	m := uint64(1) << (i % 64)
	was = b.words[w]&m != 0
	b.words[w] |= m
	return was
}

// Has reports whether i is in the set.
func (b *Bitset) Has(i uint32) bool {
	w := int(i / 64)
	return w < len(b.words) && b.words[w]&(uint64(1)<<(i%64)) != 0
}

// Count returns the number of members.
func (b *Bitset) Count() int64 {
	var n int64
	for _, w := range b.words {
		n += int64(bits.OnesCount64(w))
	}
	return n
}

// CountFrom returns the number of members from n up.
func (b *Bitset) CountFrom(n uint32) int64 {
	w := int(n / 64)
	if w >= len(b.words) {
		return 0
	}
	c := int64(bits.OnesCount64(b.words[w] >> (n % 64)))
	for _, x := range b.words[w+1:] {
		c += int64(bits.OnesCount64(x))
	}
	return c
}

// Merge adds o's members and returns how many were in both.
func (b *Bitset) Merge(o *Bitset) (both int64) {
	if len(o.words) > len(b.words) {
		nw := make([]uint64, len(o.words))
		copy(nw, b.words)
		b.words = nw
	}
	for i, w := range o.words {
		both += int64(bits.OnesCount64(b.words[i] & w))
		b.words[i] |= w
	}
	return both
}

// Bytes is the set's memory.
func (b *Bitset) Bytes() int64 { return int64(8 * cap(b.words)) }
