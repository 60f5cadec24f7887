// Package amqpconn owns mqbench's AMQP connections: dialing (TLS
// included), the broker's blocked notifications, and recovery when a
// connection is lost. Workers never hold an *amqp.Connection: they get a
// Channel handle that survives reconnects — they report a failure to it
// and it either reopens the channel on a re-established connection or
// says why the channel ended for good.
//
// amqp091-go has automatic recovery of its own (Config.Recovery). mqbench
// does not use it: a recovered channel restarts its publisher-confirm
// delivery tags behind the producer's back, and the benchmark must know
// the exact moment a channel is replaced to count what the old one
// swallowed as unconfirmed, to record the outage, and to re-declare
// server-named queues under their new names before workers resubscribe.
package amqpconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Heartbeat is the AMQP heartbeat mqbench asks for: a dead peer is noticed
// within two of them.
const Heartbeat = 10 * time.Second

// Options say how to reach the broker and what to do when a connection is
// lost.
type Options struct {
	// URLs are the broker's nodes (one, or a cluster's); Allocation says
	// how connections spread over them: round-robin (connection k on node
	// k mod N, in the order they are dialed) or random (seeded by Seed).
	URLs           []string
	Allocation     string
	Seed           uint64
	ConnectTimeout time.Duration
	TLS            scenario.TLS
	// Auth is how connections log in: scenario.AuthPlain (or empty) or
	// scenario.AuthExternal (the client certificate in TLS names the user).
	Auth string
	// Reconnect on loss, for up to ReconnectTimeout per outage; false makes
	// a lost connection end the run.
	Reconnect        bool
	ReconnectTimeout time.Duration
	// NoCoalesce writes each of the library's flushes to the socket at
	// once; by default they are gathered (see CoalescingConn): many
	// publishes per system call under load.
	NoCoalesce bool
}

// Dialer opens connections to one broker. Its context bounds every
// connection's life: cancelling it ends every recovery, backoff sleep and
// wait at once.
type Dialer struct {
	ctx    context.Context
	opts   Options
	nodes  []node
	faults *Faults

	// budget bounds what every connection of the dialer buffers, together
	// (see Budget): a stall of all of them costs DefaultBudget, not
	// MaxBuffered times their number.
	budget *Budget

	mu     sync.Mutex // guards dialed, rng and conns
	dialed int        // connections dialed so far
	rng    *rand.Rand
	conns  []*Conn
}

// node is one broker node mqbench connects to.
type node struct {
	url string
	uri amqp.URI
	// tls is nil for amqp://. Each node has its own: the certificate is
	// checked against that node's host name (amqp091-go only fills
	// ServerName in when it is empty).
	tls *tls.Config
}

// HostPort is the node's address, for messages and results (never the URL,
// which may hold a password).
func (n node) HostPort() string { return net.JoinHostPort(n.uri.Host, fmt.Sprint(n.uri.Port)) }

// NewDialer checks the URL and TLS settings; nothing is dialed yet.
func NewDialer(ctx context.Context, o Options) (*Dialer, error) {
	if len(o.URLs) == 0 {
		return nil, fmt.Errorf("no broker URL")
	}
	d := &Dialer{ctx: ctx, opts: o, faults: newFaults(), rng: rand.New(rand.NewPCG(o.Seed, 0x616c6c6f63)),
		budget: NewBudget(DefaultBudget, DefaultReserve)}
	for _, raw := range o.URLs {
		u, err := amqp.ParseURI(raw)
		if err != nil {
			// The parser's message can quote the URL; never echo a password.
			return nil, fmt.Errorf("invalid broker URL: %s", redact(err, u.Password))
		}
		n := node{url: raw, uri: u}
		if u.Scheme == "amqps" {
			if n.tls, err = tlsConfig(o.TLS, u.Host); err != nil {
				return nil, err
			}
		}
		d.nodes = append(d.nodes, n)
	}
	return d, nil
}

// pick chooses the node of the next connection dialed.
func (d *Dialer) pick() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := d.dialed
	d.dialed++
	if d.opts.Allocation == "random" {
		return d.rng.IntN(len(d.nodes))
	}
	return k % len(d.nodes)
}

// Connections lists every connection dialed: its name and the node it
// is on now.
func (d *Dialer) Connections() []result.Connection {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]result.Connection, 0, len(d.conns))
	for _, c := range d.conns {
		out = append(out, result.Connection{Name: c.name, Node: d.nodes[c.node.Load()].HostPort(),
			FirstNode: d.nodes[c.firstNode].HostPort(), Reconnects: int(c.gen.Load())})
	}
	return out
}

// Faults is the record of blocked connections and outages of every
// connection this dialer opened.
func (d *Dialer) Faults() *Faults { return d.faults }

