package audit

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"unsafe"
)

// Range is the half-open interval [From, To).
type Range struct{ From, To uint64 }

// Counted is a stretch [From, To) known to hold exactly N members, where
// they are was given up to keep memory bounded.
type Counted struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	N    uint64 `json:"n"`
}

// Ranges is a set of numbers kept as sorted, disjoint, non-adjacent
// ranges: a producer's confirmed messages, an account's gaps. Its memory
// follows the number of holes, not of members, and adding members in
// order (the usual case) only ever extends the last range.
//
// With a cap set, a set that would hold more ranges than the cap gives up
// the positions of its older half: those ranges become one Counted
// stretch, which keeps their exact number of members. Counts stay exact;
// only questions about single members of those stretches lose their
// answer (Has says no, Remove guesses yes while the stretch has members,
// and Ambiguous counts such guesses). Giving up half at a time keeps the
// cost amortised constant per member.
type Ranges struct {
	rs      []Range
	counted []Counted // below rs, ascending
	Cap     int       // most ranges kept exactly; 0 = no cap
	// Ambiguous counts members added to or removed from a counted
	// stretch: whether they were already there could not be told.
	Ambiguous uint64
}

// Len is the number of exact ranges.
func (s *Ranges) Len() int { return len(s.rs) }

// All returns the exact ranges (shared: do not modify).
func (s *Ranges) All() []Range { return s.rs }

// Counted returns the counted stretches (shared: do not modify).
func (s *Ranges) Counted() []Counted { return s.counted }

// Uncounted is how many members have lost their positions.
func (s *Ranges) Uncounted() uint64 {
	var n uint64
	for _, c := range s.counted {
		n += c.N
	}
	return n
}

// floor is where the exact part begins: below it is the counted part.
func (s *Ranges) floor() uint64 {
	if n := len(s.counted); n > 0 {
		return s.counted[n-1].To
	}
	return 0
}

// Add adds x.
func (s *Ranges) Add(x uint64) { s.AddRange(x, x+1) }

// AddRange adds [from, to).
func (s *Ranges) AddRange(from, to uint64) {
	if from < s.floor() { // into counted stretches: add by count
		for i := range s.counted {
			c := &s.counted[i]
			if a, b := max(from, c.From), min(to, c.To); a < b {
				add := min(b-a, c.To-c.From-c.N)
				c.N += add
				s.Ambiguous += b - a
			}
		}
		from = s.floor()
	}
	if from >= to {
		return
	}
	if n := len(s.rs); n == 0 || from > s.rs[n-1].To {
		s.rs = append(s.rs, Range{from, to})
		s.capped()
		return
	} else if from >= s.rs[n-1].From { // overlaps or extends the last range
		s.rs[n-1].To = max(s.rs[n-1].To, to)
		return
	}
	// The general case: merge with every range it touches.
	i, _ := slices.BinarySearchFunc(s.rs, from, func(r Range, x uint64) int { return cmpU(r.To, x) })
	j := i
	for j < len(s.rs) && s.rs[j].From <= to {
		from, to = min(from, s.rs[j].From), max(to, s.rs[j].To)
		j++
	}
	s.rs = slices.Replace(s.rs, i, j, Range{from, to})
	s.capped()
}

// capped gives up the positions of the older half of the exact ranges
// while there are more than the cap.
func (s *Ranges) capped() {
	if s.Cap <= 0 || len(s.rs) <= s.Cap {
		return
	}
	h := len(s.rs) / 2
	c := Counted{From: s.rs[0].From, To: s.rs[h-1].To}
	for _, r := range s.rs[:h] {
		c.N += r.To - r.From
	}
	s.appendCounted(c)
	s.rs = slices.Delete(s.rs, 0, h)
}

// appendCounted adds a counted stretch above the others, starting where
// the last one ends: the counted part is one stretch of numbers, its
// floor one number.
func (s *Ranges) appendCounted(c Counted) {
	if n := len(s.counted); n > 0 {
		c.From = s.counted[n-1].To
	}
	s.counted = append(s.counted, c)
}

// Remove takes x out and reports whether it was there (in a counted
// stretch: whether the stretch still had members).
func (s *Ranges) Remove(x uint64) bool {
	if x < s.floor() {
		i, _ := slices.BinarySearchFunc(s.counted, x, func(c Counted, x uint64) int { return cmpU(c.To, x+1) })
		if i < len(s.counted) && s.counted[i].From <= x && s.counted[i].N > 0 {
			s.counted[i].N--
			s.Ambiguous++
			return true
		}
		return false
	}
	i, found := s.find(x)
	if !found {
		return false
	}
	r := s.rs[i]
	switch {
	case r.From == x && r.To == x+1:
		s.rs = slices.Delete(s.rs, i, i+1)
	case r.From == x:
		s.rs[i].From++
	case r.To == x+1:
		s.rs[i].To--
	default:
		s.rs[i].To = x
		s.rs = slices.Insert(s.rs, i+1, Range{x + 1, r.To})
		s.capped()
	}
	return true
}

