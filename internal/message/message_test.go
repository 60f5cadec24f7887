package message

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqbench/mqbench/internal/scenario"
)

func draws() []scenario.HeaderDraw {
	return []scenario.HeaderDraw{
		{Name: "region", Values: []any{"eu", "us", "ap"}, Weights: []int{2, 1, 1}},
		{Name: "tier", Values: []any{int64(1), int64(2)}, Weights: []int{1, 1}},
	}
}

// TestDeckDealsEveryValueItsShare: over a period of Slots() messages each
// value of each header comes up exactly its weight's share, every
// combination as often as the weights make it, for every number of keys;
// Deal writes what the model reads (Values of the slot's Combination).
func TestDeckDealsEveryValueItsShare(t *testing.T) {
	for _, keys := range []int{1, 3, 4} {
		d := NewDeck(draws(), keys)
		if d.Slots() != 8 || d.Period() != 8*keys || d.Combinations() != 6 {
			t.Fatalf("keys %d: slots %d period %d combinations %d", keys, d.Slots(), d.Period(), d.Combinations())
		}
		for p := range 3 {
			counts := map[string]int{}
			perKey := map[int]map[string]int{}
			table := map[string]any{"region": nil, "tier": nil, "fixed": "x"}
			for seq := int64(0); seq < int64(d.Period()); seq++ {
				d.Deal(table, p, seq)
				j := d.Position(p, seq)
				want := d.Values(d.Combination(d.SlotAt(j)))
				if table["region"] != want["region"] || table["tier"] != want["tier"] || len(table) != 3 {
					t.Fatalf("producer %d seq %d: dealt %v, the model says %v", p, seq, table, want)
				}
				combo := fmt.Sprintf("%v %v", table["region"], table["tier"])
				counts[combo]++
				k := j % keys
				if perKey[k] == nil {
					perKey[k] = map[string]int{}
				}
				perKey[k][combo]++
			}
			// region eu 2/4, us 1/4, ap 1/4; tier 1/2 each: per key and period.
			want := map[string]int{"eu 1": 2, "eu 2": 2, "us 1": 1, "us 2": 1, "ap 1": 1, "ap 2": 1}
			for k, c := range perKey {
				for combo, n := range want {
					if c[combo] != n {
						t.Fatalf("keys %d producer %d key %d: %v, want %v", keys, p, k, c, want)
					}
				}
			}
		}
	}
}

// TestDeckOrderLooksDrawn: successive messages do not walk the values in
// order — the slots are shuffled — and the deal is the same every time.
func TestDeckOrderLooksDrawn(t *testing.T) {
	big := []scenario.HeaderDraw{{Name: "n", Values: ints(0, 99), Weights: ones(100)}}
	d, again := NewDeck(big, 1), NewDeck(big, 1)
	inOrder := 0
	for j := 0; j < d.Period(); j++ {
		if d.SlotAt(j) != again.SlotAt(j) {
			t.Fatal("two decks of one scenario deal differently")
		}
		if j > 0 && d.SlotAt(j) == d.SlotAt(j-1)+1 {
			inOrder++
		}
	}
	if inOrder > 10 {
		t.Fatalf("%d of 100 slots follow their predecessor: not shuffled", inOrder)
	}
}

func TestDealDoesNotAllocate(t *testing.T) {
	d := NewDeck(draws(), 2)
	table := map[string]any{"region": nil, "tier": nil}
	seq := int64(0)
	if n := testing.AllocsPerRun(1000, func() { d.Deal(table, 1, seq); seq++ }); n != 0 {
		t.Fatalf("%.1f allocations per deal", n)
	}
}

func TestNoDrawsNoDeck(t *testing.T) {
	if NewDeck(nil, 3) != nil {
		t.Fatal("a deck without drawn headers")
	}
}

func ints(lo, hi int64) []any {
	var out []any
	for v := lo; v <= hi; v++ {
		out = append(out, v)
	}
	return out
}

func ones(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func TestIDTemplates(t *testing.T) {
	parts, err := scenario.ParseID("order-{run}/{producer}-{seq}.{seq}")
	if err != nil {
		t.Fatal(err)
	}
	id := NewID(parts, 0xabc, 7)
	if _, fixed := id.Fixed(); fixed {
		t.Fatal("a template with {seq} is not fixed")
	}
	if got := id.Format(42); got != "order-0000000000000abc/7-42.42" {
		t.Fatalf("id %q", got)
	}
	if got := id.Format(math.MaxUint32); got != "order-0000000000000abc/7-4294967295.4294967295" {
		t.Fatalf("id %q", got)
	}
	seq := uint32(0)
	if n := testing.AllocsPerRun(1000, func() { _ = id.Format(seq); seq += 999_999 }); n != 0 {
		t.Fatalf("%.1f allocations per id", n)
	}
	parts, _ = scenario.ParseID("{producer}@mqbench")
	if s, fixed := NewID(parts, 1, 3).Fixed(); !fixed || s != "3@mqbench" {
		t.Fatalf("fixed id %q %v", s, fixed)
	}
	if NewID(nil, 1, 1) != nil {
		t.Fatal("an empty template makes an id")
	}
}

// TestRandomBodiesCompressToTheirRatio: random bodies compress, with
// compress/flate at its default level, to within 2% of the ratio asked
// (64 KiB and 1 MiB bodies), an incompressible one not at all, and prefixes
// of a body (the shorter sizes of a size distribution) nearly as well;
// the bytes are the same every time.
func TestRandomBodiesCompressToTheirRatio(t *testing.T) {
	for _, size := range []int{64 << 10, 1 << 20} {
		for _, want := range []float64{1, 1.5, 2, 4, 10, 30} {
			b := Random(size, want)
			got := Ratio(b)
			t.Logf("%7d bytes, ratio %4g: %.3f", size, want, got)
			if len(b) != size || math.Abs(got-want)/want > 0.02 {
				t.Errorf("%d bytes at ratio %g: %d bytes compress %.3f times", size, want, len(b), got)
			}
			if want == 4 && size == 1<<20 {
				if prefix := Ratio(b[:16<<10]); math.Abs(prefix-want)/want > 0.1 {
					t.Errorf("a 16 KiB prefix of a ratio-4 body compresses %.3f times", prefix)
				}
			}
		}
	}
	if a, b := Random(4096, 3), Random(4096, 3); string(a) != string(b) {
		t.Error("two random bodies of one size and ratio differ")
	}
}

func TestFilesReadsAFileOrADirectoryInNameOrder(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct{ name, body string }{{"b.json", "second"}, {"a.json", "first"}, {"c.bin", ""}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	bodies, err := Files(dir)
	if err != nil || len(bodies) != 3 || string(bodies[0]) != "first" || string(bodies[1]) != "second" || len(bodies[2]) != 0 {
		t.Fatalf("bodies %q, err %v", bodies, err)
	}
	one, err := Files(filepath.Join(dir, "b.json"))
	if err != nil || len(one) != 1 || string(one[0]) != "second" {
		t.Fatalf("one body %q, err %v", one, err)
	}
	if _, err := Files(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing file gives no error")
	}
}

func BenchmarkDeal(b *testing.B) {
	d := NewDeck(draws(), 1)
	table := map[string]any{"region": nil, "tier": nil, "fixed": "x"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Deal(table, 1, int64(i))
	}
}

func BenchmarkIDFormat(b *testing.B) {
	parts, _ := scenario.ParseID("{run}-{producer}-{seq}")
	id := NewID(parts, 0xabcdef, 3)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = id.Format(uint32(i))
	}
}
