package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Source remembers where each field of a scenario file was written, so that
// errors can name the file and line.
type Source struct {
	File  string
	lines map[string]int // field path ("producers.rate", "queues[1].type") → line
}

// Line returns the line where path (or its nearest written parent) is set,
// or 0 when the file does not set it.
func (s *Source) Line(path string) int {
	if s == nil {
		return 0
	}
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := s.lines[p]; ok {
			return l
		}
	}
	return 0
}

// pathAt returns the deepest field path written on line.
func (s *Source) pathAt(line int) string {
	best := ""
	for p, l := range s.lines {
		if l == line && len(p) > len(best) {
			best = p
		}
	}
	return best
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Load reads a scenario file over base (fields absent from the file keep
// base's values). Unknown fields, wrong types and malformed YAML are errors
// naming the file, line and field.
func Load(file string, base Scenario) (Scenario, *Source, error) {
	if fi, err := os.Stat(file); err == nil && fi.Size() > MaxFileSize {
		return base, nil, fmt.Errorf("scenario %s: %d bytes; a scenario file is at most %d", file, fi.Size(), MaxFileSize)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return base, nil, fmt.Errorf("scenario %s: %w", file, errors.Unwrap(err))
	}
	src := &Source{File: file, lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return base, src, src.wrapYAML(err)
	}
	if len(root.Content) == 0 {
		return base, src, fmt.Errorf("%s: the scenario file is empty", file)
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return base, src, fmt.Errorf("%s:%d: a scenario is a mapping of fields (name:, duration:, producers:, ...)", file, doc.Line)
	}
	src.index(doc, "")
	sc := base
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return base, src, src.wrapYAML(err)
	}
	if sc.Name == base.Name || sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	return sc, src, nil
}

// index records the line of every field path under n.
func (s *Source) index(n *yaml.Node, prefix string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if prefix != "" {
				p = prefix + "." + p
			}
			s.lines[p] = n.Content[i].Line
			s.index(n.Content[i+1], p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			s.lines[p] = c.Line
			s.index(c, p)
		}
	}
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// wrapYAML rewrites the YAML library's errors as "file:line: field: what",
// one per line when there are several.
func (s *Source) wrapYAML(err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		loc := s.File
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			m = strings.Replace(m, sm[0], "", 1)
			loc = fmt.Sprintf("%s:%d", s.File, line)
			p := s.pathAt(line)
			switch {
			case p != "" && strings.Contains(m, "not found in type"):
				m = p + ": unknown field (see the scenario format in docs/reference/scenario.md)"
			case p != "":
				m = p + ": " + m
			}
		}
		out = append(out, loc+": "+m)
	}
	return errors.New(strings.Join(out, "\n"))
}
