package audit

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// reference is the obvious account a Track must agree with: a map of
// every ordinal accounted for.
type reference struct {
	seen map[uint64]bool
	dups uint64
}

func (r *reference) account(o uint64) {
	if r.seen[o] {
		r.dups++
	}
	r.seen[o] = true
}

// missingRuns lists the runs the track says are missing below end.
func missingRuns(t *Track, end uint64) []Range {
	var out []Range
	t.missing(0, end, func(a, b uint64) {
		if n := len(out); n > 0 && out[n-1].To == a {
			out[n-1].To = b
			return
		}
		out = append(out, Range{a, b})
	})
	return out
}

func refMissing(r *reference, end uint64) []Range {
	var out []Range
	for o := uint64(0); o < end; o++ {
		if r.seen[o] {
			continue
		}
		if n := len(out); n > 0 && out[n-1].To == o {
			out[n-1].To++
		} else {
			out = append(out, Range{o, o + 1})
		}
	}
	return out
}

// TestTrackAgreesWithAMap: streams in order, reordered, with duplicates
// and with messages that never come, through tracks with and without
// spilling: the duplicates and the missing runs are exactly the
// reference's, and the window stays within its bound.
func TestTrackAgreesWithAMap(t *testing.T) {
	cases := []struct {
		name             string
		n                int
		reorder, dup     float64
		drop             float64
		spill            uint64
		longGapsEvery    int
		wantWindowBelow  int // bytes
		wantNoGapsListed bool
	}{
		{name: "in order", n: 100_000, spill: 1024, wantWindowBelow: 64, wantNoGapsListed: true},
		{name: "reordered", n: 100_000, reorder: 0.05, spill: 1024, wantWindowBelow: 2048},
		{name: "duplicates", n: 50_000, dup: 0.02, reorder: 0.01, spill: 1024, wantWindowBelow: 2048},
		{name: "lost messages spill", n: 200_000, drop: 0.001, reorder: 0.01, spill: 1024, wantWindowBelow: 2048},
		{name: "no spill (a shard)", n: 20_000, drop: 0.3, spill: 0, wantWindowBelow: 1 << 20},
		{name: "long gaps", n: 100_000, longGapsEvery: 10_000, spill: 256, wantWindowBelow: 1024},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.n)))
			tr := newTrack(tc.spill, 0)
			ref := &reference{seen: map[uint64]bool{}}
			var held []uint64
			for o := uint64(0); o < uint64(tc.n); o++ {
				if tc.longGapsEvery > 0 && int(o)%tc.longGapsEvery < 100 {
					continue // a stretch that never arrives
				}
				if rng.Float64() < tc.drop {
					continue
				}
				if rng.Float64() < tc.reorder {
					held = append(held, o) // arrives later
					continue
				}
				for _, x := range append([]uint64{o}, deliverSome(rng, &held)...) {
					tr.account(x, Consumed, 0)
					ref.account(x)
				}
				if rng.Float64() < tc.dup {
					tr.account(o, Consumed, 0)
					ref.account(o)
				}
				if b := 8 * tr.n; b > tc.wantWindowBelow {
					t.Fatalf("at %d the window holds %d bytes, want ≤ %d", o, b, tc.wantWindowBelow)
				}
			}
			for _, x := range held {
				tr.account(x, Consumed, 0)
				ref.account(x)
			}
			end := uint64(tc.n) + 10
			got, want := missingRuns(tr, end), refMissing(ref, end)
			if len(got) != len(want) {
				t.Fatalf("%d missing runs, want %d (first %v vs %v)", len(got), len(want), head(got), head(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("missing run %d is %v, want %v", i, got[i], want[i])
				}
			}
			if tr.dups != ref.dups || tr.counts[Consumed] != uint64(len(ref.seen)) {
				t.Fatalf("dups %d consumed %d, want %d and %d", tr.dups, tr.counts[Consumed], ref.dups, len(ref.seen))
			}
			if tc.wantNoGapsListed && tr.gaps.Len() != 0 {
				t.Fatalf("%d gaps listed for an in-order stream", tr.gaps.Len())
			}
		})
	}
}

