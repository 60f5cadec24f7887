package document

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/document/documenttest"
	"github.com/mqbench/mqbench/internal/result"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fixture documents")

// slug names a kind's files: capacity-search, capacity-sweep.
func slug(k Kind) string { return strings.ReplaceAll(k.String(), " ", "-") }

// fixtureFile is the saved fixture of kind k.
func fixtureFile(k Kind) string { return filepath.Join("testdata", slug(k)+".json") }

// extensions name each format's golden files so that they open as what
// they are.
var extensions = map[Format]string{FormatTable: "txt", FormatJSON: "json", FormatCSV: "csv", FormatMarkdown: "md", FormatHTML: "html"}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", path, got)
	}
}

// load reads kind k's fixture, as the commands read files.
func load(t *testing.T, k Kind) *Doc {
	t.Helper()
	d, err := Load(fixtureFile(k))
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind() != k {
		t.Fatalf("%s loads as a %s, want a %s", fixtureFile(k), d.Kind(), k)
	}
	return d
}

// TestFixtures: every kind has a fixture; its file is its builder's
// JSON, and loads back as that kind.
func TestFixtures(t *testing.T) {
	docs := documenttest.BySchema()
	for _, k := range Kinds() {
		doc, ok := docs[k.Schema()]
		if !ok {
			t.Errorf("the %s kind has no fixture: add one to documenttest.BySchema", k)
			continue
		}
		var b bytes.Buffer
		if err := result.WriteJSON(&b, doc); err != nil {
			t.Fatal(err)
		}
		golden(t, fixtureFile(k), b.Bytes())
		load(t, k)
	}
}

// TestTablesAreFull: every cell of every command's table says what it
// gives, or why it refuses and what to use instead; report's cells that
// give have a renderer of their format's sort; compare has a writer for
// every format some kind is given in, and none for the others, whose
// cells all refuse alike. A kind or a format added without its row or
// column fails here.
func TestTablesAreFull(t *testing.T) {
	names := map[string]bool{}
	for _, k := range Kinds() {
		if k.Schema() == "" || k.String() == fmt.Sprintf("kind %d", int(k)) || names[k.String()] {
			t.Errorf("kind %d: name %q, schema %q: want a distinct name and a schema", int(k), k.String(), k.Schema())
		}
		names[k.String()] = true
	}
	for _, f := range Formats() {
		if f.String() == fmt.Sprintf("format %d", int(f)) || names[f.String()] {
			t.Errorf("format %d: name %q: want a distinct name", int(f), f.String())
		}
		names[f.String()] = true
	}
	report := reportTable()
	writers := comparisonWriters()
	for _, c := range Commands() {
		for _, k := range Kinds() {
			for _, f := range Formats() {
				cell := c.Cell(k, f)
				switch {
				case cell.Refused == "" && cell.Gives == "":
					t.Errorf("%s: the %s cell in %s is empty: say what it gives, or refuse it and say what to use instead", c, k, f)
				case cell.Refused != "" && (cell.Gives != "" || cell.Instead == ""):
					t.Errorf("%s: the %s cell in %s refuses (%q) but gives %q, instead %q", c, k, f, cell.Refused, cell.Gives, cell.Instead)
				case c == CommandReport && cell.Refused == "" && f.spec().page != (report[k][f].page != nil):
					t.Errorf("report: the %s cell in %s does not render the way %s does (one page or one after another)", k, f, f)
				case c == CommandReport && cell.Refused == "" && !f.spec().page && report[k][f].write == nil:
					t.Errorf("report: the %s cell in %s gives %q but has no writer", k, f, cell.Gives)
				case c == CommandCompare && cell.Refused == "" && writers[f] == nil:
					t.Errorf("compare: the %s cell in %s gives %q but %s has no writer", k, f, cell.Gives, f)
				}
			}
		}
	}
	accepted := map[Format]bool{}
	for _, f := range CommandCompare.Accepts() {
		accepted[f] = true
	}
	for _, f := range Formats() {
		if writers[f] != nil && !accepted[f] {
			t.Errorf("compare has a writer for %s, which no kind is given in", f)
		}
		for _, k := range Kinds() {
			if !accepted[f] && CommandCompare.Cell(k, f) != CommandCompare.Cell(KindResult, f) {
				t.Errorf("compare refuses %s for every kind, but not alike: %s is refused as %+v", f, k, CommandCompare.Cell(k, f))
			}
		}
	}
}

// refusedAsSaid checks that err is the refusal of d in format f by
// command c, naming the file, the kind, the format and what to use
// instead, and that nothing was written.
func refusedAsSaid(t *testing.T, err error, written int, c Command, d *Doc, f Format) {
	t.Helper()
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("%s of a %s in %s: got %v, want a refusal", c, d.Kind(), f, err)
	}
	cell := c.Cell(d.Kind(), f)
	for _, want := range []string{d.File + " is a " + d.Kind().String(), "--format " + f.String(), cell.Refused, cell.Instead} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	if written > 0 {
		t.Errorf("a refused document wrote %d bytes", written)
	}
}

