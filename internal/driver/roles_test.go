package driver

import (
	"testing"

	"github.com/mqbench/mqbench/internal/kind"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestCapacityLoadOfTheRegisteredKinds: with the kinds as registered, a
// capacity search drives the producers whenever there are any — RPC
// clients beside them are a fixed part of the scenario — and the RPC
// clients' requests only in an RPC-only scenario; nothing without either.
func TestCapacityLoadOfTheRegisteredKinds(t *testing.T) {
	kinds := Kinds()
	byName := map[string]*kind.Load{}
	for _, k := range kinds {
		byName[k.Name] = k.Load
	}
	sc := scenario.Default()
	sc.Producers.Count, sc.RPC.Clients = 2, 3
	if kind.Offering(kinds, sc) != byName["producer"] {
		t.Error("producers and RPC clients: the search must drive the producers")
	}
	sc.Producers.Count = 0
	if kind.Offering(kinds, sc) != byName["rpc_client"] {
		t.Error("RPC only: the search must drive the RPC clients")
	}
	sc.RPC.Clients = 0
	if kind.Offering(kinds, sc) != nil {
		t.Error("no load at all")
	}
}
