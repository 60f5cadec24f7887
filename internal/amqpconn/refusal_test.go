package amqpconn

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestRefusedClientCertificateIsNamed: a TLS 1.3 server that requires a
// client certificate completes the client's side of the handshake and
// sends its alert afterwards; the library's reader meets the alert, closes
// the socket, and the opening handshake may report only "use of closed
// network connection". Every dial still says that the broker asks for a
// client certificate. (A listener of the test's own, not a broker. The
// race is rare here; TestRefusalOutlivesTheLibrarysClose forces its
// losing side.)
func TestRefusedClientCertificateIsNamed(t *testing.T) {
	files := brokertest.NewCA(t, "refusal CA").Server(t)
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAnyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake() // fails: sends the alert
				_ = c.Close()
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d, err := NewDialer(t.Context(), Options{URLs: []string{"amqps://guest:guest@localhost:" + port + "/"},
		ConnectTimeout: 5 * time.Second, TLS: scenario.TLS{CA: files.CA}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		_, err := d.Dial("refusal")
		if err == nil || !strings.Contains(err.Error(), "asks for a client certificate") {
			t.Fatalf("dial %d: error %v, want it to say the broker asks for a client certificate", i, err)
		}
	}
}

// readFails is a connection whose reads fail with err.
type readFails struct {
	net.Conn
	err error
}

func (r readFails) Read([]byte) (int, error) { return 0, r.err }

// TestRefusalOutlivesTheLibrarysClose: when the library reports only the
// write that found the socket closed, the alert its reader met is what
// the dial explains.
func TestRefusalOutlivesTheLibrarysClose(t *testing.T) {
	alert := &net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")}
	c := &deliveryConn{Conn: readFails{err: alert}}
	if _, err := c.Read(make([]byte, 8)); err != alert {
		t.Fatalf("read: %v", err)
	}
	closed := &net.OpError{Op: "write", Err: net.ErrClosed}
	got := explainTLS(refusal(closed, c), "127.0.0.1:5671")
	if got == nil || !strings.Contains(got.Error(), "asks for a client certificate") || !strings.Contains(got.Error(), "certificate required") {
		t.Errorf("explained as %v, want the broker's alert and what it asks for", got)
	}
	// Any other read error leaves the library's own.
	c = &deliveryConn{Conn: readFails{err: net.ErrClosed}}
	_, _ = c.Read(nil)
	if got := refusal(closed, c); got != closed {
		t.Errorf("refusal(%v) = %v, want the library's error kept", closed, got)
	}
}
