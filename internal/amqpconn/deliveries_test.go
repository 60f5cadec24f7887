package amqpconn

import (
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// frame builds one AMQP frame.
func frame(typ byte, channel uint16, payload []byte) []byte {
	out := []byte{typ, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(out[1:3], channel)
	binary.BigEndian.PutUint32(out[3:7], uint32(len(payload)))
	return append(append(out, payload...), 0xCE)
}

// method is a method frame's payload: class, method, then args.
func method(class, m uint16, args int) []byte {
	p := make([]byte, 4+args)
	binary.BigEndian.PutUint16(p[0:2], class)
	binary.BigEndian.PutUint16(p[2:4], m)
	return p
}

// TestDeliveryCounterCountsDeliveriesAcrossReads: a stream of frames —
// deliveries, get-oks, other methods of the basic class and others, content
// headers and bodies (including bodies that look like method frames),
// heartbeats, a method frame too short to hold ids — read in chunks of
// every size, counts exactly the deliveries.
func TestDeliveryCounterCountsDeliveriesAcrossReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var stream []byte
	want := 0
	for i := 0; i < 2000; i++ {
		switch rng.IntN(7) {
		case 0, 1:
			stream = append(stream, frame(1, 1, method(60, 60, 30+rng.IntN(40)))...) // basic.deliver
			stream = append(stream, frame(2, 1, make([]byte, 14))...)                // content header
			body := make([]byte, rng.IntN(300))
			copy(body, method(60, 60, 0)) // a body that looks like a deliver
			stream = append(stream, frame(3, 1, body)...)
			want++
		case 2:
			stream = append(stream, frame(1, 2, method(60, 71, 20))...) // basic.get-ok
			want++
		case 3:
			stream = append(stream, frame(1, 1, method(60, 80, 9))...) // basic.ack (a confirm)
		case 4:
			stream = append(stream, frame(1, 0, method(10, 60, 0))...) // connection.blocked-ish: another class
		case 5:
			stream = append(stream, frame(8, 0, nil)...) // heartbeat
		case 6:
			stream = append(stream, frame(1, 3, []byte{0, 60})...) // a method frame shorter than its ids
		}
	}
	for _, chunk := range []int{1, 2, 3, 7, 11, 64, 4096, len(stream)} {
		var n atomic.Int64
		c := &deliveryConn{n: &n}
		for p := stream; len(p) > 0; {
			k := min(chunk, len(p))
			c.feed(p[:k])
			p = p[k:]
		}
		if int(n.Load()) != want || c.have != 0 || c.skip != 0 {
			t.Errorf("chunks of %d: counted %d deliveries, want %d (left mid-frame: have %d, skip %d)", chunk, n.Load(), want, c.have, c.skip)
		}
	}
}

func BenchmarkDeliveryCounter(b *testing.B) {
	var msg []byte
	msg = append(msg, frame(1, 1, method(60, 60, 40))...)
	msg = append(msg, frame(2, 1, make([]byte, 14))...)
	msg = append(msg, frame(3, 1, make([]byte, 32))...)
	var n atomic.Int64
	c := &deliveryConn{n: &n}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.feed(msg)
	}
}
