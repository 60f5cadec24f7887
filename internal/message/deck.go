// Package message shapes what each message carries besides the stamp: the
// drawn headers' values (the Deck), message ids from templates, and the
// bodies — the user's files, or random bytes made to compress to a given
// ratio. Everything a producer does with them per message is free of
// allocation; everything the routing model needs to know about a message
// is a function of its producer and sequence number.
package message

import (
	"math/rand/v2"

	"github.com/mqbench/mqbench/internal/scenario"
)

// Deck deals the drawn headers' values to messages. It holds, for every
// drawn header, each of its values as many times as its weight, and its
// slots are every combination of one card per header: Slots() = the
// product of the headers' weight sums. The slots are dealt in a fixed
// shuffled order (seeded, the same in every run and every shard), so each
// value comes up exactly its share of every Slots() messages, in an order
// that looks drawn at random.
//
// Producer p's message seq is at position (seq+p) mod Period() of the
// routing rotation, Period() = keys × Slots(): its routing key is the
// position mod keys (routing.KeyIndex), its slot follows from the
// position (SlotAt). The delivery audit's pattern runs over the same
// positions, so it knows every message's headers without being told.
type Deck struct {
	keys, slots int
	names       []string
	values      [][]any    // per header, its distinct values (boxed once: dealing one does not allocate)
	faces       [][]uint16 // per header: card → value index, each value repeated by its weight
	radix       []int      // per header: the product of the weight sums of the headers before it
	combos      []int      // per header: the product of the value counts of the headers before it
	order       []uint32   // the dealing order: a seeded shuffle of the slots
	hands       [][]any    // by dealing position: each header's value in that slot (what Deal sets, looked up)
}

// deckSeed fixes the dealing order: every run and every shard deals the
// same way.
const deckSeed = 0x6465636b

// NewDeck is the deck of the drawn headers for producers rotating over
// keys routing keys; nil when nothing is drawn.
func NewDeck(draws []scenario.HeaderDraw, keys int) *Deck {
	if len(draws) == 0 {
		return nil
	}
	d := &Deck{keys: max(keys, 1), slots: 1}
	combos := 1
	for _, dr := range draws {
		d.names = append(d.names, dr.Name)
		d.values = append(d.values, dr.Values)
		var faces []uint16
		for vi, w := range dr.Weights {
			for range w {
				faces = append(faces, uint16(vi))
			}
		}
		d.faces = append(d.faces, faces)
		d.radix = append(d.radix, d.slots)
		d.combos = append(d.combos, combos)
		d.slots *= len(faces)
		combos *= len(dr.Values)
	}
	d.order = make([]uint32, d.slots)
	for i := range d.order {
		d.order[i] = uint32(i)
	}
	rng := rand.New(rand.NewPCG(deckSeed, uint64(d.slots)))
	rng.Shuffle(len(d.order), func(i, j int) { d.order[i], d.order[j] = d.order[j], d.order[i] })
	d.hands = make([][]any, d.slots)
	for t, s := range d.order {
		hand := make([]any, len(d.names))
		for h := range hand {
			hand[h] = d.values[h][d.value(h, int(s))]
		}
		d.hands[t] = hand
	}
	return d
}

// Slots is the number of slots dealt in turn.
func (d *Deck) Slots() int { return d.slots }

// Period is the number of positions after which the keys and the slots
// come round together again: keys × Slots().
func (d *Deck) Period() int { return d.keys * d.slots }

// Names are the drawn headers' names, in the order Combination numbers
// them.
func (d *Deck) Names() []string { return d.names }

// SlotAt is the slot dealt at position j of the rotation (0 <= j <
// Period()). Position j carries key j mod keys; the slot advances with
// every position, t = (j/keys + j mod keys) mod Slots() — one to one over
// a period, so every (key, slot) pair comes up once — so that successive
// messages carry different slots whatever the number of keys.
func (d *Deck) SlotAt(j int) int { return int(d.order[d.dealt(j)]) }

// dealt is the dealing position of rotation position j.
func (d *Deck) dealt(j int) int {
	if d.keys == 1 {
		return j // a period is one deck
	}
	return (j/d.keys + j%d.keys) % d.slots
}

// Position is where producer's message seq is in the rotation.
func (d *Deck) Position(producer int, seq int64) int {
	return int((seq + int64(producer)) % int64(d.Period()))
}

// value is header h's value index in slot s.
func (d *Deck) value(h, s int) int {
	f := d.faces[h]
	return int(f[(s/d.radix[h])%len(f)])
}

// Deal sets the drawn headers of producer's message seq in t, which must
// hold them already (so that setting them replaces values in place and
// allocates nothing).
func (d *Deck) Deal(t map[string]any, producer int, seq int64) {
	hand := d.hands[d.dealt(d.Position(producer, seq))]
	for h, name := range d.names {
		t[name] = hand[h]
	}
}

// Combinations is the number of distinct combinations of values.
func (d *Deck) Combinations() int {
	n := 1
	for _, v := range d.values {
		n *= len(v)
	}
	return n
}

// Combination numbers slot s's combination of values, 0 to
// Combinations()-1: slots whose headers hold the same values share one.
func (d *Deck) Combination(s int) int {
	c := 0
	for h := range d.names {
		c += d.value(h, s) * d.combos[h]
	}
	return c
}

// Values are the drawn headers of combination c.
func (d *Deck) Values(c int) map[string]any {
	out := make(map[string]any, len(d.names))
	for h, name := range d.names {
		out[name] = d.values[h][(c/d.combos[h])%len(d.values[h])]
	}
	return out
}
