package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// allOwed is a queue owed every message of its one producer.
func allOwed(opts Options) *Account {
	return NewAccount("q", NewPattern([]bool{true}), 1, opts)
}

// TestGapCapKeepsCountsExact: a producer whose every 1,000th message
// never arrives, 2M messages through a track whose gap list holds at most
// 64 ranges: the list gives up positions, never counts — the missing are
// exactly the 2,000, lost exactly them (all confirmed), and the figures
// are said to be approximate.
func TestGapCapKeepsCountsExact(t *testing.T) {
	a := allOwed(Options{Spill: 4096, GapCap: 64})
	c := a.NewConsumer()
	p := NewProducer(true)
	p.Published = 2_000_000
	p.Acked.AddRange(0, 2_000_000)
	for s := uint32(0); s < 2_000_000; s++ {
		if s%1000 != 999 {
			c.Deliver(0, s, false, 0)
		}
	}
	q, approx := a.Reconcile([]*Producer{p}, c.ConsumerCounts, Evidence{})
	if q.Consumed != 1_998_000 || q.Lost != 2000 || q.Accounted() != q.Expected || approx == 0 {
		t.Fatalf("%+v (approx %d): want 1,998,000 consumed and 2,000 lost, said approximate", q, approx)
	}
	if b := a.Bytes(); b > 64<<10 {
		t.Errorf("the account holds %d bytes", b)
	}
}

// TestNackedHolesBeyondTheCapAreNotConfirmed: every fourth message nacked
// (never confirmed, never delivered) over 400k messages, the confirms'
// ranges capped at 64: nothing is lost — the nacked are unconfirmed,
// however many holes the confirms had to give up.
func TestNackedHolesBeyondTheCapAreNotConfirmed(t *testing.T) {
	a := allOwed(Options{Spill: 256, GapCap: 64})
	c := a.NewConsumer()
	p := &Producer{Confirms: true, Published: 400_000, Acked: Ranges{Cap: 64}}
	for s := uint32(0); s < 400_000; s++ {
		if s%4 != 3 {
			p.Acked.Add(uint64(s))
			c.Deliver(0, s, false, 0)
		}
	}
	q, _ := a.Reconcile([]*Producer{p}, c.ConsumerCounts, Evidence{})
	if q.Lost != 0 || q.Unconfirmed != 100_000 || q.Consumed != 300_000 {
		t.Fatalf("%+v: want 100,000 unconfirmed and nothing lost", q)
	}
}

// TestConsumerFarBehindIsNotALoss: two competing consumers get
// alternate messages; one is 300k behind the other. The window keeps the
// holes as bits (they are dense: a range per hole would cost more), the
// account stays small and fast, and once the slow one catches up
// nothing is missing.
func TestConsumerFarBehindIsNotALoss(t *testing.T) {
	a := allOwed(Options{Spill: DefaultSpill, GapCap: DefaultGapCap})
	fast, slow := a.NewConsumer(), a.NewConsumer()
	start := time.Now()
	const n = 1_000_000
	for s := uint32(0); s < n; s += 2 {
		fast.Deliver(0, s, false, 0)
		if s >= 600_000 {
			slow.Deliver(0, s-600_000+1, false, 0)
		}
	}
	if b := a.Bytes(); b > 1<<20 {
		t.Errorf("%d bytes while one consumer is 300k messages behind", b)
	}
	for s := uint32(n - 600_000 + 1); s < n; s += 2 {
		slow.Deliver(0, s, false, 0)
	}
	p := NewProducer(true)
	p.Published = n
	p.Acked.AddRange(0, n)
	q, _ := a.Reconcile([]*Producer{p}, ConsumerCounts{}, Evidence{})
	if q.Consumed != n || q.Lost != 0 || q.Duplicates != 0 {
		t.Fatalf("%+v", q)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a million deliveries took %v", d)
	}
}

