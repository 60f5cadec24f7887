package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/measure"
	"github.com/mqbench/mqbench/internal/result"
)

// Grid is one row per variant: its parameters and its figures (a median
// with its min–max spread when the variant ran more than once). Its
// columns are the catalogue's grid figures.
type Grid struct {
	Params []string
	Rows   []GridRow
}

// GridRow is one variant of a grid.
type GridRow struct {
	Params map[string]string
	Runs   int
	Stats  map[string]measure.Stat // by catalogue path
	// Note flags the row, e.g. runs left out of the median.
	Note string
}

// columns returns the grid figures that some row has a value for.
func (g Grid) columns() []catalog.Figure {
	var out []catalog.Figure
	for _, f := range catalog.Grid() {
		for _, r := range g.Rows {
			if _, ok := r.Stats[f.Path]; ok {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func cell(f catalog.Figure, r GridRow) string {
	st, ok := r.Stats[f.Path]
	if !ok {
		return "-"
	}
	if st.N <= 1 || st.Min == st.Max {
		return Value(f.Unit, st.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", Value(f.Unit, st.Median), Value(f.Unit, st.Min), Value(f.Unit, st.Max))
}

func (g Grid) header() []string {
	h := append([]string(nil), g.Params...)
	if g.repeated() {
		h = append(h, "runs")
	}
	for _, f := range g.columns() {
		h = append(h, f.Label)
	}
	if g.noted() {
		h = append(h, "note")
	}
	return h
}

func (g Grid) repeated() bool {
	for _, r := range g.Rows {
		if r.Runs > 1 {
			return true
		}
	}
	return false
}

func (g Grid) noted() bool {
	for _, r := range g.Rows {
		if r.Note != "" {
			return true
		}
	}
	return false
}

func (g Grid) cells(r GridRow) []string {
	cols := g.columns()
	row := make([]string, 0, len(g.Params)+len(cols)+2)
	for _, p := range g.Params {
		row = append(row, r.Params[p])
	}
	if g.repeated() {
		row = append(row, strconv.Itoa(r.Runs))
	}
	for _, f := range cols {
		row = append(row, cell(f, r))
	}
	if g.noted() {
		row = append(row, r.Note)
	}
	return row
}

// WriteGridTable prints the grid as a box table; with repeats each figure
// is "median (min–max)".
func WriteGridTable(w io.Writer, g Grid) error {
	t := newTable(w, g.header())
	for _, r := range g.Rows {
		if err := t.Append(g.cells(r)); err != nil {
			return err
		}
	}
	return t.Render()
}

// WriteGridMarkdown prints the grid as a GitHub-flavoured markdown table.
func WriteGridMarkdown(w io.Writer, g Grid) error {
	rows := make([][]string, len(g.Rows))
	for i, r := range g.Rows {
		rows[i] = g.cells(r)
	}
	Markdown(w, g.header(), len(g.Params), rows)
	return nil
}

// WriteGridCSV prints the grid as CSV with raw numbers: parameters, runs,
// then median, min and max of each figure by its catalogue path.
func WriteGridCSV(w io.Writer, g Grid) error {
	cw := csv.NewWriter(w)
	cols := g.columns()
	h := append(append([]string(nil), g.Params...), "runs")
	for _, f := range cols {
		h = append(h, f.Path, f.Path+".min", f.Path+".max")
	}
	if g.noted() {
		h = append(h, "note")
	}
	if err := cw.Write(h); err != nil {
		return err
	}
	for _, r := range g.Rows {
		row := make([]string, 0, len(h))
		for _, p := range g.Params {
			row = append(row, r.Params[p])
		}
		row = append(row, strconv.Itoa(r.Runs))
		for _, f := range cols {
			st, ok := r.Stats[f.Path]
			if !ok {
				row = append(row, "", "", "")
				continue
			}
			row = append(row, num(st.Median), num(st.Min), num(st.Max))
		}
		if g.noted() {
			row = append(row, r.Note)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// ResultRow turns one result into a grid row (no parameters, one run).
func ResultRow(r *result.Result) GridRow {
	v := measure.Of(r)
	row := GridRow{Runs: 1, Stats: map[string]measure.Stat{}}
	for _, f := range catalog.Grid() {
		if x, ok := v[f.Path]; ok {
			row.Stats[f.Path] = measure.Stat{Median: x, Min: x, Max: x, N: 1}
		}
	}
	return row
}
