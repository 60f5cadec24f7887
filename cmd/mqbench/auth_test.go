package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/brokertest"
)

// TestExternalLogin runs mqbench with --auth external on a private node
// with the rabbitmq_auth_mechanism_ssl plugin: with a client certificate
// whose CN is a user (one without a password) it publishes and consumes;
// with one signed by the same CA whose CN is no user it exits 1 with an
// error naming the mechanism and what to check; --auth external without
// a client certificate or TLS is bad input (exit 2, naming the flag).
func TestExternalLogin(t *testing.T) {
	n := brokertest.StartNode(t, brokertest.WithExternalAuth())
	user := "mqbench-cert-" + brokertest.Suffix(t)
	n.AddUserWithoutPassword(user)
	// Without guest, the URL's default credentials cannot log in: a run
	// that works logged in by its certificate.
	if out, err := n.Ctl("delete_user", "guest"); err != nil {
		t.Fatalf("delete_user guest: %v\n%s", err, out)
	}
	external := func(files brokertest.TLSFiles, extra ...string) []string {
		return append([]string{"run", "--url", n.TLSURL(), "--auth", "external",
			"--tls-ca", files.CA, "--tls-cert", files.Cert, "--tls-key", files.Key}, extra...)
	}
	good := n.CA.Client(t, user)
	code, stdout, stderr := run(external(good, "--pmessages", "200", "--quiet", "--out", "-")...)
	if code != exitOK {
		t.Fatalf("right certificate: exit %d\n%s", code, stderr)
	}
	var res struct {
		Scenario struct{ Auth string }
		Totals   struct{ Published, Consumed int64 }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("result: %v\n%s", err, stdout)
	}
	if res.Totals.Published != 200 || res.Totals.Consumed != 200 || res.Scenario.Auth != "external" {
		t.Errorf("right certificate: published %d, consumed %d, scenario auth %q; want 200, 200, external",
			res.Totals.Published, res.Totals.Consumed, res.Scenario.Auth)
	}

	stranger := n.CA.Client(t, "nobody-"+brokertest.Suffix(t))
	code, _, stderr = run(external(stranger, "--duration", "1s", "--quiet", "--out", "-")...)
	if code != exitFailed || !strings.Contains(stderr, "SASL EXTERNAL") || !strings.Contains(stderr, "add_user") {
		t.Errorf("a CN that is no user: exit %d (want %d), stderr %q; want it to name SASL EXTERNAL and what to check", code, exitFailed, stderr)
	}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no client certificate", []string{"run", "--url", n.TLSURL(), "--auth", "external", "--tls-ca", n.CA.File}, "--tls-cert"},
		{"no TLS", []string{"run", "--url", n.URL(), "--auth", "external"}, "not amqps://"},
		{"unknown mechanism", []string{"run", "--url", n.URL(), "--auth", "kerberos"}, "must be plain"},
	} {
		code, _, stderr := run(append(c.args, "--duration", "1s", "--quiet")...)
		if code != exitUsage || !strings.Contains(stderr, "--auth") || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d (want %d), stderr %q; want --auth and %q", c.name, code, exitUsage, stderr, c.want)
		}
	}
}