func head(r []Range) []Range { return r[:min(len(r), 3)] }

// deliverSome takes a few held ordinals out, in random order.
func deliverSome(rng *rand.Rand, held *[]uint64) []uint64 {
	var out []uint64
	for len(*held) > 0 && rng.IntN(3) == 0 {
		i := rng.IntN(len(*held))
		out = append(out, (*held)[i])
		(*held)[i] = (*held)[len(*held)-1]
		*held = (*held)[:len(*held)-1]
	}
	return out
}

// TestTrackLateArrivalFillsAGap: a message that arrives after its gap was
// spilled fills it (consumed, not a duplicate); a second copy is one.
func TestTrackLateArrivalFillsAGap(t *testing.T) {
	tr := newTrack(64, 0)
	for o := uint64(1); o < 500; o++ {
		tr.account(o, Consumed, 0)
	}
	if tr.gaps.Len() != 1 || !tr.gaps.Has(0) {
		t.Fatalf("gaps %v: want ordinal 0 spilled", tr.gaps.All())
	}
	if tr.account(0, Consumed, 0) || !tr.account(0, Consumed, 0) {
		t.Fatal("the late arrival must fill the gap, its second copy be a duplicate")
	}
	if tr.counts[Consumed] != 500 || tr.dups != 1 || tr.gaps.Len() != 0 {
		t.Fatalf("consumed %d dups %d gaps %v", tr.counts[Consumed], tr.dups, tr.gaps.All())
	}
}

// TestTrackBillionInOrder is the bound: 10⁹ in-order ordinals,
// then a stream with 0.1% reordering and 100 gaps, through one track:
// its memory stays under 1 MiB (measured by the runtime, not by the
// track) and the gaps are reported exactly. About 10 s; not under -race.
func TestTrackBillionInOrder(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("10⁹ deliveries: run without -race and -short (scripts/test.sh does)")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := newTrack(DefaultSpill, DefaultGapCap)
	const n = 1_000_000_000
	for o := uint64(0); o < n; o++ {
		tr.accountLocked(o, Consumed, 0)
	}
	// Then 10⁷ more with 0.1% reordering (each held back 1–1,000 places)
	// and 100 stretches of 10 that never arrive.
	rng := rand.New(rand.NewPCG(1, 2))
	gapAt := map[uint64]bool{}
	for len(gapAt) < 100 {
		gapAt[n+uint64(rng.IntN(9_999_000))/10*10] = true
	}
	type late struct{ o, at uint64 }
	var pending []late
	for o := uint64(n); o < n+10_000_000; o++ {
		if gapAt[o/10*10] {
			continue
		}
		if rng.IntN(1000) == 0 {
			pending = append(pending, late{o, o + 1 + uint64(rng.IntN(1000))})
			continue
		}
		tr.accountLocked(o, Consumed, 0)
		for i := 0; i < len(pending); {
			if pending[i].at <= o {
				tr.accountLocked(pending[i].o, Consumed, 0)
				pending[i] = pending[len(pending)-1]
				pending = pending[:len(pending)-1]
				continue
			}
			i++
		}
	}
	for _, p := range pending {
		tr.accountLocked(p.o, Consumed, 0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew by %d bytes; track says %d", grew, tr.Bytes())
	if grew > 1<<20 || tr.Bytes() > 1<<20 {
		t.Fatalf("heap grew by %d bytes, track %d: want under 1 MiB", grew, tr.Bytes())
	}
	runs := missingRuns(tr, n+10_000_000)
	if len(runs) != 100 {
		t.Fatalf("%d missing runs, want the 100 gaps", len(runs))
	}
	for _, r := range runs {
		if !gapAt[r.From] || r.To-r.From != 10 {
			t.Fatalf("missing run %v is not one of the gaps", r)
		}
	}
	if tr.counts[Consumed] != n+10_000_000-1000 || tr.dups != 0 {
		t.Fatalf("consumed %d dups %d", tr.counts[Consumed], tr.dups)
	}
}
