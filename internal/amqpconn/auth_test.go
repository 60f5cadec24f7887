package amqpconn

import (
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/scenario"
)

// externalDial dials url with SASL EXTERNAL and the client certificate
// files (verifying the broker with their CA). On success, with a node, it
// returns how the node lists the connection's login: "user mechanism".
func externalDial(t *testing.T, n *brokertest.Node, url string, files brokertest.TLSFiles) (string, error) {
	t.Helper()
	return dialAs(t, n, url, scenario.AuthExternal, files)
}

// dialAs is externalDial with the login mechanism given.
func dialAs(t *testing.T, n *brokertest.Node, url, auth string, files brokertest.TLSFiles) (string, error) {
	t.Helper()
	d, err := NewDialer(t.Context(), Options{URLs: []string{url}, ConnectTimeout: 10 * time.Second, Auth: auth,
		TLS: scenario.TLS{CA: files.CA, Cert: files.Cert, Key: files.Key}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial("mqbench-external-" + brokertest.Suffix(t))
	if err != nil {
		return "", err
	}
	defer c.Close()
	if n == nil {
		return "", nil
	}
	// The private node has no other connection.
	out, err := n.Ctl("list_connections", "user", "auth_mechanism", "--no-table-headers", "--quiet")
	if err != nil {
		t.Fatalf("list_connections: %v\n%s", err, out)
	}
	return strings.ReplaceAll(strings.TrimSpace(out), "\t", " "), nil
}

// TestExternalLogin, on a private node with rabbitmq_auth_mechanism_ssl:
// a client certificate whose CN is a user (one without a password) logs
// in as that user by EXTERNAL; one whose CN is no user, one whose user
// may not use the vhost, and one signed by a CA the node does not trust
// are refused with an error that names the mechanism and what to check.
func TestExternalLogin(t *testing.T) {
	n := brokertest.StartNode(t, brokertest.WithExternalAuth())
	user := "mqbench-cert-" + brokertest.Suffix(t)
	n.AddUserWithoutPassword(user)
	got, err := externalDial(t, n, n.TLSURL(), n.CA.Client(t, user))
	if err != nil || got != user+" EXTERNAL" {
		t.Fatalf("EXTERNAL with the right certificate: the node lists %q (error %v); want %s by EXTERNAL", got, err, user)
	}
	// The password goes on working beside EXTERNAL, on the same listener.
	password := strings.Replace(n.TLSURL(), "amqps://", "amqps://guest:guest@", 1)
	if got, err := dialAs(t, n, password, scenario.AuthPlain, n.CA.Client(t, "whoever")); err != nil || got != "guest PLAIN" {
		t.Fatalf("PLAIN beside EXTERNAL: the node lists %q (error %v); want guest by PLAIN", got, err)
	}
	_, err = dialAs(t, nil, password, scenario.AuthPlain, brokertest.TLSFiles{CA: n.CA.File})
	if err == nil || !strings.Contains(err.Error(), "asks for a client certificate") {
		t.Errorf("without the client certificate the node requires: error %v, want it to say the broker asks for one", err)
	}
	stranger := n.CA.Client(t, "nobody-"+brokertest.Suffix(t))
	guest := "mqbench-noperm-" + brokertest.Suffix(t)
	for _, args := range [][]string{{"add_user", guest, "unused"}, {"clear_password", guest}} {
		if out, err := n.Ctl(args...); err != nil {
			t.Fatalf("rabbitmqctl %v: %v\n%s", args, err, out)
		}
	}
	untrusted := brokertest.NewCA(t, "some other CA").Client(t, user)
	untrusted.CA = n.CA.File // the broker is still verified by its own CA
	for _, c := range []struct {
		name  string
		files brokertest.TLSFiles
		want  []string
	}{
		{"a CN that is no user", stranger, []string{"SASL EXTERNAL", "refused", "nobody-", "add_user", "ssl_cert_login_from"}},
		{"a user without permissions", n.CA.Client(t, guest), []string{"SASL EXTERNAL", "may not use vhost", "set_permissions", guest}},
		{"a CA the broker does not trust", untrusted, []string{"SASL EXTERNAL", "refused the client certificate", "cacertfile"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := externalDial(t, nil, n.TLSURL(), c.files)
			if err == nil {
				t.Fatal("logged in")
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestExternalNotOffered: a broker without the EXTERNAL mechanism (the
// shared one, reached through a TLS-terminating proxy) is answered with
// what to enable, not a generic SASL failure.
func TestExternalNotOffered(t *testing.T) {
	plain, err := url.Parse(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy, files := brokertest.NewTLSProxy(t, plain.Host)
	_, port, _ := net.SplitHostPort(proxy.Addr())
	ca := brokertest.NewCA(t, "client CA")
	client := ca.Client(t, "someone")
	client.CA = files.CA
	_, err = externalDial(t, nil, "amqps://127.0.0.1:"+port+"/", client)
	if err == nil || !strings.Contains(err.Error(), "does not offer the EXTERNAL mechanism") || !strings.Contains(err.Error(), "rabbitmq_auth_mechanism_ssl") {
		t.Fatalf("error %v does not say the broker lacks EXTERNAL and which plugin gives it", err)
	}
}