// TestRefusedThenDeadLetteredIsNoDuplicate: a message refused without
// requeue and then read back from the dead-letter queue is one message.
func TestRefusedThenDeadLetteredIsNoDuplicate(t *testing.T) {
	a := allOwed(Options{Spill: DefaultSpill})
	c := a.NewConsumer()
	for s := uint32(0); s < 10; s++ {
		c.Refuse(0, s, false, false, 0)
		a.Record(0, s, DeadLettered, 0)
	}
	p := NewProducer(true)
	p.Published = 10
	p.Acked.AddRange(0, 10)
	q, _ := a.Reconcile([]*Producer{p}, c.ConsumerCounts, Evidence{})
	if q.Duplicates != 0 || q.Dropped != 10 || q.Lost != 0 {
		t.Fatalf("%+v", q)
	}
}

// TestTTLDoesNotExplainAPurge: a queue with a 10 s TTL whose consumers
// keep up, purged at 20 s of a 60 s run: the purged messages were
// published long before the end, but later messages of the same producer
// were consumed well within their TTL — the queue is first in, first out,
// so they cannot have expired. They are lost; the TTL explains nothing.
func TestTTLDoesNotExplainAPurge(t *testing.T) {
	sec := int64(time.Second)
	a := allOwed(Options{Spill: DefaultSpill, TTL: true})
	c := a.NewConsumer()
	p := NewProducer(true)
	for s := uint32(0); s < 6000; s++ { // 100 msg/s for 60 s
		at := int64(s) * sec / 100
		if at%sec == 0 {
			p.Times.Add(at, uint64(s))
		}
		if s < 2000 || s >= 2100 { // 2000–2099 purged at 20 s
			c.Deliver(0, s, false, at+sec/100)
		}
	}
	p.Times.Add(60*sec, 6000)
	p.Published = 6000
	p.Acked.AddRange(0, 6000)
	q, _ := a.Reconcile([]*Producer{p}, c.ConsumerCounts, Evidence{TTLMillis: 10_000, TTLEnd: 61 * sec})
	if q.Lost != 100 || q.Dropped != 0 {
		t.Fatalf("%+v: want the 100 purged lost, none explained by the TTL", q)
	}
	// Without the later messages (the consumers stopped at 20 s), the
	// TTL does explain them.
	b := allOwed(Options{Spill: DefaultSpill, TTL: true})
	c2 := b.NewConsumer()
	for s := uint32(0); s < 2000; s++ {
		c2.Deliver(0, s, false, int64(s)*sec/100+sec/100)
	}
	q, _ = b.Reconcile([]*Producer{p}, c2.ConsumerCounts, Evidence{TTLMillis: 10_000, TTLEnd: 61 * sec})
	if q.Dropped < 3000 || q.Lost > 1100 {
		t.Fatalf("%+v: messages never followed by a consumed one, published over 10 s before the end, expired", q)
	}
}

// TestOldStateStillLoads: a result written by an earlier mqbench, whose
// audit state has another layout, still reads; reconciling or merging it
// says why it cannot.
func TestOldStateStillLoads(t *testing.T) {
	old := `{"producers":1,"keys":1,"publishers":[{"id":0,"published":3,"confirms":true,"acked":"AAM="}],` +
		`"queues":[{"index":0,"name":"q","routes":[true],"groups":[{"name":"q","consumers":[{"duplicates":0,"seen":[]}]}]}]}`
	var st State
	if err := json.Unmarshal([]byte(old), &st); err != nil {
		t.Fatalf("an old state does not load: %v", err)
	}
	if _, _, err := st.Reconcile(); err == nil || !strings.Contains(err.Error(), "same mqbench") {
		t.Errorf("reconcile: %v", err)
	}
	if _, err := Merge([]*State{&st}); err == nil {
		t.Error("merge of an old state: no error")
	}
}

// TestHostileWindowIsCheap: a small document cannot make reconciling
// allocate or loop in proportion to the numbers it claims.
func TestHostileWindowIsCheap(t *testing.T) {
	doc := `{"version":2,"producers":1,"keys":1,"publishers":[{"id":0,"published":4294967295,"confirms":true,"acked":"","received":""}],` +
		`"queues":[{"index":0,"name":"q","routes":[true],"groups":[{"name":"q","tracks":[` +
		`{"producer":0,"base":0,"window":{"base":0,"words":"AQAAAAAAAAA="},"gaps":"","requeued":"","hi":4294967295}],"consumers":{}}]}]}`
	var st State
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := st.Reconcile(); err == nil && time.Since(start) > time.Second {
		t.Errorf("reconciling a 400-byte state took %v", time.Since(start))
	}
}