// TestReportEveryCell renders every kind's fixture in every format: an
// output matches its golden file (JSON: the document as saved), a refused
// cell is a refusal and writes nothing.
func TestReportEveryCell(t *testing.T) {
	for _, k := range Kinds() {
		d := load(t, k)
		for _, f := range Formats() {
			t.Run(slug(k)+"/"+f.String(), func(t *testing.T) {
				var b bytes.Buffer
				err := Render(&b, []*Doc{d}, f)
				if CommandReport.Cell(k, f).Refused != "" {
					refusedAsSaid(t, err, b.Len(), CommandReport, d, f)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if f == FormatJSON {
					saved, _ := os.ReadFile(d.File)
					if !bytes.Equal(b.Bytes(), saved) {
						t.Errorf("json is not the document as saved:\n%s", b.Bytes())
					}
					return
				}
				golden(t, filepath.Join("testdata", "report", slug(k)+"."+extensions[f]), b.Bytes())
			})
		}
	}
}

// gates is a gate each kind's comparison is judged by, so the verdicts
// show.
func gates(t *testing.T, d *Doc) []compare.Gate {
	path := "latency.end_to_end.p99_us=10"
	if d.IsCapacity() {
		path = "capacity.rate_per_s=5"
	}
	g, err := compare.ParseGate(path)
	if err != nil {
		t.Fatal(err)
	}
	return []compare.Gate{g}
}

// TestCompareEveryCell compares every kind's fixture with itself in every
// format: an output matches its golden file, a refused cell is a refusal
// and writes nothing; a format compare takes for no kind is refused at
// the flag, with the cells' reason.
func TestCompareEveryCell(t *testing.T) {
	for _, k := range Kinds() {
		d := load(t, k)
		pairing := compare.Match(d.Side(), d.Side())
		g := gates(t, d)
		c := Comparison{Base: d, Candidate: d, Pairing: pairing, Verdicts: compare.Apply(pairing, g), Gates: g}
		for _, f := range Formats() {
			t.Run(slug(k)+"/"+f.String(), func(t *testing.T) {
				var b bytes.Buffer
				err := WriteComparison(&b, c, f)
				if CommandCompare.Cell(k, f).Refused != "" {
					refusedAsSaid(t, err, b.Len(), CommandCompare, d, f)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("testdata", "compare", slug(k)+"."+extensions[f]), b.Bytes())
			})
		}
	}
	for _, f := range Formats() {
		_, err := CommandCompare.ParseFormat(f.String())
		cell := CommandCompare.Cell(KindResult, f)
		switch {
		case acceptsSome(f) && err != nil:
			t.Errorf("compare --format %s: %v, want it taken", f, err)
		case !acceptsSome(f) && err == nil:
			t.Errorf("compare --format %s is taken, but no kind is given in it", f)
		case err != nil && (!strings.Contains(err.Error(), cell.Instead) || !strings.Contains(err.Error(), `"`+f.String()+`"`)):
			t.Errorf("compare --format %s is refused without saying why and what instead: %v", f, err)
		}
	}
}

// acceptsSome says whether compare gives some kind in f.
func acceptsSome(f Format) bool {
	for _, a := range CommandCompare.Accepts() {
		if a == f {
			return true
		}
	}
	return false
}

// docsFile holds the kinds × formats tables for readers.
var docsFile = filepath.Join("..", "..", "docs", "reference", "formats.md")

const (
	docsBegin = "<!-- BEGIN formats table: generated by go test ./internal/document -update; do not edit -->\n"
	docsEnd   = "<!-- END formats table -->"
)

// docsTables writes each command's table: a grid of what each kind gets
// in each format, then what each cell gives, or why it is refused and
// what to use instead.
func docsTables() string {
	var b strings.Builder
	for _, c := range Commands() {
		fmt.Fprintf(&b, "\n### mqbench %s\n\n| kind |", c)
		for _, f := range Formats() {
			fmt.Fprintf(&b, " `%s` |", f)
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(Formats())) + "\n")
		for _, k := range Kinds() {
			fmt.Fprintf(&b, "| %s |", k)
			for _, f := range Formats() {
				if c.Cell(k, f).Refused != "" {
					b.WriteString(" refused |")
				} else {
					b.WriteString(" output |")
				}
			}
			b.WriteString("\n")
		}
		for _, k := range Kinds() {
			fmt.Fprintf(&b, "\n**%s**\n\n", k)
			for _, f := range Formats() {
				cell := c.Cell(k, f)
				if cell.Refused != "" {
					fmt.Fprintf(&b, "- `%s`: refused — %s; %s.\n", f, cell.Refused, cell.Instead)
					continue
				}
				fmt.Fprintf(&b, "- `%s`: %s.\n", f, cell.Gives)
			}
		}
	}
	b.WriteString("\n")
	return b.String()
}

// TestDocsTables: the tables in docs/reference/formats.md are the ones
// the code has (-update rewrites them).
func TestDocsTables(t *testing.T) {
	data, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin, end := strings.Index(doc, docsBegin), strings.Index(doc, docsEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s lacks the markers %q … %q", docsFile, docsBegin, docsEnd)
	}
	got := doc[:begin+len(docsBegin)] + docsTables() + doc[end:]
	if *update {
		if err := os.WriteFile(docsFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != doc {
		t.Errorf("%s is stale: go test ./internal/document -update rewrites its tables", docsFile)
	}
}

// TestLoadRefusesBadDocuments: a file mqbench cannot render is an error
// naming the file and what is wrong, never a panic later: not JSON, an
// unknown schema, a capacity sweep whose variant has no search.
func TestLoadRefusesBadDocuments(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ body, want string }{
		{"not json", "not a JSON document"},
		{`{"schema": "mqbench.other/v9"}`, `schema "mqbench.other/v9" is none of mqbench.result/v1, mqbench.sweep/v1`},
		{`{"schema": "mqbench.capacity-sweep/v1", "variants": [{"params": {"prefetch": "1"}, "search": null}]}`,
			"variant 1 has no capacity search"},
	} {
		file := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(file, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(file); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), file) {
			t.Errorf("%s: got %v, want an error naming the file and %q", c.body, err, c.want)
		}
	}
}