// find returns the index of the exact range holding x, if any.
func (s *Ranges) find(x uint64) (int, bool) {
	i, _ := slices.BinarySearchFunc(s.rs, x, func(r Range, x uint64) int { return cmpU(r.To, x+1) })
	return i, i < len(s.rs) && s.rs[i].From <= x
}

// Has reports whether x is a member of the exact part (a member of a
// counted stretch is not known as such).
func (s *Ranges) Has(x uint64) bool {
	_, found := s.find(x)
	return found
}

// Count is the number of members, counted stretches included.
func (s *Ranges) Count() uint64 {
	n := s.Uncounted()
	for _, r := range s.rs {
		n += r.To - r.From
	}
	return n
}

// Each calls fn with each exact range's intersection with [from, to).
func (s *Ranges) Each(from, to uint64, fn func(from, to uint64)) {
	i, _ := slices.BinarySearchFunc(s.rs, from, func(r Range, x uint64) int { return cmpU(r.To, x+1) })
	for ; i < len(s.rs) && s.rs[i].From < to; i++ {
		if a, b := max(from, s.rs[i].From), min(to, s.rs[i].To); a < b {
			fn(a, b)
		}
	}
}

// CountIn is how many members lie in [from, to): exactly over the exact
// part; over counted stretches, at least (lo) and at most (hi).
func (s *Ranges) CountIn(from, to uint64) (lo, hi uint64) {
	s.Each(from, to, func(a, b uint64) { lo += b - a })
	hi = lo
	for _, c := range s.counted {
		if a, b := max(from, c.From), min(to, c.To); a < b {
			outside := (c.To - c.From) - (b - a)
			lo += c.N - min(c.N, outside)
			hi += min(c.N, b-a)
		}
	}
	return lo, hi
}

// Bytes is the set's memory.
func (s *Ranges) Bytes() int64 {
	return int64(cap(s.rs))*int64(unsafe.Sizeof(Range{})) + int64(cap(s.counted))*int64(unsafe.Sizeof(Counted{}))
}

// setCounted installs counted stretches read from a document.
func (s *Ranges) setCounted(cs []Counted) error {
	var last uint64
	for _, c := range cs {
		if c.From < last || c.To < c.From || c.N > c.To-c.From || c.To > maxMember {
			return fmt.Errorf("counted stretch %d–%d holding %d is not one", c.From, c.To, c.N)
		}
		last = c.To
	}
	if len(s.rs) > 0 && len(cs) > 0 && s.rs[0].From < last {
		return fmt.Errorf("counted stretches reach past the exact ranges")
	}
	s.counted = cs
	return nil
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MarshalJSON writes the exact part as base64 of the lengths of its
// alternating runs of absent and present members (unsigned varints,
// starting with absent ones): the encoding earlier versions used for their
// bitsets, so the two read each other. Counted stretches travel apart
// (see State).
func (s Ranges) MarshalJSON() ([]byte, error) {
	var buf []byte
	var pos uint64
	for _, r := range s.rs {
		buf = binary.AppendUvarint(buf, r.From-pos)
		buf = binary.AppendUvarint(buf, r.To-r.From)
		pos = r.To
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(buf))
}

// maxMember bounds what a set read from a file may hold: ordinals and
// sequence numbers are below 2^32.
const maxMember = 1 << 32

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *Ranges) UnmarshalJSON(data []byte) error {
	var str string
	if err := json.Unmarshal(data, &str); err != nil {
		return fmt.Errorf("ranges: %w", err)
	}
	buf, err := base64.StdEncoding.DecodeString(str)
	if err != nil {
		return fmt.Errorf("ranges: %w", err)
	}
	rs := Ranges{Cap: s.Cap}
	var pos uint64
	present := false
	for off := 0; off < len(buf); {
		run, n := binary.Uvarint(buf[off:])
		if n <= 0 || run > maxMember || pos+run > maxMember {
			return fmt.Errorf("ranges: bad run at byte %d", off)
		}
		off += n
		switch n := len(rs.rs); {
		case !present || run == 0:
		case n > 0 && rs.rs[n-1].To == pos: // an empty absent run between two present ones
			rs.rs[n-1].To = pos + run
		default:
			rs.rs = append(rs.rs, Range{pos, pos + run})
		}
		pos += run
		present = !present
	}
	*s = rs
	return nil
}
