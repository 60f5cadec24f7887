package htmlreport

import (
	"strings"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
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
func (t table) write(m *chart.Markup) {
	m.Open("div", "class", "scroll")
	m.Open("table")
	m.Open("thead")
	m.Open("tr")
	for i, h := range t.header {
		m.El("th", h, "class", t.align(i))
	}
	m.Close("tr")
	m.Close("thead")
	m.Open("tbody")
	for r, row := range t.rows {
		if t.rowClass != nil && t.rowClass(r) != "" {
			m.Open("tr", "class", t.rowClass(r))
		} else {
			m.Open("tr")
		}
		for c, cell := range row {
			class := t.align(c)
			if t.cellClass != nil {
				if extra := t.cellClass(r, c); extra != "" {
					class += " " + extra
				}
			}
			m.Open("td", "class", class)
			// A second line (a median's min–max spread) goes under the
			// first, muted, so wide grids stay narrow.
			first, rest, two := strings.Cut(cell, "\n")
			m.Text(first)
			if two {
				m.Raw("<br>")
				m.El("span", rest, "class", "spread")
			}
			m.Close("td")
		}
		m.Close("tr")
	}
	m.Close("tbody")
	m.Close("table")
	m.Close("div")
}

func (t table) align(col int) string {
	if col < t.lead {
		return "l"
	}
	return "r"
}

// pairs writes a two-column table of names and values.
func pairs(m *chart.Markup, kv [][2]string) {
	m.Open("div", "class", "scroll")
	m.Open("table")
	m.Open("tbody")
	for _, p := range kv {
		m.Open("tr")
		m.El("th", p[0], "class", "l")
		m.El("td", p[1], "class", "l")
		m.Close("tr")
	}
	m.Close("tbody")
	m.Close("table")
	m.Close("div")
}

// notes writes a list of remarks (warnings; class "bad" for errors).
func notes(m *chart.Markup, class string, items []string) {
	if len(items) == 0 {
		return
	}
	m.Open("div", "class", class)
	m.Open("ul")
	for _, it := range items {
		m.El("li", it)
	}
	m.Close("ul")
	m.Close("div")
}

// kpi is one headline figure.
type kpi struct{ value, label string }

// kpis writes the headline figures of a run.
func kpis(m *chart.Markup, ks []kpi) {
	if len(ks) == 0 {
		return
	}
	m.Open("div", "class", "kpis")
	for _, k := range ks {
		m.Open("div", "class", "kpi")
		m.El("b", k.value)
		m.El("span", k.label)
		m.Close("div")
	}
	m.Close("div")
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
func heading(m *chart.Markup, id, what, name, file string) {
	m.Open("section", "id", id)
	m.Open("h2")
	m.Text(what + " " + name)
	if file != "" {
		m.El("span", file, "class", "file")
	}
	m.Close("h2")
}
