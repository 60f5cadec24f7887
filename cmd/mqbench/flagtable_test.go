package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The markers around the generated flag table in docs/reference/flags.md.
const (
	flagTableBegin = "<!-- flags:begin -->"
	flagTableEnd   = "<!-- flags:end -->"
)

// flagTable is the markdown table of the run flags, one row per flag in
// their declared order, with a line on how to read its last column.
func flagTable(flags []runFlag) string {
	var b strings.Builder
	b.WriteString("The scenario field is the YAML path in a scenario file that the flag sets: `queues[0]` is the\n" +
		"scenario's only queue entry (a file with several refuses the flag), `queues[*]` every entry.\n\n")
	b.WriteString("| flag | alias | meaning | scenario field |\n|---|---|---|---|\n")
	for _, d := range flags {
		flag := "--" + d.name
		if d.arg != "" {
			flag += " " + d.arg
		}
		alias := ""
		if d.alias != "" {
			alias = "`-" + d.alias + "`"
		}
		field := "`" + d.path + "`"
		if d.path == "" {
			field = "none — " + cell(d.none)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", flag, alias, cell(d.usage), field)
	}
	return b.String()
}

// cell escapes text for a markdown table cell: a | would end the cell,
// and <name> would be taken for an HTML tag and vanish.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// withFlagTable is doc with the text between the flag table's markers
// replaced by table.
func withFlagTable(doc, table string) (string, error) {
	begin := strings.Index(doc, flagTableBegin)
	end := strings.Index(doc, flagTableEnd)
	if begin < 0 || end < begin {
		return "", fmt.Errorf("no %s … %s markers, in that order", flagTableBegin, flagTableEnd)
	}
	return doc[:begin+len(flagTableBegin)] + "\n" + table + doc[end:], nil
}

var update = flag.Bool("update", false, "rewrite the flag table in docs/reference/flags.md")

// flagDoc is the reference page that holds the generated flag table.
const flagDoc = "../../docs/reference/flags.md"

// TestFlagTable: the flag table in docs/reference/flags.md is the one the
// flag list makes. A flag added, renamed or reworded changes it, and then
// this test fails until `go test ./cmd/mqbench -run TestFlagTable -update`
// rewrites it.
func TestFlagTable(t *testing.T) {
	raw, err := os.ReadFile(flagDoc)
	if err != nil {
		t.Fatalf("%v (it holds the flag table between %s and %s)", err, flagTableBegin, flagTableEnd)
	}
	want, err := withFlagTable(string(raw), flagTable(runFlags()))
	if err != nil {
		t.Fatalf("%s: %v", flagDoc, err)
	}
	if *update {
		if err := os.WriteFile(flagDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(raw) != want {
		t.Errorf("%s: the flag table is stale; run go test ./cmd/mqbench -run TestFlagTable -update\n%s", flagDoc, firstDiff(string(raw), want))
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  doc:       %s\n  generated: %s", i+1, gl, wl)
		}
	}
	return ""
}

// TestFlagTableMarkers: a doc without the markers, or with them swapped,
// is an error, never a table written somewhere.
func TestFlagTableMarkers(t *testing.T) {
	for _, doc := range []string{"", "text", flagTableEnd + "\n" + flagTableBegin, flagTableBegin} {
		if got, err := withFlagTable(doc, "T"); err == nil {
			t.Errorf("%q: no error, got %q", doc, got)
		}
	}
	got, err := withFlagTable("a\n"+flagTableBegin+"\nold\n"+flagTableEnd+"\nb\n", "new\n")
	if want := "a\n" + flagTableBegin + "\nnew\n" + flagTableEnd + "\nb\n"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}
