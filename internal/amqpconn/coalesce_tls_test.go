package amqpconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestCoalesceUnderTLS: TLS layered on a CoalescingConn, as amqp091 does
// for amqps. tls.Conn.Close queues close_notify and then sets the write
// deadline to now; what was written just before — here the handshake's
// last flight and the data — must still reach the peer, and the
// close_notify too (the peer reads a clean EOF).
func TestCoalesceUnderTLS(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan []byte, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			received <- nil
			return
		}
		defer s.Close()
		_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(s) // nil error: ended by close_notify
		if err != nil {
			t.Errorf("server: %v after %q", err, got)
		}
		received <- got
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(NewCoalescingConn(raw, CoalesceOptions{}), &tls.Config{InsecureSkipVerify: true}) // the test's own certificate
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello over TLS")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	select {
	case got := <-received:
		if string(got) != "hello over TLS" {
			t.Fatalf("the server received %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server received nothing")
	}
}
