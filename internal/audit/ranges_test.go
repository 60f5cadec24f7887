package audit

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/mqbench/mqbench/internal/routing"
)

// TestRangesAgreeWithAMap: random adds, range adds and removes leave the
// same members as a map, in sorted, disjoint, non-adjacent ranges.
func TestRangesAgreeWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var s Ranges
	ref := map[uint64]bool{}
	for i := 0; i < 20_000; i++ {
		x := uint64(rng.IntN(5000))
		switch rng.IntN(3) {
		case 0:
			s.Add(x)
			ref[x] = true
		case 1:
			n := uint64(rng.IntN(20))
			s.AddRange(x, x+n)
			for o := x; o < x+n; o++ {
				ref[o] = true
			}
		case 2:
			if s.Remove(x) != ref[x] {
				t.Fatalf("Remove(%d) disagrees with the map", x)
			}
			delete(ref, x)
		}
	}
	if s.Count() != uint64(len(ref)) {
		t.Fatalf("%d members, want %d", s.Count(), len(ref))
	}
	for o := uint64(0); o < 5100; o++ {
		if s.Has(o) != ref[o] {
			t.Fatalf("Has(%d) = %v", o, s.Has(o))
		}
	}
	all := s.All()
	for i := 1; i < len(all); i++ {
		if all[i].From <= all[i-1].To || all[i].From >= all[i].To {
			t.Fatalf("ranges %v and %v overlap, touch or are empty", all[i-1], all[i])
		}
	}
}

// TestRangesCap: past the cap the older half of the ranges is given up
// as one counted stretch: the count stays exact, no member is invented,
// and a removal there is counted as ambiguous.
func TestRangesCap(t *testing.T) {
	s := Ranges{Cap: 4}
	for x := uint64(0); x < 20; x += 2 { // 10 single members
		s.Add(x)
	}
	if s.Count() != 10 || s.Len() > 4 || len(s.Counted()) == 0 {
		t.Fatalf("count %d, %d exact ranges, counted %v", s.Count(), s.Len(), s.Counted())
	}
	if s.Has(1) || s.Has(0) { // 0's position was given up; 1 was never a member
		t.Errorf("Has answers for a counted stretch")
	}
	if !s.Remove(0) || s.Count() != 9 || s.Ambiguous != 1 {
		t.Errorf("remove in a counted stretch: count %d, ambiguous %d", s.Count(), s.Ambiguous)
	}
	if !s.Has(18) || s.Remove(19) {
		t.Errorf("the exact part must still answer exactly")
	}
	lo, hi := s.CountIn(0, 20)
	if lo != 9 || hi != 9 {
		t.Errorf("CountIn over everything %d–%d, want 9", lo, hi)
	}
}

// TestRangesJSON: the encoding reads back every set, and reads what
// earlier versions wrote for their bitsets (a fixture of that form).
func TestRangesJSON(t *testing.T) {
	cases := map[string][]Range{
		"empty": nil, "zero": {{0, 1}}, "run": {{0, 100_000}}, "holes": {{5, 70}, {200, 1000}, {1001, 1002}},
		"top": {{1<<32 - 1, 1 << 32}},
	}
	for name, rs := range cases {
		var s Ranges
		for _, r := range rs {
			s.AddRange(r.From, r.To)
		}
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Ranges
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back.Count() != s.Count() || back.Len() != s.Len() {
			t.Fatalf("%s: read back %v, want %v", name, back.All(), s.All())
		}
		if name == "run" && len(data) > 16 {
			t.Errorf("a run of 100,000 took %d bytes", len(data))
		}
	}
	// {0..2, 5}: what an earlier Bitset wrote — runs absent 0, present 3,
	// absent 2, present 1 — as uvarints, base64.
	var old Ranges
	if err := json.Unmarshal([]byte(`"AAMCAQ=="`), &old); err != nil || old.Count() != 4 || !old.Has(5) || old.Has(3) {
		t.Fatalf("the earlier encoding read as %v (%v)", old.All(), err)
	}
	for _, bad := range []string{`"!!"`, `"/////w=="`, `12`, `"//////////8B"`} {
		var s Ranges
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestPatternFollowsTheProducersRotation: the ordinals the audit gives
// are the order of the messages routing.KeyIndex sends to the queue, for
// every producer, pattern and sequence — checked by walking the
// rotation the producers use.
func TestPatternFollowsTheProducersRotation(t *testing.T) {
	patterns := [][]bool{{true}, {true, false, false}, {false, true, true, false, true}, {false, false, false, true}}
	for _, routes := range patterns {
		pt := NewPattern(routes)
		for p := 0; p < 7; p++ {
			var ord uint64
			for seq := 0; seq < 200; seq++ {
				routed := routes[routing.KeyIndex(p, int64(seq), len(routes))]
				if pt.Routed(p, uint64(seq)) != routed {
					t.Fatalf("routes %v producer %d seq %d: Routed disagrees with KeyIndex", routes, p, seq)
				}
				if got := pt.Ordinal(p, uint64(seq)); got != ord {
					t.Fatalf("routes %v producer %d seq %d: ordinal %d, want %d", routes, p, seq, got, ord)
				}
				if routed {
					if back := pt.Seq(p, ord); back != uint64(seq) {
						t.Fatalf("routes %v producer %d: Seq(%d) = %d, want %d", routes, p, ord, back, seq)
					}
					ord++
				}
			}
			if pt.Expected(p, 200) != ord {
				t.Fatalf("routes %v producer %d: expected %d of 200, want %d", routes, p, pt.Expected(p, 200), ord)
			}
		}
	}
}
