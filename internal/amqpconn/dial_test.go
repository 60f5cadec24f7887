package amqpconn

import (
	"testing"

	"github.com/mqbench/mqbench/internal/scenario"
)

// TestEachNodeChecksItsOwnCertificate: in a cluster reached over TLS,
// each node's certificate is checked against that node's host name (not
// the first node's), unless --tls-server-name names one for all; a node
// reached without TLS has no TLS settings.
func TestEachNodeChecksItsOwnCertificate(t *testing.T) {
	urls := []string{"amqps://u:p@node-a.example:5671/", "amqps://u:p@node-b.example:5671/", "amqp://u:p@node-c.example:5672/"}
	d, err := NewDialer(t.Context(), Options{URLs: urls})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"node-a.example", "node-b.example"} {
		if got := d.nodes[i].tls; got == nil || got.ServerName != want {
			t.Errorf("node %d: TLS %+v, want server name %s", i, got, want)
		}
	}
	if d.nodes[2].tls != nil {
		t.Error("an amqp:// node has TLS settings")
	}
	d, err = NewDialer(t.Context(), Options{URLs: urls[:2], TLS: scenario.TLS{ServerName: "rabbit.example"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if got := d.nodes[i].tls.ServerName; got != "rabbit.example" {
			t.Errorf("node %d: server name %s, want --tls-server-name's rabbit.example", i, got)
		}
	}
}
