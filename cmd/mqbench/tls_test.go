package main

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/brokertest"
)

// TestTLS runs against a TLS-terminating proxy in front of the local broker,
// with certificates made by the test: the server certificate is verified by
// default, --tls-insecure is explicit and warned about.
func TestTLS(t *testing.T) {
	plain, err := url.Parse(brokertest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	port := plain.Port()
	if port == "" {
		port = "5672"
	}
	proxy, files := brokertest.NewTLSProxy(t, net.JoinHostPort(plain.Hostname(), port))
	_, proxyPort, _ := net.SplitHostPort(proxy.Addr())
	amqps := func(host string) string {
		u := *plain
		u.Scheme, u.Host = "amqps", net.JoinHostPort(host, proxyPort)
		return u.String()
	}
	short := []string{"--pmessages", "200", "--quiet", "--out", "-"}
	cases := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"verified with the CA", append([]string{"run", "--url", amqps("127.0.0.1"), "--tls-ca", files.CA}, short...), exitOK, ""},
		{"verified by name", append([]string{"run", "--url", amqps("localhost"), "--tls-ca", files.CA}, short...), exitOK, ""},
		{"unknown authority", append([]string{"run", "--url", amqps("127.0.0.1")}, short...), exitFailed, "unknown authority"},
		{"wrong server name", append([]string{"run", "--url", amqps("127.0.0.1"), "--tls-ca", files.CA, "--tls-server-name", "broker.example"}, short...),
			exitFailed, "not valid for"},
		{"insecure, with a warning", append([]string{"run", "--url", amqps("127.0.0.1"), "--tls-insecure"}, short...), exitOK, "WARNING: --tls-insecure"},
		{"amqps to a plain AMQP port", append([]string{"run", "--url", "amqps://guest:guest@" + net.JoinHostPort(plain.Hostname(), port) + "/"}, short...),
			exitFailed, "did not answer with TLS"},
		{"TLS options on amqp://", []string{"run", "--tls-ca", files.CA, "--quiet"}, exitUsage, "amqps://"},
		{"missing CA file", append([]string{"run", "--url", amqps("127.0.0.1"), "--tls-ca", "/no/such/ca.pem"}, short...), exitUsage, "--tls-ca"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := run(c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d (want %d), stderr %q", code, c.code, stderr)
			}
			if c.code == exitOK && !strings.Contains(stdout, `"published": 200`) {
				t.Errorf("no result on stdout: %s", stdout)
			}
			if strings.Contains(c.name, "insecure") && !strings.Contains(stdout, "tls-insecure") {
				t.Error("the result's warnings do not mention --tls-insecure")
			}
		})
	}
}