// Dial opens a named connection (the name shows in the management UI and
// rabbitmqctl list_connections) on the next node.
func (d *Dialer) Dial(name string) (*Conn, error) {
	n := d.pick()
	c, received, err := d.dialRaw(name, n)
	if err != nil {
		return nil, err
	}
	cn := &Conn{name: name, d: d, firstNode: n}
	cn.node.Store(int32(n))
	cn.install(c, 0, received)
	d.mu.Lock()
	d.conns = append(d.conns, cn)
	d.mu.Unlock()
	return cn, nil
}

// dialRaw opens the AMQP connection itself, to node n. The socket is
// layered as: TCP, coalesced writes (unless turned off), TLS for amqps —
// done here rather than by the library, so that — the delivery counter
// reads plain AMQP frames above it. The library is given the URL with an
// amqp scheme for that reason; the dial ignores the address it asks for
// and reaches the node itself.
func (d *Dialer) dialRaw(name string, n int) (*amqp.Connection, *atomic.Int64, error) {
	nd := d.nodes[n]
	received := &atomic.Int64{}
	dial := amqp.DefaultDial(d.opts.ConnectTimeout) // sets a deadline the library clears once open
	if !d.opts.NoCoalesce {
		dial = CoalescingDial(dial, CoalesceOptions{Budget: d.budget})
	}
	var opened *deliveryConn
	layered := func(network, _ string) (net.Conn, error) {
		c, err := dial(network, nd.HostPort())
		if err != nil {
			return nil, err
		}
		if nd.tls != nil {
			tc := tls.Client(c, nd.tls)
			if err := tc.Handshake(); err != nil {
				_ = c.Close()
				return nil, err
			}
			c = tc
		}
		opened = &deliveryConn{Conn: c, n: received}
		return opened, nil
	}
	c, err := amqp.DialConfig(nd.plainURL(), amqp.Config{
		Dial:       layered,
		Heartbeat:  Heartbeat,
		SASL:       sasl(d.opts.Auth),
		Properties: amqp.Table{"connection_name": name, "product": "mqbench"},
	})
	if err != nil {
		return nil, nil, d.explain(refusal(err, opened), nd)
	}
	return c, received, nil
}

// refusal is the TLS alert the broker sent, when the socket's reader got
// one, in place of err: the library may report only what its own close of
// the socket caused ("use of closed network connection"). Otherwise err.
// DialConfig calls the dial on the caller's goroutine, so opened is set
// (or nil) when this runs.
func refusal(err error, opened *deliveryConn) error {
	if opened == nil {
		return err
	}
	if re := opened.readError(); re != nil && peerRefusedTLS(re) != "" {
		return re
	}
	return err
}

// plainURL is the node's URL with the amqp scheme: TLS, when the URL asks
// for it, is layered by dialRaw, not by the library.
func (n node) plainURL() string {
	if len(n.url) > len("amqps://") && strings.EqualFold(n.url[:len("amqps://")], "amqps://") {
		return "amqp://" + n.url[len("amqps://"):]
	}
	return n.url
}

// explain turns a dial error into a message that names host and port and
// says what went wrong, without the URL (which may hold a password).
func (d *Dialer) explain(err error, n node) error {
	hp := n.HostPort()
	if d.opts.Auth == scenario.AuthExternal {
		if ee := explainExternal(err, n); ee != nil {
			return ee
		}
	}
	if te := explainTLS(err, hp); te != nil {
		return te
	}
	var ae *amqp.Error
	var ne net.Error
	switch {
	case errors.Is(err, amqp.ErrCredentials):
		return fmt.Errorf("authentication failed for user %q at %s: check the username and password", n.uri.Username, hp)
	case errors.Is(err, amqp.ErrVhost):
		return fmt.Errorf("vhost %q at %s does not exist or user %q may not use it", n.uri.Vhost, hp, n.uri.Username)
	case errors.Is(err, amqp.ErrSASL):
		return fmt.Errorf("authentication failed at %s: no shared SASL mechanism", hp)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("cannot connect to the broker at %s: no answer within %v", hp, d.opts.ConnectTimeout)
	case errors.As(err, &ae) && strings.Contains(ae.Reason, "i/o timeout"):
		// The library reports a stalled handshake as an AMQP error.
		return fmt.Errorf("cannot connect to the broker at %s: the AMQP handshake got no answer within %v (is this an AMQP port?)", hp, d.opts.ConnectTimeout)
	case errors.As(err, &ae):
		return fmt.Errorf("broker at %s refused the connection: %s", hp, ae.Reason)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("cannot connect to the broker at %s: %v", hp, oe.Err)
	}
	return fmt.Errorf("cannot connect to the broker at %s: %s", hp, redact(err, n.uri.Password))
}

func redact(err error, password string) string {
	s := err.Error()
	if password != "" {
		s = strings.ReplaceAll(s, password, "xxxxx")
	}
	return s
}

// IsCode reports whether err is an AMQP error with the given reply code.
func IsCode(err error, code int) bool {
	var ae *amqp.Error
	return errors.As(err, &ae) && ae.Code == code
}
