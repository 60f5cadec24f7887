package brokertest

import (
	"fmt"
	"os"
	"path/filepath"
)

// WithTLS gives the node an amqps listener on a free loopback port
// (Node.TLSPort), with a server certificate for localhost and 127.0.0.1
// signed by a CA made for the test (Node.CA). Clients must present a
// certificate that CA signed: the node verifies the peer and refuses a
// handshake without one.
func WithTLS() NodeOption { return func(c *nodeConfig) { c.tls = true } }

// WithExternalAuth is WithTLS plus SASL EXTERNAL: the
// rabbitmq_auth_mechanism_ssl plugin, EXTERNAL offered beside PLAIN and
// AMQPLAIN (which the guest URL goes on using), and the user name taken
// from the client certificate's common name. The user must exist
// (AddUserWithoutPassword).
func WithExternalAuth() NodeOption {
	return func(c *nodeConfig) { c.tls, c.external = true, true }
}

// Listing auth_mechanisms replaces the default list: PLAIN and AMQPLAIN
// stay in it so that the node's guest URL still works.
const externalConfig = `auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
`

// tlsConfig makes the node's certificates, copies them into its directory
// (the node runs as the rabbitmq user, which cannot read the test's
// temporary directories) and returns the rabbitmq.conf lines of its TLS
// listener.
func (n *Node) tlsConfig() string {
	n.TLSPort = freePort(n.t)
	n.CA = NewCA(n.t, "mqbench node CA")
	server := n.CA.Server(n.t)
	copies := map[string]string{"ca.pem": server.CA, "server.pem": server.Cert, "server.key": server.Key}
	for name, from := range copies {
		b, err := os.ReadFile(from)
		if err != nil {
			n.t.Fatal(err)
		}
		to := filepath.Join(n.dir, name)
		if err := os.WriteFile(to, b, 0o600); err != nil {
			n.t.Fatal(err)
		}
		own(to)
	}
	return fmt.Sprintf(`listeners.ssl.default = 127.0.0.1:%d
ssl_options.cacertfile = %s
ssl_options.certfile = %s
ssl_options.keyfile = %s
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
`, n.TLSPort, filepath.Join(n.dir, "ca.pem"), filepath.Join(n.dir, "server.pem"), filepath.Join(n.dir, "server.key"))
}

// TLSURL is the node's amqps URL, without credentials (with EXTERNAL
// the client certificate names the user).
func (n *Node) TLSURL() string { return fmt.Sprintf("amqps://127.0.0.1:%d/", n.TLSPort) }

// AddUserWithoutPassword creates a user that may do anything on the
// default vhost but has no password: only a mechanism that needs none,
// EXTERNAL, can log it in.
func (n *Node) AddUserWithoutPassword(name string) {
	n.t.Helper()
	for _, args := range [][]string{
		{"add_user", name, "unused-" + name},
		{"clear_password", name},
		{"set_permissions", "-p", "/", name, ".*", ".*", ".*"},
	} {
		if out, err := n.Ctl(args...); err != nil {
			n.t.Fatalf("rabbitmqctl %v: %v\n%s", args, err, out)
		}
	}
}
