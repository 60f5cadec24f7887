package audit

import "testing"

// TestPutBack: deliveries a crashing consumer put back unprocessed count
// their redelivered flags, leave its order of arrival alone, and under a
// delivery limit, never seen again, are dropped by it rather than lost.
func TestPutBack(t *testing.T) {
	a, prods := fixture(true) // 0–59 consumed, 60–69 left, 70–89 confirmed and missing
	c := a.NewConsumer()
	c.Deliver(0, 75, false, 0)
	for s := uint32(70); s < 75; s++ {
		c.PutBack(0, s, s%2 == 0) // 70, 72, 74 flagged redelivered
	}
	if c.Redelivered != 3 || c.OutOfOrder != 0 {
		t.Fatalf("redelivered %d, out of order %d: want the 3 flags counted, the order untouched", c.Redelivered, c.OutOfOrder)
	}
	q, _ := a.Reconcile(prods, c.ConsumerCounts, Evidence{DeliveryLimit: "x-delivery-limit 20"})
	want := Queue{Name: "q", Expected: 100, Consumed: 61, Left: 10, Dropped: 5, Lost: 14, Unconfirmed: 10, Redelivered: 3}
	q.DropReason = ""
	if q != want {
		t.Fatalf("\n got %+v\nwant %+v", q, want)
	}
	// Without a delivery limit the broker keeps what it requeued: put
	// back and never seen again is lost.
	a, prods = fixture(true)
	a.opts.DeliveryLimit = false
	a.NewConsumer().PutBack(0, 70, false)
	if q, _ := a.Reconcile(prods, ConsumerCounts{}, Evidence{}); q.Lost != 20 || q.Dropped != 0 {
		t.Fatalf("%+v: want the put-back message lost", q)
	}
}
