package scenario

import (
	"reflect"
	"testing"
)

// full is a scenario in which every pointer, map and slice is set.
func full() Scenario {
	r, a, b := 100.0, 10.0, 20.0
	s := Default()
	s.Producers.RoutingKeys = []string{"a", "b"}
	s.Producers.Headers = map[string]any{"region": "eu"}
	s.Producers.Schedule = []RateStep{{Rate: &r, For: Duration(1e9)}, {From: &a, To: &b}}
	s.Producers.SizeDistribution = &SizeDistribution{Type: SizeWeighted, Sizes: []WeightSize{{Size: 100, Weight: 1}}}
	s.Queues = []Queue{{Name: "q", Count: 1, Arguments: map[string]any{"x-max-length": int64(5)},
		Bindings: []Binding{{Key: "k", Arguments: map[string]any{"x-match": "all"}}}}}
	s.RPC.Schedule = []RateStep{{Rate: &r}}
	s.Matrix = Matrix{{Name: "prefetch", Values: []string{"1", "2"}}}
	paused, delay := true, Duration(1e6)
	s.Phases = []Phase{{Name: "p", Producers: PhaseProducers{Rate: &r, Schedule: []RateStep{{Rate: &r}}, Paused: &paused},
		Consumers: PhaseConsumers{Paused: &paused, Delay: &delay}}}
	return s
}

// TestCloneSharesNothing walks the original and its clone side by side:
// no pointer, map or slice of one may be the other's. Checked by address,
// for every field there is, so a field added later is covered too.
func TestCloneSharesNothing(t *testing.T) {
	s := full()
	c := s.Clone()
	if !reflect.DeepEqual(s, c) {
		t.Fatal("the clone differs from the original")
	}
	var walk func(path string, a, b reflect.Value)
	walk = func(path string, a, b reflect.Value) {
		switch a.Kind() {
		case reflect.Pointer, reflect.Map:
			if !a.IsNil() && a.Pointer() == b.Pointer() {
				t.Errorf("%s is shared", path)
			}
			if a.Kind() == reflect.Pointer && !a.IsNil() {
				walk(path, a.Elem(), b.Elem())
			}
			if a.Kind() == reflect.Map {
				for _, k := range a.MapKeys() {
					walk(path+"."+k.String(), a.MapIndex(k), b.MapIndex(k))
				}
			}
		case reflect.Slice:
			if a.Len() > 0 && a.Pointer() == b.Pointer() {
				t.Errorf("%s is shared", path)
			}
			for i := 0; i < a.Len(); i++ {
				walk(path, a.Index(i), b.Index(i))
			}
		case reflect.Interface:
			if !a.IsNil() {
				walk(path, a.Elem(), b.Elem())
			}
		case reflect.Struct:
			for i := 0; i < a.NumField(); i++ {
				walk(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
			}
		}
	}
	walk("scenario", reflect.ValueOf(s), reflect.ValueOf(c))

	// And by behaviour: changing the clone leaves the original alone.
	*c.Producers.Schedule[0].Rate = 1
	c.Producers.SizeDistribution.Sizes[0].Size = 4000
	c.Producers.Headers["region"] = "us"
	c.Queues[0].Arguments["x-max-length"] = int64(9)
	c.Queues[0].Bindings[0].Arguments["x-match"] = "any"
	c.Matrix[0].Values[0] = "99"
	if *s.Producers.Schedule[0].Rate != 100 || s.Producers.SizeDistribution.Sizes[0].Size != 100 ||
		s.Producers.Headers["region"] != "eu" || s.Queues[0].Arguments["x-max-length"] != int64(5) ||
		s.Queues[0].Bindings[0].Arguments["x-match"] != "all" || s.Matrix[0].Values[0] != "1" {
		t.Fatalf("changing the clone changed the original: %+v", s)
	}
}
