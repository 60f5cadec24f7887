package audit

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestBitsetJSON: the run-length encoding reads back every set exactly,
// from empty to dense to scattered, across word boundaries.
func TestBitsetJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string][]uint32{
		"empty":      nil,
		"zero":       {0},
		"word edges": {63, 64, 127, 128},
		"run":        seqRange(0, 100_000),
		"gap run":    append(seqRange(5, 70), seqRange(200, 1000)...),
		"top":        {1<<32 - 1},
	}
	scattered := []uint32{}
	for i := 0; i < 2000; i++ {
		scattered = append(scattered, uint32(rng.IntN(50_000)))
	}
	cases["scattered"] = scattered
	for name, members := range cases {
		t.Run(name, func(t *testing.T) {
			var b Bitset
			for _, m := range members {
				b.Set(m)
			}
			data, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			var back Bitset
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if back.Count() != b.Count() {
				t.Fatalf("%d members read back, want %d", back.Count(), b.Count())
			}
			for _, m := range members {
				if !back.Has(m) {
					t.Fatalf("%d lost", m)
				}
			}
			if name == "run" && len(data) > 16 {
				t.Errorf("a run of 100,000 took %d bytes", len(data))
			}
		})
	}
	for _, bad := range []string{`"!!"`, `"/////w=="`, `12`} {
		var b Bitset
		if err := json.Unmarshal([]byte(bad), &b); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func seqRange(from, to uint32) []uint32 {
	var out []uint32
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// wholeAndShards builds one run twice: as one process's state, and as
// three shards' states (producer and consumer i in shard i mod 3, the
// owner reading what was left), through JSON like mqbench merge does.
func wholeAndShards(t *testing.T) (*State, []*State) {
	t.Helper()
	const producers, consumers, shards, per = 5, 4, 3, 300
	rng := rand.New(rand.NewPCG(7, 8))
	prods := make([]ProducerState, producers)
	for id := range prods {
		prods[id] = ProducerState{ID: id, Published: per, Confirms: true}
		for s := uint32(0); s < per-3; s++ { // the last three never confirmed
			prods[id].Acked.Set(s)
		}
	}
	cons := make([]*Consumer, consumers)
	for i := range cons {
		cons[i] = NewConsumer(producers)
	}
	swept := NewConsumer(producers)
	for id := 0; id < producers; id++ {
		for s := uint32(0); s < per; s++ {
			if s >= per-3 {
				continue // never confirmed, never seen: unconfirmed
			}
			switch r := rng.IntN(100); {
			case r < 90:
				cons[rng.IntN(consumers)].Deliver(id, s, true, false)
			case r < 93: // delivered twice, to two consumers (a redelivery)
				cons[0].Deliver(id, s, true, false)
				cons[1].Deliver(id, s, true, true)
			case r < 96:
				swept.Deliver(id, s, true, false)
			} // else: never seen — lost if confirmed
		}
	}
	routes := []bool{true}
	whole := &State{Producers: producers, Keys: 1, Publishers: prods}
	g := GroupState{Name: "q", End: &EndState{Swept: ptr(swept.State())}}
	for _, c := range cons {
		g.Consumers = append(g.Consumers, c.State())
	}
	whole.Queues = []QueueState{{Index: 0, Name: "q", Routes: routes, Groups: []GroupState{g}}}

	var parts []*State
	for sh := 0; sh < shards; sh++ {
		st := &State{Producers: producers, Keys: 1}
		for id := sh; id < producers; id += shards {
			st.Publishers = append(st.Publishers, prods[id])
		}
		g := GroupState{Name: "q"}
		for i := sh; i < consumers; i += shards {
			g.Consumers = append(g.Consumers, cons[i].State())
		}
		if sh == 0 {
			g.End = &EndState{Swept: ptr(swept.State())}
		}
		st.Queues = []QueueState{{Index: 0, Name: "q", Routes: routes, Groups: []GroupState{g}}}
		data, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var back State
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, &back)
	}
	return whole, parts
}

func ptr[T any](v T) *T { return &v }

// TestMergedStatesReconcileLikeOneProcess: three shards' states, each
// saved and read back, merge into exactly the account one process
// holding every bitset makes — duplicates across shards included.
func TestMergedStatesReconcileLikeOneProcess(t *testing.T) {
	whole, parts := wholeAndShards(t)
	key := func(int, uint32) int { return 0 }
	want, err := whole.Reconcile(key)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := merged.Reconcile(key)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged\n%+v\none process\n%+v", got, want)
	}
	q := want[0]
	if q.Duplicates == 0 || q.Left == 0 || q.Lost == 0 || q.Unconfirmed == 0 || !q.Balanced() {
		t.Fatalf("the fixture should exercise every account and balance: %+v", q)
	}
	// A shard alone cannot tell another shard's consumption from a loss.
	alone, err := parts[1].Reconcile(key)
	if err != nil {
		t.Fatal(err)
	}
	if alone[0].Balanced() && alone[0] == q {
		t.Error("one shard's state reconciled to the whole run's account")
	}
	if alone[0].Lost <= q.Lost {
		t.Errorf("shard 1 alone: %d lost, the whole run %d: what the other shards consumed should look lost to it", alone[0].Lost, q.Lost)
	}
}

