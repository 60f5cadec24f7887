package audit

import "slices"

// Pattern says which of a producer's messages an account owes. Producer p
// sends its message seq at position (seq+p) mod Keys of a rotation that
// decides its route: its routing key index (the rotation routing.KeyIndex
// defines) and, when a headers exchange routes on headers drawn per
// message, their values (internal/message's Deck deals them by position).
// The exchange routes some positions to the queue; a pattern is that set,
// whatever made it, so its size is the period, never the messages sent.
// The account numbers the messages it owes from
// each producer 0, 1, 2, … in send order — their ordinals — so that its
// sets are dense: with ten queues sharing a producer's messages, a queue's
// account holds one bit per message it owes, not one per message sent.
type Pattern struct {
	keys   uint64
	routed []uint64 // key indexes routed to the queue, ascending
}

// NewPattern is the pattern of a queue that routes[k] says key k reaches.
func NewPattern(routes []bool) Pattern {
	p := Pattern{keys: uint64(len(routes))}
	for k, r := range routes {
		if r {
			p.routed = append(p.routed, uint64(k))
		}
	}
	return p
}

// Keys is the period of the producers' rotation: the routing keys, or
// routes when headers drawn per message decide them.
func (pt Pattern) Keys() int { return int(pt.keys) }

// Routes returns, for each position of the rotation, whether it is routed
// to the queue.
func (pt Pattern) Routes() []bool {
	out := make([]bool, pt.keys)
	for _, k := range pt.routed {
		out[k] = true
	}
	return out
}

// Routed reports whether producer p's message seq is owed.
func (pt Pattern) Routed(p int, seq uint64) bool {
	if pt.keys == 0 {
		return false
	}
	_, found := slices.BinarySearch(pt.routed, (seq+uint64(p))%pt.keys)
	return found
}

// below counts the routed positions y' < y of the key rotation (position
// y carries key y mod Keys).
func (pt Pattern) below(y uint64) uint64 {
	if pt.keys == 0 {
		return 0
	}
	i, _ := slices.BinarySearch(pt.routed, y%pt.keys)
	return (y/pt.keys)*uint64(len(pt.routed)) + uint64(i)
}

// Ordinal is the number of producer p's messages owed before message seq:
// seq's ordinal when seq itself is owed.
func (pt Pattern) Ordinal(p int, seq uint64) uint64 {
	return pt.below(seq+uint64(p)) - pt.below(uint64(p))
}

// Expected is how many of producer p's first published messages are owed.
func (pt Pattern) Expected(p int, published uint64) uint64 { return pt.Ordinal(p, published) }

// Seq is the sequence number of producer p's owed message with ordinal
// ord (the inverse of Ordinal). The pattern must route some key.
func (pt Pattern) Seq(p int, ord uint64) uint64 {
	n := uint64(len(pt.routed))
	r := pt.below(uint64(p)) + ord
	return (r/n)*pt.keys + pt.routed[r%n] - uint64(p)
}
