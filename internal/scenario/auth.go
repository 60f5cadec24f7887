package scenario

import "strings"

// How mqbench logs in (Scenario.Auth).
const (
	// AuthPlain sends the URL's user name and password (SASL PLAIN); it
	// is what an empty Auth means.
	AuthPlain = "plain"
	// AuthExternal sends no credentials (SASL EXTERNAL): the broker takes
	// the user name from the client certificate (tls.cert), which needs
	// its rabbitmq_auth_mechanism_ssl plugin.
	AuthExternal = "external"
)

func (s *Scenario) validateAuth(c *checker) {
	switch s.Auth {
	case "", AuthPlain:
		return
	case AuthExternal:
	default:
		c.check(false, "auth", s.Auth, "must be plain (the URL's user and password) or external (SASL EXTERNAL with a client certificate)")
		return
	}
	c.check(s.TLS.Cert != "" && s.TLS.Key != "", "auth", s.Auth,
		"SASL EXTERNAL logs in with a client certificate: give one and its key (--tls-cert and --tls-key; tls.cert and tls.key)")
	for i, u := range s.Nodes() {
		c.check(strings.HasPrefix(strings.ToLower(u), "amqps://"), "auth", s.Auth,
			"SASL EXTERNAL needs TLS, but URL %d (%s) is not amqps://", i+1, MaskURL(u))
	}
}
