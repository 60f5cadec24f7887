package main

import (
	"flag"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mqbench/mqbench/internal/scenario"
)

// TestFlagDeclarations: every declared run flag names a scenario path that
// is a path of the scenario type's YAML tags, of a type its value fits, or
// says why it has none; and no flag is registered outside the list (the
// flag table would not show it).
func TestFlagDeclarations(t *testing.T) {
	f := &flagSet{fs: flag.NewFlagSet("test", flag.ContinueOnError)}
	declared := map[string]bool{}
	for _, d := range runFlags() {
		if _, err := d.bind(f, newTagNames("yaml")); err != nil {
			t.Error(err)
		}
		declared[d.name] = true
		if d.alias != "" {
			declared[d.alias] = true
		}
	}
	newFlagSet().fs.VisitAll(func(fl *flag.Flag) {
		if !declared[fl.Name] {
			t.Errorf("-%s is registered but not declared in runFlags", fl.Name)
		}
	})
	if len(declared) < 90 {
		t.Errorf("%d flag names and aliases declared: the list lost some", len(declared))
	}
}

// TestFlagDeclarationMistakes: each way of declaring a flag wrongly is
// refused, naming the flag and what is wrong.
func TestFlagDeclarationMistakes(t *testing.T) {
	asText := converted(func(s string, _ any) any { return s })
	cases := []struct {
		d    runFlag
		want string
	}{
		{runFlag{name: "no-path", arg: "N", usage: "u"}, "--no-path: no scenario path"},
		{runFlag{name: "typo", arg: "N", path: "producers.cuont"}, `--typo: producers.cuont: scenario.Producers has no field "cuont"`},
		{runFlag{name: "go-name", arg: "N", path: "producers.Count"}, `no field "Count"`},
		{runFlag{name: "flag-only", arg: "X", path: "shard"}, `scenario.Scenario has no field "shard" (yaml tags)`},
		{runFlag{name: "deep", arg: "N", path: "producers.count.more"}, "producers.count.more: more is a int, not a section"},
		{runFlag{name: "not-list", arg: "N", path: "producers[0].count"}, "producers is a scenario.Producers, not a list"},
		{runFlag{name: "index", arg: "NAME", path: "queues[1].name"}, "a list is [0] (its only entry) or [*] (every entry)"},
		{runFlag{name: "both", arg: "N", path: "producers.count", none: "why"}, "both a scenario path"},
		{runFlag{name: "type", arg: "N", path: "producers.count", own: asText}, "its value is a string, the field at producers.count a int"},
		{runFlag{name: "unparsed", arg: "N", path: "producers.headers"}, "parses into a *map[string]interface {}"},
		{runFlag{name: "switch-arg", arg: "B", path: "keep"}, "a switch has no arg placeholder"},
		{runFlag{name: "no-arg", path: "producers.count"}, "a switch has no arg placeholder"},
		{runFlag{name: "nowhere", arg: "X", none: "why", own: asText}, "no scenario path to store it at"},
		{runFlag{name: "inert", arg: "X", none: "why"}, "no value of its own: it would set nothing"},
	}
	for _, c := range cases {
		_, err := c.d.bind(newFlagSet(), newTagNames("yaml"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--%s: got %v, want an error with %q", c.d.name, err, c.want)
		}
	}
}

// TestFlagsSetWhatTheFileSets: a flag sets what its scenario path sets in
// a file — `--producers 7` is `producers: {count: 7}` — and a problem of
// the field names the flag. Checked for every flag with a path, by
// decoding the path as a one-field YAML document.
func TestFlagsSetWhatTheFileSets(t *testing.T) {
	// The value each field type gets; flags whose value is not the field's
	// as it is give theirs here, in the flag's and in the file's form.
	byType := map[reflect.Type][2]string{
		reflect.TypeOf(0): {"7", "7"}, reflect.TypeOf(int64(0)): {"9", "9"}, reflect.TypeOf(0.0): {"2.5", "2.5"},
		reflect.TypeOf(true): {"true", "true"}, reflect.TypeOf(""): {"v-%d", "v-%d"},
		reflect.TypeOf(scenario.Duration(0)): {"3s", "3s"}, reflect.TypeOf([]string{}): {"amqp://h/", "[amqp://h/]"},
	}
	own := map[string][2]string{
		"routing-key":      {"a, b,,c", "[a, b, c]"},
		"rpc-server-delay": {"5ms", "{distribution: fixed, mean: 5ms}"},
		"sweep":            {"prefetch=1,10", "{prefetch: [1, 10]}"},
	}
	for _, d := range runFlags() {
		if d.path == "" {
			continue
		}
		ft, _ := newTagNames("yaml").pathType(scenarioType(), d.path)
		vals, ok := own[d.name]
		if _, mapped := byType[ft]; !ok && (d.own != nil || !mapped) {
			t.Errorf("--%s: no sample value for this test (its value is not the field's %s as it is)", d.name, ft)
			continue
		} else if !ok {
			vals = byType[ft]
		}
		f := newFlagSet()
		if _, err := f.parse([]string{"--" + d.name + "=" + vals[0]}); err != nil {
			t.Fatalf("--%s %s: %v", d.name, vals[0], err)
		}
		byFlag := scenario.Default()
		paths, err := f.apply(&byFlag)
		if err != nil {
			t.Fatalf("--%s: %v", d.name, err)
		}
		byFile := scenario.Default()
		if err := yaml.Unmarshal([]byte(yamlAt(d.path, vals[1])), &byFile); err != nil {
			t.Fatalf("%s: %v", d.path, err)
		}
		byFlag.Normalize()
		byFile.Normalize()
		if !reflect.DeepEqual(byFlag, byFile) {
			t.Errorf("--%s %s sets\n  %+v\nwhile %s: %s sets\n  %+v", d.name, vals[0], byFlag, d.path, vals[1], byFile)
		}
		concrete := strings.ReplaceAll(d.path, "[*]", "[0]") // the default scenario has one queue
		if paths[concrete] != d.name {
			t.Errorf("--%s: a problem at %s names %q", d.name, concrete, paths[concrete])
		}
	}
}

// yamlAt is a scenario file setting only path to value.
func yamlAt(path, value string) string {
	var b strings.Builder
	parts := strings.Split(path, ".")
	pad, prefix := "", ""
	for i, part := range parts {
		name, list, _ := strings.Cut(part, "[")
		b.WriteString(prefix + name + ":")
		if i == len(parts)-1 {
			b.WriteString(" " + value)
		}
		b.WriteString("\n")
		pad += "  "
		prefix = pad
		if list != "" {
			prefix, pad = pad+"- ", pad+"  "
		}
	}
	return b.String()
}

// TestFlagOnOneQueueEntry: a flag on queues[0] refuses a scenario with
// several queue entries (which one would it mean?), makes the entry of a
// scenario with none, and a queues[*] flag sets every entry.
func TestFlagOnOneQueueEntry(t *testing.T) {
	sc := scenario.Default()
	sc.Queues = []scenario.Queue{{Name: "a"}, {Name: "b"}}
	f := newFlagSet()
	if _, err := f.parse([]string{"--queue", "q"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.apply(&sc); err == nil || err.Error() != "--queue: the scenario has 2 queue entries; change them in the file" {
		t.Errorf("two entries: %v", err)
	}
	sc.Queues = nil
	paths, err := f.apply(&sc)
	if err != nil || len(sc.Queues) != 1 || sc.Queues[0].Name != "q" || paths["queues[0].name"] != "queue" {
		t.Errorf("no entries: %+v %v %v", sc.Queues, paths, err)
	}
	sc.Queues = []scenario.Queue{{Name: "a"}, {Name: "b"}}
	f = newFlagSet()
	if _, err := f.parse([]string{"--durable"}); err != nil {
		t.Fatal(err)
	}
	if paths, err := f.apply(&sc); err != nil || !sc.Queues[0].Durable || !sc.Queues[1].Durable || paths["queues[1].durable"] != "durable" {
		t.Errorf("every entry: %+v %v %v", sc.Queues, paths, err)
	}
}
