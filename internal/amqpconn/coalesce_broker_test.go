package amqpconn

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/proc"
)

// dialCoalesced opens an AMQP connection to the test broker through a
// CoalescingConn and returns both. The dial timeout is also amqp091's
// handshake deadline, which the library clears through the wrapper's
// SetDeadline once the connection is open.
func dialCoalesced(t testing.TB, dialTimeout, heartbeat time.Duration) (*amqp.Connection, *CoalescingConn) {
	t.Helper()
	return dialCoalescedWith(t, CoalesceOptions{}, dialTimeout, heartbeat)
}

// dialCoalescedWith is dialCoalesced with options (a shared Budget).
func dialCoalescedWith(t testing.TB, o CoalesceOptions, dialTimeout, heartbeat time.Duration) (*amqp.Connection, *CoalescingConn) {
	t.Helper()
	var cc atomic.Pointer[CoalescingConn]
	dial := CoalescingDial(amqp.DefaultDial(dialTimeout), o)
	conn, err := amqp.DialConfig(brokertest.URL(t), amqp.Config{
		Heartbeat:  heartbeat,
		Properties: amqp.Table{"connection_name": "mqbench-test-" + brokertest.Suffix(t)},
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := dial(network, addr)
			if err == nil {
				cc.Store(c.(*CoalescingConn))
			}
			return c, err
		},
	})
	if err != nil {
		t.Fatalf("dial through a coalescing conn: %v", err)
	}
	return conn, cc.Load()
}

// TestCoalesceBroker: 20,000 messages published with confirms (window
// 1000) through a CoalescingConn come back once each and in order, every
// confirm is an ack, and the socket saw far fewer writes than amqp091 made.
func TestCoalesceBroker(t *testing.T) {
	const n, window = 20000, 1000
	conn, cc := dialCoalesced(t, 5*time.Second, Heartbeat)
	defer func() {
		if err := conn.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	pub, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := pub.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	deliveries, err := sub.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	consumed := make(chan error, 1)
	go func() { consumed <- consumeInOrder(deliveries, n) }()
	start := time.Now()
	publishConfirmed(t, pub, q.Name, n, window)
	select {
	case err := <-consumed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("not every message came back")
	}
	writes, syscalls := cc.Stats()
	t.Logf("%d messages round trip in %v; %d Writes from amqp091 in %d socket writes: %.1f per syscall",
		n, time.Since(start).Round(time.Millisecond), writes, syscalls, float64(writes)/float64(syscalls))
	if writes < n || syscalls*2 > writes {
		t.Fatalf("%d writes in %d syscalls: want at least %d writes batched at least 2 to 1", writes, syscalls, n)
	}
}

// publishConfirmed publishes n messages numbered 0..n-1 with at most
// window unconfirmed, and checks that every confirm is an ack, in order.
func publishConfirmed(t testing.TB, ch *amqp.Channel, queue string, n, window int) {
	t.Helper()
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, window))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	next := uint64(1)
	confirm := func() {
		select {
		case c := <-confirms:
			if !c.Ack || c.DeliveryTag != next {
				t.Fatalf("confirm %+v, want an ack of %d", c, next)
			}
			next++
		case <-ctx.Done():
			t.Fatalf("confirm %d never came", next)
		}
	}
	body := make([]byte, 8)
	for i := range n {
		if i-int(next-1) >= window {
			confirm()
		}
		binary.BigEndian.PutUint64(body, uint64(i))
		if err := ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: body}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	for next <= uint64(n) {
		confirm()
	}
}

// consumeInOrder checks that deliveries bring messages 0..n-1, in order.
func consumeInOrder(deliveries <-chan amqp.Delivery, n int) error {
	for want := range uint64(n) {
		d, ok := <-deliveries
		if !ok {
			return fmt.Errorf("deliveries ended after %d of %d messages", want, n)
		}
		if got := binary.BigEndian.Uint64(d.Body); len(d.Body) != 8 || got != want {
			return fmt.Errorf("message %d arrived where %d was due (lost, repeated or reordered)", got, want)
		}
	}
	return nil
}

// TestCoalesceBrokerHeartbeat: an idle connection with a 1 s heartbeat
// stays up for 3 s — the library's heartbeats are Writes too, and go out
// at once — and the handshake deadline (2 s) is cleared through the
// wrapper, or the idle read would time out.
func TestCoalesceBrokerHeartbeat(t *testing.T) {
	conn, cc := dialCoalesced(t, 2*time.Second, time.Second)
	defer conn.Close()
	closes := conn.NotifyClose(make(chan *amqp.Error, 1))
	before, _ := cc.Stats()
	select {
	case e := <-closes:
		t.Fatalf("the idle connection was lost: %v", e)
	case <-time.After(3 * time.Second):
	}
	after, syscalls := cc.Stats()
	t.Logf("%d writes while idle (heartbeats); %d socket writes in all", after-before, syscalls)
	if after-before < 2 {
		t.Fatalf("%d writes in 3 s of idling with a 1 s heartbeat: heartbeats not sent", after-before)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("the connection does not work after idling: %v", err)
	}
	if _, err := ch.QueueDeclare("", false, true, true, false, nil); err != nil {
		t.Fatalf("the connection does not work after idling: %v", err)
	}
}

