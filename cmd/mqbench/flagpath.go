package main

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/mqbench/mqbench/internal/scenario"
)

// scenarioType is the type a flag's scenario path is a path in.
func scenarioType() reflect.Type { return reflect.TypeOf(scenario.Scenario{}) }

// pathStep is one dotted part of a scenario path: a field's tag name, and
// for a list "0" (its only entry) or "*" (every entry).
type pathStep struct{ name, index string }

// parsePath splits a scenario path into its steps.
func parsePath(path string) ([]pathStep, error) {
	var steps []pathStep
	for _, part := range strings.Split(path, ".") {
		s := pathStep{name: part}
		if i := strings.IndexByte(part, '['); i >= 0 {
			s.name, s.index = part[:i], strings.TrimSuffix(part[i+1:], "]")
			if !strings.HasSuffix(part, "]") || (s.index != "0" && s.index != "*") {
				return nil, fmt.Errorf("%s: a list is [0] (its only entry) or [*] (every entry)", path)
			}
		}
		if s.name == "" {
			return nil, fmt.Errorf("%q: an empty name", path)
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// tagNames finds struct fields by their tag names (yaml or json),
// reading each struct type's tags once: resolving the paths of every flag
// in each new flag set reads them many times otherwise.
type tagNames struct {
	tag    string
	byType map[reflect.Type]map[string]int
}

func newTagNames(tag string) *tagNames {
	return &tagNames{tag: tag, byType: map[reflect.Type]map[string]int{}}
}

// field finds the exported field of struct type t whose tag names name,
// and returns its index.
func (n *tagNames) field(t reflect.Type, name string) (int, error) {
	idx, ok := n.byType[t]
	if !ok {
		idx = map[string]int{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get(n.tag), ",")
			if name == "" {
				name = strings.ToLower(f.Name) // yaml's default; no field of the scenario relies on it
			}
			if f.IsExported() && name != "-" {
				idx[name] = i
			}
		}
		n.byType[t] = idx
	}
	if i, ok := idx[name]; ok {
		return i, nil
	}
	return 0, fmt.Errorf("%s has no field %q (%s tags)", t, name, n.tag)
}

// pathType is the type of the field at path in t, walking its tag names:
// a path that does not resolve is an error naming the part that does not.
func (n *tagNames) pathType(t reflect.Type, path string) (reflect.Type, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, fmt.Errorf("%s: %s is a %s, not a section", path, s.name, t)
		}
		i, err := n.field(t, s.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		t = t.Field(i).Type
		if s.index != "" {
			if t.Kind() != reflect.Slice {
				return nil, fmt.Errorf("%s: %s is a %s, not a list", path, s.name, t)
			}
			t = t.Elem()
		}
	}
	return t, nil
}

// located is a field found in a scenario, with its concrete path
// ("queues[1].durable").
type located struct {
	path string
	v    reflect.Value
}

// fieldsAt finds the fields at a YAML path in v, a scenario (pathType has
// checked the path): one, or one per entry of a [*] list. A [0] list gets
// its one entry made when it has none (Normalize then fills its defaults);
// one with several entries is refused, since one flag value cannot say
// which of them it means.
func fieldsAt(v reflect.Value, path string) ([]located, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	at := []located{{v: v}}
	for _, s := range steps {
		var next []located
		for _, l := range at {
			found, err := step(l, s)
			if err != nil {
				return nil, err
			}
			next = append(next, found...)
		}
		at = next
	}
	return at, nil
}

// step takes one step of a path from l.
func step(l located, s pathStep) ([]located, error) {
	v := l.v
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	i, err := newTagNames("yaml").field(v.Type(), s.name)
	if err != nil {
		return nil, err
	}
	v, name := v.Field(i), strings.TrimPrefix(l.path+"."+s.name, ".")
	switch s.index {
	case "":
		return []located{{path: name, v: v}}, nil
	case "0":
		switch v.Len() {
		case 0:
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		case 1:
		default: // "queues" → "queue entries"
			return nil, fmt.Errorf("the scenario has %d %s entries; change them in the file", v.Len(), strings.TrimSuffix(s.name, "s"))
		}
	}
	out := make([]located, v.Len())
	for i := range out {
		out[i] = located{path: fmt.Sprintf("%s[%d]", name, i), v: v.Index(i)}
	}
	return out, nil
}
