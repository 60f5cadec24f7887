package scenario

import "os"

// TLS configures amqps:// connections. The server certificate is verified
// against CA (else the system's roots) unless Insecure is set, which is
// explicit and reported as a warning.
type TLS struct {
	CA         string `yaml:"ca" json:"ca,omitempty"`
	Cert       string `yaml:"cert" json:"cert,omitempty"`
	Key        string `yaml:"key" json:"key,omitempty"`
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
	Insecure   bool   `yaml:"insecure" json:"insecure,omitempty"`
}

// Set reports whether any TLS option is given.
func (t TLS) Set() bool { return t != TLS{} }

func (s *Scenario) validateTLS(c *checker) {
	t := s.TLS
	if !t.Set() {
		return
	}
	for _, f := range []struct{ path, file string }{{"tls.ca", t.CA}, {"tls.cert", t.Cert}, {"tls.key", t.Key}} {
		if f.file != "" {
			_, err := os.Stat(f.file)
			c.check(err == nil, f.path, f.file, "cannot read the file: %v", err)
		}
	}
	c.check((t.Cert == "") == (t.Key == ""), "tls.cert", t.Cert, "a client certificate needs its key (tls.key), and a key its certificate")
	c.check(len(s.URL) >= 8 && s.URL[:8] == "amqps://", "url", MaskURL(s.URL), "TLS options need an amqps:// URL")
}
