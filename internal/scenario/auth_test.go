package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateAuth: EXTERNAL is refused, naming the auth field and what is
// missing, without a client certificate or on a node reached without TLS;
// an unknown mechanism is refused; plain (or nothing) needs neither.
func TestValidateAuth(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "c.key")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withCert := func(s *Scenario) { s.URL, s.TLS.Cert, s.TLS.Key = "amqps://h:5671/", cert, key }
	cases := []struct {
		name string
		edit func(*Scenario)
		want string // in the auth field's message; "" = valid
	}{
		{"default", func(*Scenario) {}, ""},
		{"plain", func(s *Scenario) { s.Auth = AuthPlain }, ""},
		{"external with a certificate over TLS", func(s *Scenario) { withCert(s); s.Auth = AuthExternal }, ""},
		{"unknown mechanism", func(s *Scenario) { s.Auth = "kerberos" }, "plain"},
		{"external without a certificate", func(s *Scenario) { s.URL, s.Auth = "amqps://h:5671/", AuthExternal }, "--tls-cert"},
		{"external without TLS", func(s *Scenario) {
			withCert(s)
			s.URL, s.Auth = "amqp://h:5672/", AuthExternal
		}, "not amqps://"},
		{"external, one node of a cluster without TLS", func(s *Scenario) {
			withCert(s)
			s.URLs, s.Auth = []string{"amqps://a:5671/", "amqp://u:secret@b:5672/"}, AuthExternal
		}, "URL 2 (amqp://u:xxxxx@b:5672/)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := Default()
			c.edit(&sc)
			sc.Normalize()
			var msgs []string
			for _, e := range sc.Validate() {
				if e.Path == "auth" {
					msgs = append(msgs, e.Msg)
				}
			}
			if c.want == "" {
				if p := sc.Validate(); p != nil {
					t.Fatalf("rejected: %v", p)
				}
				return
			}
			if !strings.Contains(strings.Join(msgs, "\n"), c.want) {
				t.Fatalf("auth problems %q do not say %q (all: %v)", msgs, c.want, sc.Validate())
			}
		})
	}
}

// TestExternalAuthNeedsManagementCredentials: with a certificate's login
// the management API gets no password from the AMQP URL: its URL must
// carry one.
func TestExternalAuthNeedsManagementCredentials(t *testing.T) {
	for _, c := range []struct {
		mgmt string
		ok   bool
	}{{"http://127.0.0.1:15672/", false}, {"http://admin:secret@127.0.0.1:15672/", true}} {
		sc := Default()
		sc.URL, sc.Auth = "amqps://127.0.0.1:5671/", AuthExternal
		sc.TLS.Cert, sc.TLS.Key = "client.pem", "client.key"
		sc.ManagementURL = c.mgmt
		sc.Normalize()
		p := sc.Validate()
		bad := p != nil && strings.Contains(p.Error(), "management_url")
		if bad == c.ok {
			t.Errorf("%s: %v", c.mgmt, p)
		}
		if p != nil && strings.Contains(p.Error(), "secret") {
			t.Errorf("a password in an error: %v", p)
		}
	}
}