// BenchmarkBrokerPublish: publishing with confirms (window 1000) to the
// real broker, straight to the socket or coalesced; cpu-ns/op is the whole
// process's CPU per message (the library's reader and writer included).
// A short run is enough: -benchtime=20000x.
func BenchmarkBrokerPublish(b *testing.B) {
	for _, coalesced := range []bool{false, true} {
		name := map[bool]string{false: "direct", true: "coalesced"}[coalesced]
		b.Run(name, func(b *testing.B) {
			var conn *amqp.Connection
			var cc *CoalescingConn
			if coalesced {
				conn, cc = dialCoalesced(b, 5*time.Second, Heartbeat)
			} else {
				conn = brokertest.Conn(b, brokertest.URL(b))
			}
			defer conn.Close()
			ch, err := conn.Channel()
			if err != nil {
				b.Fatal(err)
			}
			q, err := ch.QueueDeclare("", false, true, true, false, nil)
			if err != nil {
				b.Fatal(err)
			}
			cpu := proc.CPUTime()
			b.ResetTimer()
			publishConfirmed(b, ch, q.Name, b.N, 1000)
			b.StopTimer()
			b.ReportMetric(float64(proc.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
			if cc != nil {
				writes, syscalls := cc.Stats()
				b.ReportMetric(float64(writes)/float64(syscalls), "writes/syscall")
			}
		})
	}
}

// TestBudgetBroker: two connections sharing a budget of 64 KiB (reserve
// 4 KiB) each publish 300 messages of 40 KiB — every body frame a Write
// that needs budget — and then one of 100 KiB, larger than the whole
// budget, with confirms, to a queue they consume themselves: every
// message comes back once, whole and in order, the budget in use never
// exceeds 64 KiB but for the large Write, and it is all given back once
// the connections are closed.
func TestBudgetBroker(t *testing.T) {
	const size, n, body, large = 64 << 10, 300, 40 << 10, 100 << 10
	b := NewBudget(size, 4<<10)
	var peak atomic.Int64
	sampling := make(chan struct{})
	go func() {
		for {
			select {
			case <-sampling:
				return
			case <-time.After(100 * time.Microsecond):
			}
			if u := int64(b.Used()); u > peak.Load() {
				peak.Store(u)
			}
		}
	}()
	errs := make(chan error, 2)
	for range 2 {
		conn, _ := dialCoalescedWith(t, CoalesceOptions{Budget: b}, 5*time.Second, Heartbeat)
		defer conn.Close()
		go func() { errs <- roundTripLarge(t.Context(), conn, n, body, large) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(sampling)
	t.Logf("peak budget in use %d bytes (size %d)", peak.Load(), size)
	if p := peak.Load(); p > max(size, large+64) { // 64: room for the body frame's header and end
		t.Errorf("the budget in use reached %d bytes: size %d, largest Write %d", p, size, large)
	}
	if u := b.Used(); u != 0 {
		t.Errorf("%d bytes of the budget held after both connections closed", u)
	}
}

// roundTripLarge publishes n messages of size bytes and one of large
// bytes through conn, with confirms, to an exclusive queue it consumes,
// checks they all come back in order, and closes conn.
func roundTripLarge(ctx context.Context, conn *amqp.Connection, n, size, large int) error {
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return err
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		return err
	}
	if err := ch.Confirm(false); err != nil {
		return err
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, n+1))
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for i := range n + 1 {
		msg := make([]byte, size)
		if i == n {
			msg = make([]byte, large)
		}
		binary.BigEndian.PutUint64(msg, uint64(i))
		if err := ch.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{Body: msg}); err != nil {
			return fmt.Errorf("publish %d: %w", i, err)
		}
	}
	for i := range n + 1 {
		select {
		case c := <-confirms:
			if !c.Ack {
				return fmt.Errorf("message %d nacked", i)
			}
		case <-ctx.Done():
			return fmt.Errorf("%d of %d confirms came", i, n+1)
		}
		select {
		case d := <-deliveries:
			want := size
			if i == n {
				want = large
			}
			if got := binary.BigEndian.Uint64(d.Body); got != uint64(i) || len(d.Body) != want {
				return fmt.Errorf("message %d (%d bytes) arrived where %d (%d bytes) was due", got, len(d.Body), i, want)
			}
		case <-ctx.Done():
			return fmt.Errorf("%d of %d messages came back", i, n+1)
		}
	}
	return conn.Close()
}
