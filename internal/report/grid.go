package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/measure"
)

// Column is one figure of a comparison grid.
type Column struct {
	Title, Path string
	Latency     bool // microseconds, formatted as durations
}

// SummaryColumns are the figures a sweep table shows for every variant.
var SummaryColumns = []Column{
	{"published/s", "rates.published_per_s", false},
	{"consumed/s", "rates.consumed_per_s", false},
	{"e2e p50", "latency.end_to_end.p50_us", true},
	{"e2e p99", "latency.end_to_end.p99_us", true},
	{"e2e p99.9", "latency.end_to_end.p999_us", true},
	{"confirm p99", "latency.confirm.p99_us", true},
	{"rpc replies/s", "rates.rpc_replies_per_s", false},
	{"rpc p99", "latency.rpc.p99_us", true},
	{"client cpu s", "client.cpu_s", false},
}

// Grid is one row per variant: its parameters and its figures (a median
// with its min–max spread when the variant ran more than once).
type Grid struct {
	Params []string
	Rows   []GridRow
}

// GridRow is one variant of a grid.
type GridRow struct {
	Params map[string]string
	Runs   int
	Stats  map[string]measure.Stat // by metric path
}

// columns returns the summary columns that some row has a value for.
func (g Grid) columns() []Column {
	var out []Column
	for _, c := range SummaryColumns {
		for _, r := range g.Rows {
			if _, ok := r.Stats[c.Path]; ok {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func (c Column) format(v float64) string {
	if c.Latency {
		return Micros(int64(v + 0.5))
	}
	if strings.HasSuffix(c.Path, "cpu_s") {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return Rate(v)
}

func (c Column) cell(r GridRow) string {
	st, ok := r.Stats[c.Path]
	if !ok {
		return "-"
	}
	if st.N <= 1 || st.Min == st.Max {
		return c.format(st.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", c.format(st.Median), c.format(st.Min), c.format(st.Max))
}

func (g Grid) header() []string {
	h := append([]string(nil), g.Params...)
	if g.repeated() {
		h = append(h, "runs")
	}
	for _, c := range g.columns() {
		h = append(h, c.Title)
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

func (g Grid) cells(r GridRow) []string {
	row := make([]string, 0, len(g.Params)+len(SummaryColumns)+1)
	for _, p := range g.Params {
		row = append(row, r.Params[p])
	}
	if g.repeated() {
		row = append(row, strconv.Itoa(r.Runs))
	}
	for _, c := range g.columns() {
		row = append(row, c.cell(r))
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
	h := g.header()
	fmt.Fprintf(w, "| %s |\n|", strings.Join(h, " | "))
	for i := range h {
		if i < len(g.Params) {
			fmt.Fprint(w, "---|")
		} else {
			fmt.Fprint(w, "---:|")
		}
	}
	fmt.Fprintln(w)
	for _, r := range g.Rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(g.cells(r), " | "))
	}
	return nil
}

// WriteGridCSV prints the grid as CSV with raw numbers: parameters, runs,
// then median, min and max of each figure by its metric path.
func WriteGridCSV(w io.Writer, g Grid) error {
	cw := csv.NewWriter(w)
	cols := g.columns()
	h := append(append([]string(nil), g.Params...), "runs")
	for _, c := range cols {
		h = append(h, c.Path, c.Path+".min", c.Path+".max")
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
		for _, c := range cols {
			st, ok := r.Stats[c.Path]
			if !ok {
				row = append(row, "", "", "")
				continue
			}
			row = append(row, num(st.Median), num(st.Min), num(st.Max))
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
func ResultRow(r *Result) (GridRow, error) {
	d, err := measure.ToDoc(r)
	if err != nil {
		return GridRow{}, err
	}
	row := GridRow{Runs: 1, Stats: map[string]measure.Stat{}}
	for _, c := range SummaryColumns {
		if st, ok := measure.Of([]measure.Doc{d}, c.Path); ok {
			row.Stats[c.Path] = st
		}
	}
	return row, nil
}
