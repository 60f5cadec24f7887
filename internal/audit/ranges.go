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

// Ranges is a set of numbers kept as sorted, disjoint, non-adjacent
// ranges: a producer's confirmed messages, an account's gaps. Its memory
// follows the number of holes, not of members, and adding members in
// order (the usual case) only ever extends the last range.
//
// With a cap set, a set that would hold more ranges than the cap fills
// its first hole instead (the members added that way are counted in
// Filled): memory stays bounded, and the figures that depend on the
// filled holes are said to be approximate.
type Ranges struct {
	rs     []Range
	Cap    int    // most ranges kept; 0 = no cap
	Filled uint64 // members added by filling holes at the cap
}

// Len is the number of ranges.
func (s *Ranges) Len() int { return len(s.rs) }

// All returns the ranges (shared: do not modify).
func (s *Ranges) All() []Range { return s.rs }

// Add adds x.
func (s *Ranges) Add(x uint64) { s.AddRange(x, x+1) }

// AddRange adds [from, to).
func (s *Ranges) AddRange(from, to uint64) {
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

// capped fills the first hole while there are more ranges than the cap.
func (s *Ranges) capped() {
	for s.Cap > 0 && len(s.rs) > s.Cap {
		s.Filled += s.rs[1].From - s.rs[0].To
		s.rs[1].From = s.rs[0].From
		s.rs = slices.Delete(s.rs, 0, 1)
	}
}

// Remove takes x out and reports whether it was there.
func (s *Ranges) Remove(x uint64) bool {
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

// find returns the index of the range holding x, if any.
func (s *Ranges) find(x uint64) (int, bool) {
	i, _ := slices.BinarySearchFunc(s.rs, x, func(r Range, x uint64) int { return cmpU(r.To, x+1) })
	return i, i < len(s.rs) && s.rs[i].From <= x
}

// Has reports whether x is a member.
func (s *Ranges) Has(x uint64) bool {
	_, found := s.find(x)
	return found
}

// Count is the number of members.
func (s *Ranges) Count() uint64 {
	var n uint64
	for _, r := range s.rs {
		n += r.To - r.From
	}
	return n
}

// Each calls fn with each range's intersection with [from, to).
func (s *Ranges) Each(from, to uint64, fn func(from, to uint64)) {
	i, _ := slices.BinarySearchFunc(s.rs, from, func(r Range, x uint64) int { return cmpU(r.To, x+1) })
	for ; i < len(s.rs) && s.rs[i].From < to; i++ {
		if a, b := max(from, s.rs[i].From), min(to, s.rs[i].To); a < b {
			fn(a, b)
		}
	}
}

// Bytes is the set's memory.
func (s *Ranges) Bytes() int64 { return int64(cap(s.rs)) * int64(unsafe.Sizeof(Range{})) }

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MarshalJSON writes the set as base64 of the lengths of its alternating
// runs of absent and present members (unsigned varints, starting with
// absent ones): the encoding earlier versions used for their bitsets, so
// the two read each other.
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
		if present {
			rs.AddRange(pos, pos+run)
		}
		pos += run
		present = !present
	}
	*s = rs
	return nil
}