// TestMergeRefusesStatesOfAnotherRun: states that cannot be of one run
// are refused, saying why.
func TestMergeRefusesStatesOfAnotherRun(t *testing.T) {
	_, parts := wholeAndShards(t)
	other := *parts[1]
	other.Producers++
	twice := *parts[2]
	twice.Queues = []QueueState{parts[0].Queues[0]} // the owner's end again
	for name, c := range map[string]struct {
		states []*State
		want   string
	}{
		"producers": {[]*State{parts[0], &other}, "not the same run"},
		"two ends":  {[]*State{parts[0], &twice}, "only the owner"},
		"none":      {nil, "no state"},
	} {
		if _, err := Merge(c.states); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	dup := &State{Producers: 5, Keys: 1, Publishers: []ProducerState{{ID: 1}, {ID: 1}}}
	if _, err := dup.Reconcile(func(int, uint32) int { return 0 }); err == nil {
		t.Error("a producer twice: no error")
	}
}

// TestMergeKeepsEveryShardsNote: an incomplete audit in any shard makes
// the merged one incomplete, and each shard's reason is kept, once.
func TestMergeKeepsEveryShardsNote(t *testing.T) {
	_, parts := wholeAndShards(t)
	a, b, c := *parts[0], *parts[1], *parts[2]
	a.Note = ""
	b.Incomplete, b.Note = true, "shard 1: a consumer did not stop in time"
	c.Incomplete, c.Note = true, "shard 2: a connection was lost"
	d := c // the same reason from another shard
	merged, err := Merge([]*State{&a, &b, &c, &d})
	if err != nil {
		t.Fatal(err)
	}
	want := b.Note + "; " + c.Note
	if !merged.Incomplete || merged.Note != want {
		t.Fatalf("incomplete %v, note %q: want true and %q", merged.Incomplete, merged.Note, want)
	}
}

// TestHostileStatesAreRefused: a state read from a file that no run could
// have written is an error, never a panic or a hang.
func TestHostileStatesAreRefused(t *testing.T) {
	key := func(int, uint32) int { return 0 }
	var huge Bitset
	if err := json.Unmarshal([]byte(`"AICAgIAB"`), &huge); err != nil { // members 0..2^28-1
		t.Fatal(err)
	}
	for name, st := range map[string]*State{
		"no keys":            {Producers: 1, Keys: 0},
		"negative producers": {Producers: -1, Keys: 1},
		"many producers":     {Producers: 1 << 30, Keys: 1},
		"confirms beyond":    {Producers: 1, Keys: 1, Publishers: []ProducerState{{ID: 0, Published: 3, Acked: huge}}},
	} {
		if _, err := st.Reconcile(key); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A consumer's set beyond what was published counts as unexpected, at
	// once (not bit by bit).
	st := &State{Producers: 1, Keys: 1, Publishers: []ProducerState{{ID: 0, Published: 2}},
		Queues: []QueueState{{Name: "q", Routes: []bool{true}, Groups: []GroupState{{Name: "q",
			Consumers: []ConsumerState{{Seen: []SeenState{{Producer: 0, Set: huge, Last: 1}}}}}}}}}
	qs, err := st.Reconcile(key)
	if err != nil || qs[0].Unexpected != 1<<28-2 {
		t.Fatalf("%+v %v", qs, err)
	}
}
