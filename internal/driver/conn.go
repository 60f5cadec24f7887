package driver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/scenario"
)

// conn is one AMQP connection and the small amount of state mqbench keeps
// about it. Workers never hold the *amqp.Connection themselves: they ask
// their conn for a channel, which is what lets a later reconnect replace the
// connection underneath them.
type conn struct {
	name string
	cur  atomic.Pointer[amqp.Connection] // replaced by recover
	d    *dialer

	mu      sync.Mutex    // guards control
	control *amqp.Channel // for declares, deletes and depth checks; reopened when the broker closes it

	rmu        sync.Mutex        // one recovery at a time
	gen        atomic.Int64      // bumped by every successful recovery
	redeclare  func(*conn) error // re-declares what this connection owns, after a recovery
	recoveries *recoveryLog      // shared by every connection of the run
}

// dialer opens connections to one broker.
type dialer struct {
	uri     amqp.URI
	url     string
	timeout time.Duration
	blocks  *blockLog
	tls     *tls.Config // nil for amqp://

	recoveries *recoveryLog
}

func newDialer(url string, timeout time.Duration, t scenario.TLS) (*dialer, error) {
	u, err := amqp.ParseURI(url)
	if err != nil {
		// The parser's message can quote the URL; never echo a password.
		return nil, fmt.Errorf("invalid broker URL: %s", redactErr(err, u.Password))
	}
	d := &dialer{uri: u, url: url, timeout: timeout, blocks: newBlockLog(), recoveries: &recoveryLog{}}
	if u.Scheme == "amqps" {
		if d.tls, err = tlsConfig(t, u.Host); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *dialer) hostPort() string {
	return net.JoinHostPort(d.uri.Host, fmt.Sprint(d.uri.Port))
}

// dial opens a named connection (the name shows in the management UI and
// rabbitmqctl list_connections).
func (d *dialer) dial(name string) (*conn, error) {
	c, err := d.dialRaw(name)
	if err != nil {
		return nil, err
	}
	cn := &conn{name: name, d: d, recoveries: d.recoveries}
	cn.cur.Store(c)
	d.blocks.watch(cn)
	return cn, nil
}

// dialRaw opens the AMQP connection itself.
func (d *dialer) dialRaw(name string) (*amqp.Connection, error) {
	c, err := amqp.DialConfig(d.url, amqp.Config{
		Dial:            amqp.DefaultDial(d.timeout),
		Heartbeat:       10 * time.Second,
		TLSClientConfig: d.tls,
		Properties:      amqp.Table{"connection_name": name, "product": "mqbench"},
	})
	if err != nil {
		return nil, d.explain(err)
	}
	return c, nil
}

// explain turns a dial error into a message that names host and port and
// says what went wrong, without the URL (which may hold a password).
func (d *dialer) explain(err error) error {
	hp := d.hostPort()
	if te := explainTLS(err, hp); te != nil {
		return te
	}
	var ae *amqp.Error
	var ne net.Error
	switch {
	case errors.Is(err, amqp.ErrCredentials):
		return fmt.Errorf("authentication failed for user %q at %s: check the username and password", d.uri.Username, hp)
	case errors.Is(err, amqp.ErrVhost):
		return fmt.Errorf("vhost %q at %s does not exist or user %q may not use it", d.uri.Vhost, hp, d.uri.Username)
	case errors.Is(err, amqp.ErrSASL):
		return fmt.Errorf("authentication failed at %s: no shared SASL mechanism", hp)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("cannot connect to the broker at %s: no answer within %v", hp, d.timeout)
	case errors.As(err, &ae) && strings.Contains(ae.Reason, "i/o timeout"):
		// The library reports a stalled handshake as an AMQP error.
		return fmt.Errorf("cannot connect to the broker at %s: the AMQP handshake got no answer within %v (is this an AMQP port?)", hp, d.timeout)
	case errors.As(err, &ae):
		return fmt.Errorf("broker at %s refused the connection: %s", hp, ae.Reason)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("cannot connect to the broker at %s: %v", hp, oe.Err)
	}
	return fmt.Errorf("cannot connect to the broker at %s: %s", hp, redactErr(err, d.uri.Password))
}

func redactErr(err error, password string) string {
	s := err.Error()
	if password != "" {
		s = strings.ReplaceAll(s, password, "xxxxx")
	}
	return s
}

// channel opens a new channel on the connection.
func (c *conn) channel() (*amqp.Channel, error) {
	ch, err := c.cur.Load().Channel()
	if err != nil {
		return nil, fmt.Errorf("open channel on %s: %w", c.name, err)
	}
	return ch, nil
}

// withControl runs fn on the connection's control channel, reopening it
// first if a previous failure (a 404 on a passive declare, say) closed it.
func (c *conn) withControl(fn func(ch *amqp.Channel) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.control == nil || c.control.IsClosed() {
		ch, err := c.channel()
		if err != nil {
			return err
		}
		c.control = ch
	}
	return fn(c.control)
}

// close closes the connection; errors are of no interest at that point.
func (c *conn) close() {
	if c == nil {
		return
	}
	if cc := c.cur.Load(); cc != nil && !cc.IsClosed() {
		_ = cc.CloseDeadline(time.Now().Add(5 * time.Second))
	}
}

// isCode reports whether err is an AMQP error with the given reply code.
func isCode(err error, code int) bool {
	var ae *amqp.Error
	return errors.As(err, &ae) && ae.Code == code
}
