package amqpconn

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestBlockLog(t *testing.T) {
	f := newFaults()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.recordBlock("c1", amqp.Blocking{Active: true, Reason: "low on memory"}, t0)
	f.recordBlock("c2", amqp.Blocking{Active: true, Reason: "low on memory"}, t0)
	f.recordBlock("c1", amqp.Blocking{Active: true, Reason: "again"}, t0) // already blocked: no new entry
	if f.Blocked() != 2 {
		t.Fatalf("%d blocked now, want 2", f.Blocked())
	}
	f.recordBlock("c1", amqp.Blocking{Active: false}, t0.Add(time.Second))
	f.recordBlock("c3", amqp.Blocking{Active: false}, t0) // unblocked without a block: ignored
	got := f.Snapshot().Blocked
	if len(got) != 2 || got[0].End == nil || !got[0].End.Equal(t0.Add(time.Second)) || got[1].End != nil || f.Blocked() != 1 {
		t.Fatalf("entries %+v, %d blocked now", got, f.Blocked())
	}
	// c2 dies while blocked: its block ends then, and nobody is blocked.
	f.endBlock("c2", t0.Add(2*time.Second))
	got = f.Snapshot().Blocked
	if f.Blocked() != 0 || got[1].End == nil || !got[1].End.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("a connection that died while blocked is still blocked: %+v, %d now", got, f.Blocked())
	}
	f.endBlock("c2", t0.Add(3*time.Second)) // already ended: nothing changes
	if got := f.Snapshot().Blocked; !got[1].End.Equal(t0.Add(2 * time.Second)) {
		t.Fatal("a second end moved the first")
	}
}
