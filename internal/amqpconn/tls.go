package amqpconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/scenario"
)

// tlsConfig builds the client TLS configuration: the server certificate is
// verified (against the CA file, else the system roots) unless Insecure.
func tlsConfig(t scenario.TLS, host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if t.ServerName != "" {
		cfg.ServerName = t.ServerName
	}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("tls: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: %s holds no PEM certificate", t.CA)
		}
		cfg.RootCAs = pool
	}
	if t.Cert != "" {
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	cfg.InsecureSkipVerify = t.Insecure
	return cfg, nil
}

// peerRefusedTLS is the alert the broker sent when it ended the TLS
// handshake (a client certificate missing or not trusted, typically), or
// "". With TLS 1.3 the client's side of the handshake completes first, so
// the alert arrives at the first read, which the library reports as an
// AMQP error holding only the text.
func peerRefusedTLS(err error) string {
	var alert tls.AlertError
	var ae *amqp.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &alert):
		return "remote error: " + alert.Error()
	case errors.As(err, &oe) && oe.Op == "remote error":
		// crypto/tls reports a peer's alert on a TCP connection this way.
		return oe.Error()
	case errors.As(err, &ae) && !ae.Server && strings.Contains(ae.Reason, "remote error: tls: "):
		return ae.Reason[strings.Index(ae.Reason, "remote error: tls: "):]
	}
	return ""
}

// explainTLS turns a handshake failure into advice, or returns nil when
// err is not about TLS.
func explainTLS(err error, hp string) error {
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("TLS to %s: the server certificate is signed by an unknown authority: give its CA with --tls-ca (or, knowingly, --tls-insecure)", hp)
	case errors.As(err, &hostErr):
		return fmt.Errorf("TLS to %s: the server certificate is not valid for %q: %v (--tls-server-name sets the name to verify)", hp, hostErr.Host, hostErr)
	case errors.As(err, &invalid):
		return fmt.Errorf("TLS to %s: the server certificate is invalid: %v", hp, invalid)
	case strings.Contains(peerRefusedTLS(err), "certificate"):
		return fmt.Errorf("TLS to %s: the broker ended the handshake (%s): it asks for a client certificate (--tls-cert, --tls-key) signed by a CA it trusts", hp, peerRefusedTLS(err))
	case peerRefusedTLS(err) != "":
		// TLS 1.2 brokers answer a missing certificate with a plain
		// handshake failure, as they do a cipher or version mismatch.
		return fmt.Errorf("TLS to %s: the broker ended the handshake (%s): check the TLS versions and ciphers it accepts, and whether it asks for a client certificate (--tls-cert, --tls-key)", hp, peerRefusedTLS(err))
	case errors.As(err, &recErr):
		return fmt.Errorf("TLS to %s: the server did not answer with TLS (is this an amqps port? amqp:// is plain AMQP)", hp)
	}
	return nil
}
