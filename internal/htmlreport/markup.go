package htmlreport

import (
	"bytes"
	"html"
	"strconv"
	"strings"
)

// markup writes HTML and inline SVG. It is safe by construction: text and
// attribute values always go through html.EscapeString, while tag and
// attribute names, and the raw CSS and script, are constants of this
// package — nothing from a document can open a tag.
type markup struct {
	b bytes.Buffer
	// charts counts the <svg class="chart"> elements written, so the page
	// can tell the browser self-check how many to expect.
	charts int
}

// attrs writes name="value" pairs; an odd count is a programming error.
func (m *markup) attrs(kv []string) {
	if len(kv)%2 != 0 {
		panic("htmlreport: odd attribute list " + strings.Join(kv, " "))
	}
	for i := 0; i < len(kv); i += 2 {
		m.b.WriteByte(' ')
		m.b.WriteString(kv[i])
		m.b.WriteString(`="`)
		m.b.WriteString(html.EscapeString(kv[i+1]))
		m.b.WriteByte('"')
	}
}

// open writes a start tag.
func (m *markup) open(tag string, kv ...string) {
	m.b.WriteByte('<')
	m.b.WriteString(tag)
	m.attrs(kv)
	m.b.WriteByte('>')
}

// close writes an end tag, and a newline after block-level ones so the
// output (and a golden file's diff) stays readable.
func (m *markup) close(tag string) {
	m.b.WriteString("</")
	m.b.WriteString(tag)
	m.b.WriteByte('>')
	switch tag {
	case "span", "a", "b", "code", "td", "th", "tspan", "title", "text", "summary":
	default:
		m.b.WriteByte('\n')
	}
}

// leaf writes an empty SVG element: <tag …/>.
func (m *markup) leaf(tag string, kv ...string) {
	m.b.WriteByte('<')
	m.b.WriteString(tag)
	m.attrs(kv)
	m.b.WriteString("/>")
}

// el writes <tag …>text</tag> with the text escaped.
func (m *markup) el(tag, text string, kv ...string) {
	m.open(tag, kv...)
	m.text(text)
	m.close(tag)
}

// text writes escaped text.
func (m *markup) text(s string) { m.b.WriteString(html.EscapeString(s)) }

// raw writes a constant of this package (CSS, the self-check script).
func (m *markup) raw(s string) { m.b.WriteString(s) }

// num formats an SVG coordinate: one decimal, no trailing ".0", so the
// output is deterministic and compact.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		return "0"
	}
	return s
}

// pathData builds an SVG path's d attribute.
type pathData struct {
	b       strings.Builder
	pending bool // the next point starts a new subpath (after a gap)
}

// move starts a new subpath at (x, y).
func (p *pathData) move(x, y float64) {
	p.b.WriteString("M" + num(x) + " " + num(y))
	p.pending = false
}

// line continues the subpath to (x, y), or starts one after a gap.
func (p *pathData) line(x, y float64) {
	if p.b.Len() == 0 || p.pending {
		p.move(x, y)
		return
	}
	p.b.WriteString("L" + num(x) + " " + num(y))
}

// gap breaks the line: the next point starts a new subpath.
func (p *pathData) gap() { p.pending = true }

func (p *pathData) String() string { return p.b.String() }
