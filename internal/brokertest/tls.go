package brokertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLSFiles are PEM files a test made: a CA and a certificate with its key
// that the CA signed (a server's, for localhost and 127.0.0.1, or a
// client's).
type TLSFiles struct {
	CA, Cert, Key string
}

// CA is a certificate authority made for one test: it signs server and
// client certificates, which are written as PEM files.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// File is the CA certificate's PEM file (what --tls-ca and the
	// broker's ssl_options.cacertfile are given).
	File   string
	dir    string
	serial int64
}

// NewCA makes a CA valid for an hour around now, its files in a
// directory of the test's.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	ca := &CA{dir: t.TempDir(), serial: 1}
	ca.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	ca.cert, _ = x509.ParseCertificate(der)
	ca.File = filepath.Join(ca.dir, "ca.pem")
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

// Server signs a server certificate for localhost and 127.0.0.1.
func (ca *CA) Server(t testing.TB) TLSFiles {
	t.Helper()
	return ca.issue(t, "localhost", x509.ExtKeyUsageServerAuth)
}

// Client signs a client certificate whose subject's common name is cn
// (the user name a broker's EXTERNAL mechanism takes from it when
// configured with ssl_cert_login_from = common_name).
func (ca *CA) Client(t testing.TB, cn string) TLSFiles {
	t.Helper()
	return ca.issue(t, cn, x509.ExtKeyUsageClientAuth)
}

func (ca *CA) issue(t testing.TB, cn string, usage x509.ExtKeyUsage) TLSFiles {
	t.Helper()
	ca.serial++
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"mqbench tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.DNSNames, tmpl.IPAddresses = []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	base := filepath.Join(ca.dir, fmt.Sprintf("%d-%s", ca.serial, usageName(usage)))
	f := TLSFiles{CA: ca.File, Cert: base + ".pem", Key: base + ".key"}
	writePEM(t, f.Cert, "CERTIFICATE", der)
	writePEM(t, f.Key, "EC PRIVATE KEY", keyDER)
	return f
}

func usageName(u x509.ExtKeyUsage) string {
	if u == x509.ExtKeyUsageServerAuth {
		return "server"
	}
	return "client"
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// NewTLSProxy starts a TLS-terminating proxy in front of the broker at
// target, with certificates made for the test, and returns it with the CA
// file that verifies it.
func NewTLSProxy(t testing.TB, target string) (*Proxy, TLSFiles) {
	t.Helper()
	files := NewCA(t, "mqbench test CA").Server(t)
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("tls proxy: %v", err)
	}
	return startProxy(t, ln, target), files
}
