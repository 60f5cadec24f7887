package scenario

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestMatrixPoints(t *testing.T) {
	cases := []struct {
		name string
		m    Matrix
		want []string
	}{
		{"empty", nil, []string{""}},
		{"one", Matrix{{"prefetch", []string{"1", "10"}}}, []string{"prefetch=1", "prefetch=10"}},
		{"product, last fastest", Matrix{{"prefetch", []string{"1", "10"}}, {"ack", []string{"auto", "manual"}}},
			[]string{"prefetch=1 ack=auto", "prefetch=1 ack=manual", "prefetch=10 ack=auto", "prefetch=10 ack=manual"}},
		{"three", Matrix{{"a", []string{"1", "2"}}, {"b", []string{"x"}}, {"c", []string{"p", "q", "r"}}},
			[]string{"a=1 b=x c=p", "a=1 b=x c=q", "a=1 b=x c=r", "a=2 b=x c=p", "a=2 b=x c=q", "a=2 b=x c=r"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pts := c.m.Points()
			var got []string
			for _, p := range pts {
				got = append(got, p.String())
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("points %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseSweepFlag(t *testing.T) {
	cases := []struct {
		in, name, values string // values space-separated; "" name = error
	}{
		{"prefetch=1,10,100", "prefetch", "1 10 100"},
		{"--ack=auto, manual", "ack", "auto manual"},
		{"consumers.prefetch=5", "consumers.prefetch", "5"},
		{"prefetch", "", ""},
		{"prefetch=", "", ""},
		{"=1,2", "", ""},
	}
	for _, c := range cases {
		p, err := ParseSweepFlag(c.in)
		switch {
		case c.name == "" && err == nil:
			t.Errorf("%q accepted", c.in)
		case c.name != "" && (err != nil || p.Name != c.name || strings.Join(p.Values, " ") != c.values):
			t.Errorf("%q: %+v, %v", c.in, p, err)
		}
	}
}

func TestMatrixYAMLKeepsOrderAndMerges(t *testing.T) {
	var sc struct {
		Matrix Matrix `yaml:"matrix"`
	}
	if err := yaml.Unmarshal([]byte("matrix:\n  size: [16, 1024]\n  ack: [auto]\n  confirm: 100\n"), &sc); err != nil {
		t.Fatal(err)
	}
	m := sc.Matrix.Merge([]Param{{"ack", []string{"manual", "multiple"}}, {"prefetch", []string{"5"}}})
	var names []string
	for _, p := range m {
		names = append(names, p.Name+"="+strings.Join(p.Values, ","))
	}
	if got := strings.Join(names, " "); got != "size=16,1024 ack=manual,multiple confirm=100 prefetch=5" {
		t.Fatalf("merged matrix %s", got)
	}
	for _, bad := range []string{"matrix: [1, 2]\n", "matrix:\n  a: []\n", "matrix:\n  a: [{x: 1}]\n"} {
		if err := yaml.Unmarshal([]byte(bad), &sc); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
