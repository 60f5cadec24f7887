package audit

import (
	"runtime"
	"testing"
)

func TestBitset(t *testing.T) {
	var a, b Bitset
	for _, i := range []uint32{0, 63, 64, 1000} {
		if a.Set(i) {
			t.Fatalf("%d already set", i)
		}
	}
	if !a.Set(63) || !a.Has(1000) || a.Has(999) || a.Count() != 4 {
		t.Fatal("set semantics")
	}
	b.Set(1000)
	b.Set(5000)
	if both := a.Merge(&b); both != 1 || a.Count() != 5 || !a.Has(5000) {
		t.Fatalf("merge: both %d count %d", both, a.Count())
	}
}

// TestReconcile: every published message is accounted for exactly once.
func TestReconcile(t *testing.T) {
	p := &Producer{Published: 10, Confirms: true}
	for _, s := range []uint32{0, 1, 2, 3, 4, 5, 6, 7} { // 8 and 9 never confirmed
		p.Acked.Set(s)
	}
	c1, c2 := NewConsumer(1), NewConsumer(1)
	for _, s := range []uint32{0, 2, 1} { // 1 after 2: out of order
		c1.Deliver(0, s, true, false)
	}
	c1.Deliver(0, 2, true, true) // redelivered duplicate
	c2.Deliver(0, 4, true, false)
	c2.Deliver(0, 0, true, false) // also on the other consumer: duplicate
	c2.Deliver(0, 9, true, false) // consumed though unconfirmed: consumed
	c2.Deliver(-1, 0, false, false)
	q := Reconcile("q", []*Producer{p}, func(int, uint32) bool { return true }, []*Consumer{c1, c2}, End{})
	want := Queue{Name: "q", Expected: 10, Consumed: 5, Lost: 4, Unconfirmed: 1, Duplicates: 2, Redelivered: 1, OutOfOrder: 2, Unexpected: 1}
	if q != want {
		t.Fatalf("reconciled\n%+v\nwant\n%+v", q, want)
	}
	if q.Balanced() {
		t.Error("a foreign delivery must unbalance the audit")
	}
	// Routing: only even sequences go to this queue.
	q = Reconcile("even", []*Producer{p}, func(_ int, s uint32) bool { return s%2 == 0 }, []*Consumer{c1}, End{})
	if q.Expected != 5 || q.Unexpected != 1 || q.Consumed != 2 { // 1 was consumed though not routed here
		t.Fatalf("routed reconcile %+v", q)
	}
}

// TestSparseConsumer: with many producers a consumer keeps state only for
// those it heard from, and reconciles the same way.
func TestSparseConsumer(t *testing.T) {
	const n = 1000
	prods := make([]*Producer, n)
	for i := range prods {
		prods[i] = &Producer{Published: 2, Confirms: true}
		prods[i].Acked.Set(0)
		prods[i].Acked.Set(1)
	}
	c := NewConsumer(n)
	c.Deliver(7, 0, true, false)
	c.Deliver(7, 1, true, false)
	c.Deliver(7, 1, true, false)
	c.Deliver(n, 0, true, false) // beyond the producers: foreign
	if len(c.sparse) != 1 || c.dense != nil {
		t.Fatalf("sparse %d dense %v", len(c.sparse), c.dense != nil)
	}
	q := Reconcile("q", prods, func(id int, _ uint32) bool { return id == 7 }, []*Consumer{c}, End{})
	if q.Expected != 2 || q.Consumed != 2 || q.Duplicates != 1 || q.Unexpected != 1 {
		t.Fatalf("%+v", q)
	}
}

// TestLeftDroppedLost: what is still in the queue is left, not lost; what
// a queue configured to drop messages is missing is dropped; only what
// nothing explains is lost. The account always balances.
func TestLeftDroppedLost(t *testing.T) {
	p := &Producer{Published: 10, Confirms: true}
	for s := uint32(0); s < 8; s++ { // 8 and 9 never confirmed
		p.Acked.Set(s)
	}
	c := NewConsumer(1)
	for _, s := range []uint32{0, 1, 2} {
		c.Deliver(0, s, true, false)
	}
	swept := NewConsumer(1)
	for _, s := range []uint32{3, 4, 9} { // found in the queue at the end (9 unconfirmed)
		swept.Deliver(0, s, true, false)
	}
	all := func(int, uint32) bool { return true }
	cases := []struct {
		name string
		end  End
		want Queue
	}{
		{"nothing known", End{}, Queue{Expected: 10, Consumed: 3, Lost: 5, Unconfirmed: 2}},
		{"swept", End{Swept: swept}, Queue{Expected: 10, Consumed: 3, Left: 3, Lost: 3, Unconfirmed: 1}},
		{"depth only", End{Depth: 4}, Queue{Expected: 10, Consumed: 3, Left: 4, Lost: 1, Unconfirmed: 2}},
		{"depth beyond", End{Depth: 100}, Queue{Expected: 10, Consumed: 3, Left: 7}},
		{"dropped", End{Swept: swept, DropReason: "x-max-length 5"}, Queue{Expected: 10, Consumed: 3, Left: 3, Dropped: 3, DropReason: "x-max-length 5", Unconfirmed: 1}},
	}
	for _, tc := range cases {
		q := Reconcile("", []*Producer{p}, all, []*Consumer{c}, tc.end)
		if q != tc.want {
			t.Errorf("%s:\n%+v\nwant\n%+v", tc.name, q, tc.want)
		}
		if !q.Balanced() {
			t.Errorf("%s: does not balance: %+v", tc.name, q)
		}
	}
}

// TestConsumerBytesNearTheHeapItTakes: the memory the audit reports for a
// consumer that hears from 50,000 producers once each is close to what
// the heap actually grew by (measured by the runtime, not by the audit).
func TestConsumerBytesNearTheHeapItTakes(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := NewConsumer(100000)
	for id := 0; id < 50000; id++ {
		c.Deliver(id, uint32(id%7), true, false)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	got := c.Bytes()
	runtime.KeepAlive(c)
	t.Logf("audit says %d bytes, the heap grew by %d (%.0f B per producer)", got, grew, float64(grew)/50000)
	if got < grew*6/10 || got > grew*12/10 {
		t.Fatalf("audit says %d bytes for a heap that grew by %d", got, grew)
	}
}
