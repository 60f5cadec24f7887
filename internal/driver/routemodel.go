package driver

import (
	"sync"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/message"
	"github.com/mqbench/mqbench/internal/routing"
	"github.com/mqbench/mqbench/internal/scenario"
)

// routeModel says which queues the exchange routes each message to, for
// the delivery audit and the backlog's estimates. Producer p's message
// seq is at position (seq+p) mod period of the producers' rotation; the
// position decides its routing key (position mod keys) and, when a
// headers exchange routes on headers drawn per message, their values (the
// deck's slot at that position). A route is a pair (key, combination of
// drawn values), numbered key + keys × combination; routes says for each
// route and queue whether the exchange sends it there.
type routeModel struct {
	period int
	keys   int
	deck   *message.Deck // nil: no headers drawn, or none that route (not a headers exchange)
	routes [][]bool      // route → queue index → routed there

	mu       sync.Mutex
	patterns map[int]audit.Pattern // by queue index, made on first use
}

// newRouteModel models the topology's routing of the producers' messages:
// keys are their routing keys, fixed and deck their headers (deck nil
// without drawn ones), stamped whether the stamp travels in a header.
func newRouteModel(t *topology, keys []string, fixed map[string]any, deck *message.Deck, stamped bool, rules routing.Rules) *routeModel {
	m := &routeModel{period: len(keys), keys: len(keys)}
	if deck != nil && t.sc.Exchange.Name != "" && t.sc.Exchange.Type == scenario.ExchangeHeaders {
		m.deck, m.period = deck, deck.Period()
	}
	combos := 1
	if m.deck != nil {
		combos = m.deck.Combinations()
	}
	headers := make([]map[string]any, combos)
	for c := range headers {
		h := map[string]any{}
		for k, v := range fixed {
			h[k] = v
		}
		if m.deck != nil {
			for k, v := range m.deck.Values(c) {
				h[k] = v
			}
		}
		if stamped {
			// Present in every message; its value never equals a binding's
			// (bindings hold no binary values), but an argument without a
			// value matches it with x-match all-with-x or any-with-x.
			h[scenario.StampHeader] = []byte{}
		}
		headers[c] = h
	}
	m.routes = t.routes(keys, headers, rules)
	return m
}

// route is the route of position j.
func (m *routeModel) route(j int) int {
	k := j % m.keys
	if m.deck == nil {
		return k
	}
	return k + m.keys*m.deck.Combination(m.deck.SlotAt(j))
}

// pattern is the audit's pattern of queue qi: which positions of the
// rotation it owes. It is made once per queue (the backlog asks every
// interval), at a cost of the period, never of the messages sent.
func (m *routeModel) pattern(qi int) audit.Pattern {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pt, ok := m.patterns[qi]; ok {
		return pt
	}
	routes := make([]bool, m.period)
	for j := range routes {
		routes[j] = m.routes[m.route(j)][qi]
	}
	pt := audit.NewPattern(routes)
	if m.patterns == nil {
		m.patterns = map[int]audit.Pattern{}
	}
	m.patterns[qi] = pt
	return pt
}
