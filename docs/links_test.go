package docs_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository, seen from this package's directory. Paths below
// are slash-separated and relative to it.
const root = ".."

// page is what the tests need of one Markdown file: its links and the
// anchors its headings make.
type page struct {
	links   []link
	anchors map[string]bool
}

// link is one [text](target) outside code, with the line it is on.
type link struct {
	line   int
	target string
}

var (
	linkRE       = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)
	inlineCodeRE = regexp.MustCompile("`[^`]*`")
	headingRE    = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	// docRefRE finds a document named in a Go string, e.g. a message's
	// "(see docs/reference/scenario.md)".
	docRefRE = regexp.MustCompile(`docs/[A-Za-z0-9_./-]+\.md(#[A-Za-z0-9_-]+)?`)
)

// parsePage reads the Markdown file at rel. Fenced code is skipped (a "#"
// comment in a shell example is no heading), and so is inline code.
func parsePage(t *testing.T, rel string) page {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	p := page{anchors: map[string]bool{}}
	seen := map[string]int{}
	fenced := false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			p.anchors[uniqueSlug(slug(m[1]), seen)] = true
		}
		for _, m := range linkRE.FindAllStringSubmatch(inlineCodeRE.ReplaceAllString(line, ""), -1) {
			p.links = append(p.links, link{line: i + 1, target: m[1]})
		}
	}
	return p
}

// slug is the anchor GitHub gives a heading: its text without markup,
// lower-cased, every character but letters, digits, spaces, hyphens and
// underscores dropped, spaces made hyphens.
func slug(heading string) string {
	text := linkRE.ReplaceAllStringFunc(heading, func(l string) string { return l[1:strings.Index(l, "](")] })
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// uniqueSlug numbers a repeated heading's anchor as GitHub does (x, x-1, …).
func uniqueSlug(s string, seen map[string]int) string {
	n := seen[s]
	seen[s]++
	if n == 0 {
		return s
	}
	return fmt.Sprintf("%s-%d", s, n)
}

// external reports whether a link leaves the repository.
func external(target string) bool {
	return strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:")
}

// resolve turns a link found in the file at from into a repository path
// and an anchor ("" for none); the path is from itself for "#anchor".
func resolve(from, target string) (rel, anchor string) {
	rel, anchor, _ = strings.Cut(target, "#")
	if rel == "" {
		return from, anchor
	}
	return path.Clean(path.Join(path.Dir(from), rel)), anchor
}

// docsSite follows links from README.md to every Markdown file they reach
// and reports each broken one: a missing file, a path outside the
// repository, an anchor no heading makes. It returns the files reached.
func docsSite(t *testing.T) map[string]bool {
	t.Helper()
	pages := map[string]page{}
	reached := map[string]bool{"README.md": true}
	queue := []string{"README.md"}
	for len(queue) > 0 {
		from := queue[0]
		queue = queue[1:]
		for _, l := range parsePage(t, from).links {
			if external(l.target) {
				continue
			}
			rel, anchor := resolve(from, l.target)
			if err := checkTarget(t, pages, rel, anchor); err != nil {
				t.Errorf("%s:%d: link %s: %v", from, l.line, l.target, err)
				continue
			}
			if strings.HasSuffix(rel, ".md") && !reached[rel] {
				reached[rel] = true
				queue = append(queue, rel)
			}
		}
	}
	return reached
}

// checkTarget says what is wrong with a link to rel#anchor, if anything.
// pages caches the Markdown files read.
func checkTarget(t *testing.T, pages map[string]page, rel, anchor string) error {
	t.Helper()
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("leaves the repository")
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
		return fmt.Errorf("no such file")
	}
	if anchor == "" || !strings.HasSuffix(rel, ".md") {
		return nil
	}
	p, ok := pages[rel]
	if !ok {
		p = parsePage(t, rel)
		pages[rel] = p
	}
	if !p.anchors[anchor] {
		return fmt.Errorf("%s has no heading with the anchor #%s", rel, anchor)
	}
	return nil
}

// TestEveryDocIsReachableFromTheREADME: a document nobody links to is a
// document nobody finds, and a link that does not resolve (a file moved,
// a heading renamed) sends the reader nowhere.
func TestEveryDocIsReachableFromTheREADME(t *testing.T) {
	reached := docsSite(t)
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
			return err
		}
		if rel := path.Join("docs", filepath.ToSlash(p)); !reached[rel] {
			t.Errorf("%s is not reachable from README.md by links", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reached["deploy/kubernetes/README.md"] {
		t.Error("deploy/kubernetes/README.md is not reachable from README.md by links")
	}
}

// TestMessagesPointAtDocsThatExist: strings in the code (messages, flag
// usage, metric help) name the document that explains them, and that
// document and its anchor exist. "See the README" is no longer an answer:
// the README is an index.
func TestMessagesPointAtDocsThatExist(t *testing.T) {
	pages := map[string]page{}
	for _, dir := range []string{"internal", "cmd"} {
		for _, s := range goStrings(t, filepath.Join(root, dir)) {
			if strings.Contains(s.text, "README") {
				t.Errorf("%s: %q points at the README; name the document under docs/ that has it", s.pos, s.text)
			}
			for _, ref := range docRefRE.FindAllString(s.text, -1) {
				rel, anchor, _ := strings.Cut(ref, "#")
				if err := checkTarget(t, pages, rel, anchor); err != nil {
					t.Errorf("%s: %q names %s: %v", s.pos, s.text, ref, err)
				}
			}
		}
	}
}

// goString is one string literal of the code and where it is.
type goString struct {
	pos  token.Position
	text string
}

// goStrings returns every string literal of the Go files under dir, tests
// included (their expectations are messages too). Comments are not read.
func goStrings(t *testing.T, dir string) []goString {
	t.Helper()
	var out []goString
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, goString{pos: fset.Position(lit.Pos()), text: s})
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no string literals under %s: wrong directory?", dir)
	}
	return out
}

// TestSlug pins the anchors GitHub makes, which the link check relies on.
func TestSlug(t *testing.T) {
	cases := map[string]string{
		"Sweeps: comparing settings":                      "sweeps-comparing-settings",
		"Latency under a schedule (coordinated omission)": "latency-under-a-schedule-coordinated-omission",
		"CSV and the broker's side":                       "csv-and-the-brokers-side",
		"`mqbench merge` and [shards](x.md)":              "mqbench-merge-and-shards",
		"A new worker kind":                               "a-new-worker-kind",
	}
	for in, want := range cases {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	seen := map[string]int{}
	got := []string{uniqueSlug("x", seen), uniqueSlug("x", seen), uniqueSlug("x", seen)}
	if !slices.Equal(got, []string{"x", "x-1", "x-2"}) {
		t.Errorf("repeated headings: %v", got)
	}
}
