package amqpconn

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DialTiming is how long each step of opening one connection took.
type DialTiming struct {
	TCP  time.Duration // the TCP connect
	TLS  time.Duration // the TLS handshake (0 for amqp://)
	AMQP time.Duration // the AMQP handshake: protocol header to connection.open-ok
}

// DialOnce opens a named connection on the next node and times each step
// of it apart: the TCP connect, the TLS handshake (amqps://) and the AMQP
// handshake (everything else the library does to open it). The connection
// is the caller's alone: it is not recovered when lost, not listed in
// Connections, and its writes are not coalesced — it is for workers that
// open and close connections as their load (churn). ctx bounds the TCP
// connect; the connect timeout bounds every step.
func (d *Dialer) DialOnce(ctx context.Context, name string) (*amqp.Connection, DialTiming, error) {
	nd := d.nodes[d.pick()]
	var t DialTiming
	timeout := d.opts.ConnectTimeout
	// DialConfig calls the dial once, on the caller's goroutine, before it
	// returns: t is complete when it is read below.
	dial := func(network, _ string) (net.Conn, error) {
		start := time.Now()
		c, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, network, nd.HostPort())
		t.TCP = time.Since(start)
		if err != nil {
			return nil, err
		}
		// A deadline for the handshakes; the library clears it once the
		// connection is open (as amqp.DefaultDial's).
		if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
			_ = c.Close()
			return nil, err
		}
		return c, nil
	}
	var opened *deliveryConn // for the broker's TLS alert, as dialRaw's
	layered := func(network, addr string) (net.Conn, error) {
		c, err := dial(network, addr)
		if err != nil || nd.tls == nil {
			return c, err
		}
		start := time.Now()
		tc := tls.Client(c, nd.tls)
		err = tc.HandshakeContext(ctx)
		t.TLS = time.Since(start)
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		opened = &deliveryConn{Conn: tc, n: &atomic.Int64{}}
		return opened, nil
	}
	start := time.Now()
	c, err := amqp.DialConfig(nd.plainURL(), amqp.Config{
		Dial:       layered,
		Heartbeat:  Heartbeat,
		Properties: amqp.Table{"connection_name": name, "product": "mqbench"},
	})
	total := time.Since(start)
	if err != nil {
		return nil, t, d.explain(refusal(err, opened), nd)
	}
	t.AMQP = max(total-t.TCP-t.TLS, 0)
	return c, t, nil
}
