package audit

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
)

// mergeTrack adds t, another shard's track of the same account, into
// the group: the union of what the shards accounted for, a message
// accounted for in two shards being a duplicate.
func mergeTrack(g *GroupState, t TrackState) error {
	i := slices.IndexFunc(g.Tracks, func(e TrackState) bool { return e.Producer == t.Producer })
	if i < 0 {
		g.Tracks = append(g.Tracks, t)
		return nil
	}
	a, err := g.Tracks[i].track()
	if err != nil {
		return err
	}
	b, err := t.track()
	if err != nil {
		return err
	}
	u, err := union(a, b)
	if err != nil {
		return fmt.Errorf("audit: %s, producer %d: %w", g.Name, t.Producer, err)
	}
	g.Tracks[i] = u.state(t.Producer)
	return nil
}

// union is the track of what a or b accounted for. Shards' tracks keep
// every hole in their window (they never spill), so the union is their
// windows' bits ORed from the lower base up; a track with gaps is one
// process's whole view, never a shard's.
func union(a, b *Track) (*Track, error) {
	if a.gaps.Count() > 0 || b.gaps.Count() > 0 {
		return nil, fmt.Errorf("a track with gaps is a whole run's and is not merged")
	}
	lo := min(a.base, b.base) &^ 63
	top := max(a.hi, b.hi, a.base, b.base)
	wa, wb := a.accountedWords(lo, top), b.accountedWords(lo, top)
	both := lo // below both bases (and no gaps): accounted in both
	for i := range wa {
		both += uint64(bits.OnesCount64(wa[i] & wb[i]))
		wa[i] |= wb[i]
	}
	u := newTrack(0, 0)
	u.base, u.hi, u.dups = min(a.base, b.base), max(a.hi, b.hi), a.dups+b.dups+both
	if n := len(wa); n > 0 {
		u.grow(n) // a ring's length is a power of two
		copy(u.ring, wa)
		u.wbase, u.n, u.top = lo, n, top
		u.advance()
	}
	for c := range u.counts {
		u.counts[c] = a.counts[c] + b.counts[c]
	}
	u.counts[Consumed] -= min(u.counts[Consumed], both)
	for _, t := range []*Track{a, b} {
		t.requeued.Each(0, maxMember, func(x, y uint64) {
			for o := x; o < y; o++ {
				if !u.accountedLocked(o) {
					u.requeued.Add(o)
				}
			}
		})
	}
	u.marks.Points = mergeMarks(a.marks.Points, b.marks.Points)
	return u, nil
}

// accountedWords is the track's accounted ordinals in [lo, hi) as words
// (lo a multiple of 64): everything below base, and the window's bits.
func (t *Track) accountedWords(lo, hi uint64) []uint64 {
	if hi <= lo {
		return nil
	}
	out := make([]uint64, (hi-lo+63)/64)
	for o := lo; o < min(t.base, hi); { // below base: all accounted (no gaps here)
		i := (o - lo) / 64
		if o%64 == 0 && o+64 <= t.base {
			out[i] = ^uint64(0)
			o += 64
			continue
		}
		out[i] |= 1 << (o % 64)
		o++
	}
	for i := 0; i < t.n; i++ {
		w := t.wbase + 64*uint64(i)
		if w >= lo && w < hi {
			out[(w-lo)/64] |= t.word(i)
		}
	}
	return out
}

// mergeMarks merges two logs of when the highest accounted ordinal grew:
// in time order, each mark the highest of either so far.
func mergeMarks(a, b []Checkpoint) []Checkpoint {
	all := append(slices.Clone(a), b...)
	slices.SortFunc(all, func(x, y Checkpoint) int { return cmp.Compare(x.At, y.At) })
	var hi uint64
	for i := range all {
		hi = max(hi, all[i].Published)
		all[i].Published = hi
	}
	return all
}
