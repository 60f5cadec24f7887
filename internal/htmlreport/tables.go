package htmlreport

import (
	"strings"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/report"
)

// table is an HTML table: names in the first lead columns (left-aligned),
// numbers after them (right-aligned, tabular figures).
type table struct {
	header []string
	lead   int
	rows   [][]string
	// rowClass, when set, gives a row its class ("total").
	rowClass func(row int) string
	// cellClass, when set, gives a cell a class ("pass", "fail").
	cellClass func(row, col int) string
}

// write writes the table inside a horizontally scrolling box, so a wide
// grid never widens the page.
func (t table) write(m *markup) {
	m.open("div", "class", "scroll")
	m.open("table")
	m.open("thead")
	m.open("tr")
	for i, h := range t.header {
		m.el("th", h, "class", t.align(i))
	}
	m.close("tr")
	m.close("thead")
	m.open("tbody")
	for r, row := range t.rows {
		if t.rowClass != nil && t.rowClass(r) != "" {
			m.open("tr", "class", t.rowClass(r))
		} else {
			m.open("tr")
		}
		for c, cell := range row {
			class := t.align(c)
			if t.cellClass != nil {
				if extra := t.cellClass(r, c); extra != "" {
					class += " " + extra
				}
			}
			m.open("td", "class", class)
			// A second line (a median's min–max spread) goes under the
			// first, muted, so wide grids stay narrow.
			first, rest, two := strings.Cut(cell, "\n")
			m.text(first)
			if two {
				m.raw("<br>")
				m.el("span", rest, "class", "spread")
			}
			m.close("td")
		}
		m.close("tr")
	}
	m.close("tbody")
	m.close("table")
	m.close("div")
}

func (t table) align(col int) string {
	if col < t.lead {
		return "l"
	}
	return "r"
}

// pairs writes a two-column table of names and values.
func pairs(m *markup, kv [][2]string) {
	m.open("div", "class", "scroll")
	m.open("table")
	m.open("tbody")
	for _, p := range kv {
		m.open("tr")
		m.el("th", p[0], "class", "l")
		m.el("td", p[1], "class", "l")
		m.close("tr")
	}
	m.close("tbody")
	m.close("table")
	m.close("div")
}

// notes writes a list of remarks (warnings; class "bad" for errors).
func notes(m *markup, class string, items []string) {
	if len(items) == 0 {
		return
	}
	m.open("div", "class", class)
	m.open("ul")
	for _, it := range items {
		m.el("li", it)
	}
	m.close("ul")
	m.close("div")
}

// kpi is one headline figure.
type kpi struct{ value, label string }

// kpis writes the headline figures of a run.
func kpis(m *markup, ks []kpi) {
	if len(ks) == 0 {
		return
	}
	m.open("div", "class", "kpis")
	for _, k := range ks {
		m.open("div", "class", "kpi")
		m.el("b", k.value)
		m.el("span", k.label)
		m.close("div")
	}
	m.close("div")
}

// statCell formats a figure of n runs as the grid does: the median, and
// under it its min–max spread when the runs differ.
func statCell(f catalog.Figure, st measure.Stat) string {
	if st.N <= 1 || st.Min == st.Max {
		return report.Value(f.Unit, st.Median)
	}
	return report.Value(f.Unit, st.Median) + "\n" + report.Value(f.Unit, st.Min) + "–" + report.Value(f.Unit, st.Max)
}

// heading writes a section's h2: what it is, a name, and the file.
func heading(m *markup, id, what, name, file string) {
	m.open("section", "id", id)
	m.open("h2")
	m.text(what + " " + name)
	if file != "" {
		m.el("span", file, "class", "file")
	}
	m.close("h2")
}
