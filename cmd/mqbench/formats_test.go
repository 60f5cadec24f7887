package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/document"
	"github.com/mqbench/mqbench/internal/document/documenttest"
	"github.com/mqbench/mqbench/internal/result"
)

// saveFixtures writes one document of each kind into dir, as the
// commands save them, and returns their files by kind.
func saveFixtures(t *testing.T, dir string) map[document.Kind]string {
	t.Helper()
	files := map[document.Kind]string{}
	docs := documenttest.BySchema()
	for _, k := range document.Kinds() {
		doc, ok := docs[k.Schema()]
		if !ok {
			t.Fatalf("the %s kind has no fixture in documenttest.BySchema", k)
		}
		files[k] = filepath.Join(dir, strings.ReplaceAll(k.String(), " ", "-")+".json")
		if err := result.SaveJSON(files[k], doc); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// refusedByCommand checks a refused cell on the command line: exit 2, a
// message naming the format and what to use instead (and the kind, when
// the command takes the format for another kind), no output, no --out
// file.
func refusedByCommand(t *testing.T, c document.Command, k document.Kind, f document.Format, args []string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := run(append(args, "--out", out)...)
	cell := c.Cell(k, f)
	want := []string{f.String(), cell.Instead}
	for _, a := range c.Accepts() {
		if a == f {
			want = append(want, "is a "+k.String())
		}
	}
	if code != exitUsage {
		t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%v: the refusal %q does not say %q", args, stderr, w)
		}
	}
	if _, err := os.Stat(out); stdout != "" || err == nil {
		t.Errorf("%v: a refused cell wrote %q or left %s", args, stdout, out)
	}
}

// TestFormatsEveryCell walks every cell of report's and compare's tables
// through the command line, with a fixture of each kind: a cell that gives
// an output exits 0 and prints exactly what internal/document renders
// (whose golden files pin it); a refused cell exits 2 and says why, and
// writes nothing. Nothing falls through to another kind's output.
func TestFormatsEveryCell(t *testing.T) {
	files := saveFixtures(t, t.TempDir())
	for _, k := range document.Kinds() {
		file := files[k]
		d, err := document.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		gate := "latency.end_to_end.p99_us=10"
		if d.IsCapacity() {
			gate = "capacity.rate_per_s=5"
		}
		g, err := compare.ParseGate(gate)
		if err != nil {
			t.Fatal(err)
		}
		pairing := compare.Match(d.Side(), d.Side())
		cmp := document.Comparison{Base: d, Candidate: d, Pairing: pairing, Verdicts: compare.Apply(pairing, []compare.Gate{g}),
			Gates: []compare.Gate{g}}
		for _, f := range document.Formats() {
			args := []string{"report", "--format", f.String(), file}
			if document.CommandReport.Cell(k, f).Refused != "" {
				refusedByCommand(t, document.CommandReport, k, f, args)
			} else {
				var want bytes.Buffer
				if err := document.Render(&want, []*document.Doc{d}, f); err != nil {
					t.Fatal(err)
				}
				if code, stdout, stderr := run(args...); code != exitOK || stdout != want.String() {
					t.Errorf("%v: exit %d (%s), output:\n%.600s\nwant:\n%.600s", args, code, stderr, stdout, want.String())
				}
			}
			args = []string{"compare", "--format", f.String(), file, file, "--max-regression", gate}
			if document.CommandCompare.Cell(k, f).Refused != "" {
				refusedByCommand(t, document.CommandCompare, k, f, args)
				continue
			}
			var want bytes.Buffer
			if err := document.WriteComparison(&want, cmp, f); err != nil {
				t.Fatal(err)
			}
			if code, stdout, stderr := run(args...); code != exitOK || stdout != want.String() {
				t.Errorf("%v: exit %d (%s), output:\n%.600s\nwant:\n%.600s", args, code, stderr, stdout, want.String())
			}
		}
	}
}

// TestReportEveryKindOnOnePage: an HTML report of one file of each kind
// has a section for each; a capacity sweep is no longer dropped.
func TestReportEveryKindOnOnePage(t *testing.T) {
	files := saveFixtures(t, t.TempDir())
	args := []string{"report", "--format", "html"}
	for _, k := range document.Kinds() {
		args = append(args, files[k])
	}
	code, page, stderr := run(args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, id := range []string{`id="run-1"`, `id="sweep-1"`, `id="capacity-1"`, `id="capacity-sweep-1"`} {
		if !strings.Contains(page, id) {
			t.Errorf("the page has no section %s", id)
		}
	}
}
