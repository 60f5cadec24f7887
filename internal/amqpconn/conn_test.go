package amqpconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
)

// viaProxy returns a dialer to the broker at brokerURL through a proxy the
// test controls, and the proxy.
func viaProxy(t *testing.T, ctx context.Context, brokerURL string, reconnect bool) (*Dialer, *brokertest.Proxy) {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	p := brokertest.NewProxy(t, u.Host)
	u.Host = p.Addr()
	d, err := NewDialer(ctx, Options{URLs: []string{u.String()}, ConnectTimeout: 2 * time.Second, Reconnect: reconnect, ReconnectTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

// TestRecoverReopensAfterACut: a network cut loses the connection; the
// worker's Recover redials, runs its setup on the new channel and carries
// on; the outage and the generation are recorded.
func TestRecoverReopensAfterACut(t *testing.T) {
	d, p := viaProxy(t, t.Context(), brokertest.URL(t), true)
	c, err := d.Dial("mqbench-test-cut")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var setups atomic.Int32
	h, err := c.Open("worker", func(*amqp.Channel) error { setups.Add(1); return nil })
	if err != nil {
		t.Fatal(err)
	}
	p.Cut()
	start := time.Now()
	if err := h.Recover(t.Context()); err != nil {
		t.Fatalf("recover after a cut: %v", err)
	}
	if c.Gen() != 1 || setups.Load() != 2 || h.Ch().IsClosed() {
		t.Fatalf("generation %d, setups %d, channel closed %v", c.Gen(), setups.Load(), h.Ch().IsClosed())
	}
	if _, err := h.Ch().QueueDeclare("", false, true, true, false, nil); err != nil {
		t.Fatalf("the reopened channel does not work: %v", err)
	}
	f := d.Faults().Snapshot()
	if f.Reconnects != 1 || len(f.Outages) != 1 || f.Outages[0].End == nil || d.Faults().Disconnected() != 0 {
		t.Fatalf("faults %+v, disconnected %d", f, d.Faults().Disconnected())
	}
	t.Logf("recovered in %v", time.Since(start))
}

// TestCancelEndsRecoveryAtOnce: with the broker unreachable, Recover is in
// its backoff; cancelling the dialer's context ends it at once, not at the
// next backoff step or after the reconnect timeout.
func TestCancelEndsRecoveryAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	d, p := viaProxy(t, ctx, brokertest.URL(t), true)
	c, err := d.Dial("mqbench-test-cancel")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, err := c.Open("worker", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close() // cut, and nothing listens any more: every redial fails
	done := make(chan error, 1)
	go func() { done <- h.Recover(context.Background()) }()
	deadline := time.Now().Add(5 * time.Second)
	for d.Faults().Disconnected() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // several redials; the backoff has grown past 400 ms
	cancel()
	cancelled := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, ErrLost) {
			t.Fatalf("recover ended with %v, want ErrLost", err)
		}
		if took := time.Since(cancelled); took > 300*time.Millisecond {
			t.Fatalf("recover took %v to notice the cancel", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("recover did not end after the cancel")
	}
	if n := d.Faults().Disconnected(); n != 0 {
		t.Errorf("%d workers still counted as disconnected", n)
	}
}

// TestChannelExceptionIsNotALoss: a channel the broker closes for a
// reason of its own (404) is a configuration error, reported at once with
// the broker's reason — not waited on as a possible outage, not recovered.
func TestChannelExceptionIsNotALoss(t *testing.T) {
	d, err := NewDialer(t.Context(), Options{URLs: []string{brokertest.URL(t)}, ConnectTimeout: 2 * time.Second, Reconnect: true, ReconnectTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial("mqbench-test-exception")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, err := c.Open("worker", nil)
	if err != nil {
		t.Fatal(err)
	}
	missing := "mqbench-no-such-queue-" + brokertest.Suffix(t)
	if _, err := h.Ch().QueueDeclarePassive(missing, false, false, false, false, nil); err == nil {
		t.Fatal("a passive declare of a missing queue succeeded")
	}
	start := time.Now()
	err = h.Recover(t.Context())
	if err == nil || !IsCode(err, amqp.NotFound) || !strings.Contains(err.Error(), "worker") {
		t.Fatalf("recover = %v, want the broker's NOT_FOUND naming the worker", err)
	}
	if took := time.Since(start); took > LossGrace/2 {
		t.Errorf("took %v to tell a channel exception from a lost connection", took)
	}
	if c.Gen() != 0 || d.Faults().Snapshot().Reconnects != 0 {
		t.Error("a channel exception was taken for an outage")
	}
}

// TestNoReconnectEndsAtLoss: with reconnection off a lost connection is
// final.
func TestNoReconnectEndsAtLoss(t *testing.T) {
	d, p := viaProxy(t, t.Context(), brokertest.URL(t), false)
	c, err := d.Dial("mqbench-test-noreconnect")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, err := c.Open("worker", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Cut()
	if err := h.Recover(t.Context()); !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "reconnection is off") {
		t.Fatalf("recover = %v", err)
	}
}

// TestBlockedClearedWhenTheConnectionDies: a connection the broker blocks
// (a memory alarm on a private node) that is then lost is no longer
// counted as blocked, and its blocked interval ends.
func TestBlockedClearedWhenTheConnectionDies(t *testing.T) {
	brokertest.NeedsPrivateNode(t)
	n := brokertest.StartNode(t)
	d, p := viaProxy(t, t.Context(), n.URL(), false)
	c, err := d.Dial("mqbench-test-blocked")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, err := n.Ctl("set_vm_memory_high_watermark", "0.000001"); err != nil {
		t.Fatalf("alarm: %v\n%s", err, out)
	}
	// The broker blocks a connection when it publishes during the alarm.
	go func() {
		ch, err := c.channel()
		if err == nil {
			_ = ch.Publish("", "mqbench-nowhere", false, false, amqp.Publishing{Body: []byte("x")})
		}
	}()
	if !eventually(10*time.Second, func() bool { return d.Faults().Blocked() == 1 }) {
		t.Fatal("the connection was never blocked")
	}
	p.Cut()
	if !eventually(5*time.Second, func() bool { return d.Faults().Blocked() == 0 }) {
		t.Fatal("a dead connection is still counted as blocked")
	}
	b := d.Faults().Snapshot().Blocked
	if len(b) != 1 || b[0].End == nil {
		t.Fatalf("blocked intervals %+v: want one, ended when the connection died", b)
	}
	if out, err := n.Ctl("set_vm_memory_high_watermark", "0.4"); err != nil {
		t.Errorf("clear the alarm: %v\n%s", err, out)
	}
}

func eventually(within time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}

// TestDialErrorsNameHostNotPassword: an unreachable broker is reported
// by host and port, never with the URL's password.
func TestDialErrorsNameHostNotPassword(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	d, err := NewDialer(t.Context(), Options{URLs: []string{fmt.Sprintf("amqp://u:s3cr3t-pw@%s/", addr)}, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Dial("x")
	if err == nil || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("dial error %v", err)
	}
}

// TestCloseAnsweredOnlyWhenTheBrokerAnswered: closing an open channel is
// answered by the broker; closing one whose connection was cut (the
// library returns nil from Close for a channel it already marked closed)
// is not — a caller that took nil for an answer would claim the broker
// read what the dead socket held.
func TestCloseAnsweredOnlyWhenTheBrokerAnswered(t *testing.T) {
	d, p := viaProxy(t, t.Context(), brokertest.URL(t), false)
	c, err := d.Dial("mqbench-test-close-answered")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	open := func() *Channel {
		h, err := c.Open("worker", nil)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if ok, err := open().CloseAnswered(); !ok || err != nil {
		t.Fatalf("an open channel's close: answered %v (%v), want answered", ok, err)
	}
	h := open()
	p.Cut()
	deadline := time.Now().Add(10 * time.Second)
	for !h.Ch().IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !h.Ch().IsClosed() {
		t.Fatal("the cut did not close the channel")
	}
	if err := h.Ch().Close(); err != nil {
		t.Fatalf("the library's Close on a closed channel: %v (this test assumes nil)", err)
	}
	if ok, _ := h.CloseAnswered(); ok {
		t.Fatal("a channel of a cut connection: answered, want not")
	}
}

// TestControlWithinGivesUp: a broker that does not answer (the proxy
// paused) fails a bounded call at its deadline, and the next fails at
// once while the first is unanswered; once the broker answers again, the
// calls work on a fresh channel.
func TestControlWithinGivesUp(t *testing.T) {
	d, p := viaProxy(t, t.Context(), brokertest.URL(t), false)
	c, err := d.Dial("mqbench-test-control-within")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	declare := func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive("amq.rabbitmq.reply-to", false, false, false, false, nil)
		return err
	}
	if err := c.ControlWithin(5*time.Second, declare); err != nil {
		t.Fatalf("an answered call: %v", err)
	}
	p.Pause()
	start := time.Now()
	err = c.ControlWithin(300*time.Millisecond, declare)
	if err == nil || !strings.Contains(err.Error(), "did not answer within") || time.Since(start) > 5*time.Second {
		t.Fatalf("a paused broker: error %v after %v, want a timeout at 300ms", err, time.Since(start))
	}
	if err := c.ControlWithin(time.Minute, declare); err == nil || !strings.Contains(err.Error(), "has not answered an earlier call") {
		t.Fatalf("while the first is unanswered: %v, want an immediate failure", err)
	}
	p.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.ControlWithin(5*time.Second, declare)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the broker answered again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
