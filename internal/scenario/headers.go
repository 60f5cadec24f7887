package scenario

import (
	"fmt"
	"sort"
)

// A header of producers.headers is a scalar, the same in every message, or
// a mapping that draws its value per message:
//
//	{values: [eu, us, ap]}                   each value equally often
//	{values: [eu, us], weights: [3, 1]}      in proportion to the weights
//	{min: 1, max: 8}                         the integers 1 to 8, equally often
//	{min: 1, max: 3, weights: [1, 2, 1]}     or weighted
//
// Draws are deterministic — the value of producer p's message seq is a
// function of (p, seq) — so that the routing model knows which headers
// every message carried (see internal/message's Deck).

// HeaderDraw is a header whose value is drawn per message: Values[i] with
// weight Weights[i], the weights divided by their greatest common divisor.
type HeaderDraw struct {
	Name    string
	Values  []any // field-table values
	Weights []int
}

// Slots is the sum of the draw's weights: a deck holds each value that
// many times.
func (d HeaderDraw) Slots() int {
	n := 0
	for _, w := range d.Weights {
		n += w
	}
	return n
}

// The bounds of drawn headers: values per header, and the slots of the
// deck all drawn headers are dealt from (the product of their weights'
// sums), which the routing model and the delivery audit hold per routing
// key; MaxHeaderPositions bounds routing keys × slots, the period of the
// audit's pattern when a headers exchange routes on them (each audited
// queue holds up to 8 bytes per position of it: 512 KiB at the bound).
const (
	MaxHeaderValues    = 1_000
	MaxHeaderSlots     = 10_000
	MaxHeaderPositions = 1 << 16
)

// HeaderDraws splits producers.headers into the fixed headers (a field
// table, nil when none) and the drawn ones, ordered by name. Call it on
// validated scenarios: it leaves out what Validate rejects.
func (p Producers) HeaderDraws() (fixed map[string]any, draws []HeaderDraw) {
	for name, v := range p.Headers {
		spec, ok := v.(map[string]any)
		if !ok {
			if tv, err := tableValue(v); err == nil {
				if fixed == nil {
					fixed = map[string]any{}
				}
				fixed[name] = tv
			}
			continue
		}
		if d, err := parseDraw(name, spec); err == nil {
			draws = append(draws, d)
		}
	}
	sort.Slice(draws, func(i, j int) bool { return draws[i].Name < draws[j].Name })
	return fixed, draws
}

// parseDraw reads a draw's mapping.
func parseDraw(name string, spec map[string]any) (HeaderDraw, error) {
	d := HeaderDraw{Name: name}
	for k := range spec {
		if k != "values" && k != "weights" && k != "min" && k != "max" {
			return d, fmt.Errorf("unknown field %q: a drawn header is {values: [...]} with optional weights: [...], or {min: N, max: M}", k)
		}
	}
	values, hasValues := spec["values"]
	_, hasMin := spec["min"]
	_, hasMax := spec["max"]
	switch {
	case hasValues && !hasMin && !hasMax:
		list, ok := values.([]any)
		if !ok || len(list) == 0 || len(list) > MaxHeaderValues {
			return d, fmt.Errorf("values must be a list of 1 to %d values", MaxHeaderValues)
		}
		for i, v := range list {
			tv, err := tableValue(v)
			if err != nil || tv == nil {
				return d, fmt.Errorf("values[%d] = %v: must be a string, number or boolean", i, v)
			}
			d.Values = append(d.Values, tv)
		}
	case hasMin && hasMax && !hasValues:
		lo, ok1 := wholeNumber(spec["min"])
		hi, ok2 := wholeNumber(spec["max"])
		if !ok1 || !ok2 || hi < lo || hi-lo >= MaxHeaderValues {
			return d, fmt.Errorf("min and max must be integers, min <= max, at most %d values apart", MaxHeaderValues)
		}
		for v := lo; v <= hi; v++ {
			d.Values = append(d.Values, v)
		}
	default:
		return d, fmt.Errorf("give values: [...] (optionally with weights), or min and max")
	}
	weights, err := drawWeights(spec["weights"], len(d.Values))
	d.Weights = weights
	return d, err
}

// drawWeights reads a draw's weights (nil: all 1) and divides them by
// their greatest common divisor, so that the deck is as short as the
// proportions allow.
func drawWeights(v any, n int) ([]int, error) {
	out := make([]int, n)
	if v == nil {
		for i := range out {
			out[i] = 1
		}
		return out, nil
	}
	list, ok := v.([]any)
	if !ok || len(list) != n {
		return nil, fmt.Errorf("weights must be a list of %d integers, one per value", n)
	}
	g := 0
	for i, w := range list {
		x, ok := wholeNumber(w)
		if !ok || x < 1 || x > MaxSizeWeight {
			return nil, fmt.Errorf("weights[%d] = %v: must be an integer, 1 to %d", i, w, MaxSizeWeight)
		}
		out[i] = int(x)
		g = gcd(g, int(x))
	}
	for i := range out {
		out[i] /= g
	}
	return out, nil
}

// wholeNumber reads an integer as YAML (int) or JSON (float64) gives it,
// within ±2^62 (so that the difference of two never overflows).
func wholeNumber(v any) (int64, bool) {
	const bound = 1 << 62
	switch x := v.(type) {
	case int:
		return int64(x), x > -bound && x < bound
	case int64:
		return x, x > -bound && x < bound
	case uint64:
		return int64(x), x < bound
	case float64:
		return int64(x), x == float64(int64(x)) && x > -bound && x < bound
	}
	return 0, false
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// validateHeaders checks producers.headers: fixed values, draws, the
// reserved stamp header, and the size of the deck and the audit's period.
func (s *Scenario) validateHeaders(c *checker) {
	p := s.Producers
	c.check(len(p.Headers) <= MaxTableEntries, "producers.headers", fmt.Sprintf("%d entries", len(p.Headers)), "at most %d entries", MaxTableEntries)
	slots := 1
	for name, v := range p.Headers {
		path := "producers.headers." + name
		c.check(name != StampHeader, path, v, "%s is mqbench's own header (the stamp, when the body is the user's)", StampHeader)
		c.check(len(name) <= MaxShortString, path, v, "a header name is at most %d bytes", MaxShortString)
		spec, ok := v.(map[string]any)
		if !ok {
			_, err := tableValue(v)
			c.check(err == nil, path, v, "%v (or a mapping that draws it per message: {values: [...]}, {min: N, max: M})", err)
			continue
		}
		d, err := parseDraw(name, spec)
		c.check(err == nil, path, "(draw)", "%v", err)
		if err == nil {
			slots = min(slots*d.Slots(), MaxHeaderSlots+1)
		}
	}
	c.check(slots <= MaxHeaderSlots, "producers.headers", "(draws)",
		"the drawn headers need a deck of more than %d slots (the product of each one's weights, or number of values): draw fewer values, or smaller weights", MaxHeaderSlots)
	if s.Exchange.Type == ExchangeHeaders && slots > 1 && slots <= MaxHeaderSlots {
		keys := max(1, len(p.RoutingKeys))
		c.check(keys*slots <= MaxHeaderPositions, "producers.headers", "(draws)",
			"%d routing keys × %d slots of drawn headers = %d routes for the delivery audit to follow: at most %d", keys, slots, keys*slots, MaxHeaderPositions)
	}
}
