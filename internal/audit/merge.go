package audit

import "slices"

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
	u := union(a, b)
	st := u.state(t.Producer)
	st.Approximate = g.Tracks[i].Approximate + t.Approximate
	g.Tracks[i] = st
	return nil
}

// union is the track of what a or b accounted for.
func union(a, b *Track) *Track {
	p := min(a.base, b.base)
	u := newTrack(0, 0)
	u.base, u.hi, u.dups = p, max(a.hi, b.hi), a.dups+b.dups
	// Below p both tracks list what is missing: missing in both is a gap
	// of the union, accounted for in both is a duplicate.
	var ga, gb uint64
	a.gaps.Each(0, p, func(x, y uint64) { ga += y - x })
	b.gaps.Each(0, p, func(x, y uint64) { gb += y - x })
	a.gaps.Each(0, p, func(x, y uint64) {
		b.gaps.Each(x, y, func(x, y uint64) { u.gaps.AddRange(x, y) })
	})
	both := p - ga - gb + u.gaps.Count()
	// From p up, the union's window: a's accounted runs, then b's, whose
	// bits already set are the duplicates.
	top := u.hi
	a.accounted(p, top, u.setRange)
	b.accounted(p, top, func(x, y uint64) {
		both += u.countSet(x, y)
		u.setRange(x, y)
	})
	if u.n > 0 && u.has(u.base) {
		u.advance()
	}
	for c := range u.counts {
		u.counts[c] = a.counts[c] + b.counts[c]
	}
	u.counts[Consumed] -= min(u.counts[Consumed], both)
	u.dups += both
	for _, t := range []*Track{a, b} {
		for o := range t.requeued {
			if !u.accountedLocked(o) {
				if u.requeued == nil {
					u.requeued = map[uint64]uint32{}
				}
				u.requeued[o] += t.requeued[o]
			}
		}
	}
	return u
}

// accounted calls fn with each run of ordinals in [from, to) accounted
// for: the complement of missing.
func (t *Track) accounted(from, to uint64, fn func(from, to uint64)) {
	o := from
	t.missing(from, to, func(x, y uint64) {
		if x > o {
			fn(o, x)
		}
		o = y
	})
	if o < to {
		fn(o, to)
	}
}

// countSet counts the window bits set in [from, to) (from ≥ base).
func (t *Track) countSet(from, to uint64) uint64 {
	var n uint64
	for o := from; o < min(to, t.top); o++ {
		if t.has(o) {
			n++
		}
	}
	return n
}
