package scenario

import "fmt"

// tableValue converts a YAML scalar into a value an AMQP field table can
// carry: strings, booleans, 64-bit integers and floats, and null (no
// value: in a headers binding, "the header is present").
func tableValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string, bool, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case float32:
		return float64(x), nil
	}
	return nil, fmt.Errorf("must be a string, number, boolean or null, not %T", v)
}

// Table converts a map of YAML scalars into AMQP field-table values. Call it
// on validated scenarios only; it skips values Validate rejects.
func Table(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if tv, err := tableValue(v); err == nil {
			out[k] = tv
		}
	}
	return out
}
