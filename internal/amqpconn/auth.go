package amqpconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/scenario"
)

// sasl is the mechanism list offered at login: nil lets the library send
// the URL's user and password (PLAIN); EXTERNAL sends no credentials, and
// the broker takes the user name from the client certificate.
func sasl(auth string) []amqp.Authentication {
	if auth == scenario.AuthExternal {
		return []amqp.Authentication{&amqp.ExternalAuth{}}
	}
	return nil
}

// explainExternal turns a failed EXTERNAL login into what to check on the
// broker's side, or returns nil when err is not about the login. Every
// message names the mechanism: the same symptoms with a password have
// other causes.
func explainExternal(err error, n node) error {
	hp := n.HostPort()
	id := certIdentity(n.tls)
	var ae *amqp.Error
	switch {
	case errors.Is(err, amqp.ErrSASL):
		return fmt.Errorf("SASL EXTERNAL login at %s: the broker does not offer the EXTERNAL mechanism: enable its rabbitmq_auth_mechanism_ssl plugin and list EXTERNAL in auth_mechanisms", hp)
	case peerRefusedTLS(err) != "":
		return fmt.Errorf("SASL EXTERNAL login at %s: the broker refused the client certificate %s during the TLS handshake (%s): it must be signed by a CA in the broker's ssl_options.cacertfile (else it is not even sent) and be valid now", hp, id, peerRefusedTLS(err))
	case errors.Is(err, amqp.ErrCredentials), errors.As(err, &ae) && ae.Code == amqp.AccessRefused:
		return fmt.Errorf("SASL EXTERNAL login refused at %s for the client certificate %s: the broker takes the user name from the certificate as its ssl_cert_login_from says (common_name: the CN; by default the whole subject): check that a user of that name exists (rabbitmqctl add_user; it needs no password) and that the TLS listener verifies peers (ssl_options.verify = verify_peer)%s", hp, id, reason(ae))
	case errors.Is(err, amqp.ErrVhost), errors.As(err, &ae) && ae.Code == amqp.NotAllowed:
		return fmt.Errorf("SASL EXTERNAL login at %s: the user of the client certificate %s may not use vhost %q: rabbitmqctl set_permissions%s", hp, id, n.uri.Vhost, reason(ae))
	}
	return nil
}

// certIdentity describes the client certificate the way a broker admin
// looks for it: its subject's common name and whole distinguished name.
func certIdentity(c *tls.Config) string {
	if c == nil || len(c.Certificates) == 0 {
		return "(none)"
	}
	leaf := c.Certificates[0].Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificates[0].Certificate[0]); err != nil {
			return "(unreadable)"
		}
	}
	return fmt.Sprintf("(CN %q, subject %q)", leaf.Subject.CommonName, leaf.Subject.String())
}

// reason is the broker's own words, when it gave any.
func reason(ae *amqp.Error) string {
	if ae == nil || !ae.Server {
		return ""
	}
	return "; the broker said: " + ae.Reason
}
