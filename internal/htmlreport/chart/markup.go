package chart

import (
	"bytes"
	"html"
	"strconv"
	"strings"
)

// Markup writes HTML and inline SVG; its zero value is an empty page. It
// is safe by construction as long as its callers keep one rule: text and
// attribute values always go through html.EscapeString here, while tag
// and attribute names, and what is passed to Raw, are constants of the
// calling code — so nothing from a document can open a tag.
type Markup struct {
	b bytes.Buffer
	// charts counts the <svg class="chart"> elements written, so the page
	// can tell the browser self-check how many to expect.
	charts int
}

// Charts is the number of charts (<svg class="chart">) written so far.
func (m *Markup) Charts() int { return m.charts }

// Bytes is the markup written so far; it aliases the writer's buffer and
// is valid until the next write.
func (m *Markup) Bytes() []byte { return m.b.Bytes() }

// String is the markup written so far.
func (m *Markup) String() string { return m.b.String() }

// Append writes another writer's markup, as written, into this one (a
// page's body into the page). Charts counted there are not added: the
// page reads them from the body itself.
func (m *Markup) Append(body *Markup) { m.b.Write(body.b.Bytes()) }

// Newline writes a newline, to keep the output (and a golden file's
// diff) readable.
func (m *Markup) Newline() { m.b.WriteByte('\n') }

// attrs writes name="value" pairs; an odd count is a programming error.
func (m *Markup) attrs(kv []string) {
	if len(kv)%2 != 0 {
		panic("chart: odd attribute list " + strings.Join(kv, " "))
	}
	for i := 0; i < len(kv); i += 2 {
		m.b.WriteByte(' ')
		m.b.WriteString(kv[i])
		m.b.WriteString(`="`)
		m.b.WriteString(html.EscapeString(kv[i+1]))
		m.b.WriteByte('"')
	}
}

// Open writes a start tag.
func (m *Markup) Open(tag string, kv ...string) {
	m.b.WriteByte('<')
	m.b.WriteString(tag)
	m.attrs(kv)
	m.b.WriteByte('>')
}

// Close writes an end tag, and a newline after block-level ones so the
// output (and a golden file's diff) stays readable.
func (m *Markup) Close(tag string) {
	m.b.WriteString("</")
	m.b.WriteString(tag)
	m.b.WriteByte('>')
	switch tag {
	case "span", "a", "b", "code", "td", "th", "tspan", "title", "text", "summary":
	default:
		m.b.WriteByte('\n')
	}
}

// Leaf writes an empty SVG element: <tag …/>.
func (m *Markup) Leaf(tag string, kv ...string) {
	m.b.WriteByte('<')
	m.b.WriteString(tag)
	m.attrs(kv)
	m.b.WriteString("/>")
}

// El writes <tag …>text</tag> with the text escaped.
func (m *Markup) El(tag, text string, kv ...string) {
	m.Open(tag, kv...)
	m.Text(text)
	m.Close(tag)
}

// Text writes escaped text.
func (m *Markup) Text(s string) { m.b.WriteString(html.EscapeString(s)) }

// Raw writes s unescaped: only ever a constant of the calling code (the
// page's CSS and self-check script), never text from a document.
func (m *Markup) Raw(s string) { m.b.WriteString(s) }

// Num formats an SVG coordinate: one decimal, no trailing ".0", so the
// output is deterministic and compact.
func Num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		return "0"
	}
	return s
}

// Path builds an SVG path's d attribute; its zero value is an empty path.
type Path struct {
	b       strings.Builder
	pending bool // the next point starts a new subpath (after a gap)
}

// Move starts a new subpath at (x, y).
func (p *Path) Move(x, y float64) {
	p.b.WriteString("M" + Num(x) + " " + Num(y))
	p.pending = false
}

// Line continues the subpath to (x, y), or starts one after a gap.
func (p *Path) Line(x, y float64) {
	if p.b.Len() == 0 || p.pending {
		p.Move(x, y)
		return
	}
	p.b.WriteString("L" + Num(x) + " " + Num(y))
}

// Gap breaks the line: the next point starts a new subpath.
func (p *Path) Gap() { p.pending = true }

// Empty reports whether nothing has been drawn yet.
func (p *Path) Empty() bool { return p.b.Len() == 0 }

// String is the d attribute.
func (p *Path) String() string { return p.b.String() }
