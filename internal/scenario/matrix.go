package scenario

import (
	"fmt"
	"math"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Param is one swept parameter: its name as the user wrote it (a flag
// name such as "prefetch", or a scenario path such as "consumers.prefetch")
// and the values to try, in order.
type Param struct {
	Name   string
	Values []string
}

// Matrix is the parameters of a sweep, in the order they were written.
type Matrix []Param

// UnmarshalYAML reads `matrix: {prefetch: [1, 10], ack: [auto, manual]}`,
// keeping the order of the parameters.
func (m *Matrix) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: matrix is a mapping of parameter: [values]", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := Param{Name: k.Value}
		switch v.Kind {
		case yaml.SequenceNode:
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return fmt.Errorf("line %d: matrix.%s: values must be scalars", e.Line, k.Value)
				}
				p.Values = append(p.Values, e.Value)
			}
		case yaml.ScalarNode:
			p.Values = []string{v.Value}
		default:
			return fmt.Errorf("line %d: matrix.%s: want a list of values", v.Line, k.Value)
		}
		if len(p.Values) == 0 {
			return fmt.Errorf("line %d: matrix.%s: no values", v.Line, k.Value)
		}
		*m = append(*m, p)
	}
	return nil
}

// MarshalYAML writes the matrix back as a mapping.
func (m Matrix) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range m {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range p.Values {
			seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p.Name}, seq)
	}
	return n, nil
}

// ParseSweepFlag parses one --sweep NAME=V1,V2,... argument.
func ParseSweepFlag(s string) (Param, error) {
	name, vals, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(strings.TrimLeft(name, "-"))
	if !ok || name == "" {
		return Param{}, fmt.Errorf("--sweep %q: want NAME=V1,V2 (a name and its values)", s)
	}
	p := Param{Name: name}
	for _, v := range strings.Split(vals, ",") {
		if v = strings.TrimSpace(v); v != "" {
			p.Values = append(p.Values, v)
		}
	}
	if len(p.Values) == 0 {
		return Param{}, fmt.Errorf("--sweep %s: no values", name)
	}
	return p, nil
}

// Merge adds flag parameters to the file's: a parameter named in both takes
// the flag's values.
func (m Matrix) Merge(flags []Param) Matrix {
	out := append(Matrix(nil), m...)
	for _, f := range flags {
		replaced := false
		for i := range out {
			if out[i].Name == f.Name {
				out[i], replaced = f, true
			}
		}
		if !replaced {
			out = append(out, f)
		}
	}
	return out
}

// Point is one combination: a value for every parameter, in matrix order.
type Point []Setting

// Setting is one parameter's value in a point.
type Setting struct {
	Name, Value string
}

// Map returns the point as name → value, for printing and saving: a URL
// value has its password masked.
func (p Point) Map() map[string]string {
	out := make(map[string]string, len(p))
	for _, s := range p {
		out[s.Name] = MaskValue(s.Value)
	}
	return out
}

// String formats the point as "a=1 b=x", a URL's password masked.
func (p Point) String() string {
	parts := make([]string, len(p))
	for i, s := range p {
		parts[i] = s.Name + "=" + MaskValue(s.Value)
	}
	return strings.Join(parts, " ")
}

// MaskValue masks the password of a value that is a URL (a swept --url);
// any other value is returned as it is.
func MaskValue(v string) string {
	if strings.Contains(v, "://") {
		return MaskURL(v)
	}
	return v
}

// Size is the number of combinations, saturating at math.MaxInt (it is
// checked before Points expands them).
func (m Matrix) Size() int {
	n := 1
	for _, p := range m {
		if len(p.Values) > 0 && n > math.MaxInt/len(p.Values) {
			return math.MaxInt
		}
		n *= len(p.Values)
	}
	return n
}

// Points expands the matrix into its cartesian product, the last parameter
// varying fastest. An empty matrix has one point with no settings.
func (m Matrix) Points() []Point {
	points := []Point{{}}
	for _, p := range m {
		next := make([]Point, 0, len(points)*len(p.Values))
		for _, pt := range points {
			for _, v := range p.Values {
				np := append(append(Point(nil), pt...), Setting{p.Name, v})
				next = append(next, np)
			}
		}
		points = next
	}
	return points
}
