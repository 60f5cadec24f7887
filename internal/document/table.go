package document

import (
	"fmt"
	"io"

	"github.com/mqbench/mqbench/internal/htmlreport"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// reportCell is a cell of mqbench report's table and how it renders:
// write for the formats whose documents follow one another, page for the
// one page every document shares (HTML).
type reportCell struct {
	Cell
	write func(w io.Writer, d *Doc) error
	page  func(in *htmlreport.Input, d *Doc)
}

func writes(gives string, write func(io.Writer, *Doc) error) reportCell {
	return reportCell{Cell: Cell{Gives: gives}, write: write}
}

func onPage(gives string, page func(*htmlreport.Input, *Doc)) reportCell {
	return reportCell{Cell: Cell{Gives: gives}, page: page}
}

// reportTable is what mqbench report gives for every kind of document in
// every format: the one place that says so (docs/reference/formats.md
// shows it; the tests walk every cell).
func reportTable() [numKinds][numFormats]reportCell {
	const asSaved = "the document itself, re-encoded as mqbench saves it (indented JSON)"
	return [numKinds][numFormats]reportCell{
		KindResult: {
			FormatTable: writes("the run's summary: counts and rates, latencies, queues, client and broker, audit, warnings",
				func(w io.Writer, d *Doc) error { return report.WriteTable(w, d.Result) }),
			FormatJSON: writes(asSaved, func(w io.Writer, d *Doc) error { return result.WriteJSON(w, d.Result) }),
			FormatCSV: writes("one row of the grid's figures by catalogue path (median, min, max: one run, one value)",
				func(w io.Writer, d *Doc) error { return report.WriteGridCSV(w, resultGrid(d)) }),
			FormatMarkdown: writes("the file's name, then one row of the grid's figures",
				func(w io.Writer, d *Doc) error { return markdown(w, d, report.WriteGridMarkdown, resultGrid(d)) }),
			FormatHTML: onPage("the run's section: charts of its intervals and latency spectrum, its tables, the resolved scenario",
				func(in *htmlreport.Input, d *Doc) {
					in.Results = append(in.Results, htmlreport.Result{File: d.File, Doc: d.Result})
				}),
		},
		KindSweep: {
			FormatTable: writes("the sweep's name, size and stop reason, then one row per variant: median (min–max) of each grid figure",
				func(w io.Writer, d *Doc) error {
					s := d.Sweep
					fmt.Fprintf(w, "sweep %q: %d variants × %d runs, %s\n", s.Name, len(s.Variants), s.Repeat, s.StopReason)
					return report.WriteGridTable(w, s.Grid())
				}),
			FormatJSON: writes(asSaved, func(w io.Writer, d *Doc) error { return result.WriteJSON(w, d.Sweep) }),
			FormatCSV: writes("one row per variant: parameters, runs, median, min and max of each grid figure by catalogue path",
				func(w io.Writer, d *Doc) error { return report.WriteGridCSV(w, d.Sweep.Grid()) }),
			FormatMarkdown: writes("the file's name, then one row per variant: median (min–max) of each grid figure",
				func(w io.Writer, d *Doc) error { return markdown(w, d, report.WriteGridMarkdown, d.Sweep.Grid()) }),
			FormatHTML: onPage("the sweep's section: a bar chart per figure across the variants, the grid, each variant's runs",
				func(in *htmlreport.Input, d *Doc) {
					in.Sweeps = append(in.Sweeps, htmlreport.Sweep{File: d.File, Doc: d.Sweep})
				}),
		},
		KindCapacity: {
			FormatTable: writes("what mqbench capacity prints: the objectives, every step (target, achieved rates, latency, backlog slope, verdict), notes, the answer",
				func(w io.Writer, d *Doc) error { return report.WriteCapacity(w, d.Capacity) }),
			FormatJSON: writes(asSaved, func(w io.Writer, d *Doc) error { return result.WriteJSON(w, d.Capacity) }),
			FormatCSV: writes("one row per step, raw numbers: target, achieved rates, latency p50/p99/p99.9 in µs, backlog slope, pass, what failed",
				func(w io.Writer, d *Doc) error { return report.WriteCapacityCSV(w, d.Capacity) }),
			FormatMarkdown: writes("the file's name, the steps as in csv, then the answer",
				func(w io.Writer, d *Doc) error { return markdown(w, d, report.WriteCapacityMarkdown, d.Capacity) }),
			FormatHTML: onPage("the search's section: the answer, the objectives, rate against latency, every step, the scenario",
				func(in *htmlreport.Input, d *Doc) {
					in.Capacities = append(in.Capacities, htmlreport.Capacity{File: d.File, Doc: d.Capacity})
				}),
		},
		KindCapacitySweep: {
			FormatTable: writes("what mqbench capacity prints after a sweep: one row per variant (capacity, p99 there, limited by, first failing rate, steps)",
				func(w io.Writer, d *Doc) error { return report.WriteCapacitySweep(w, d.CapacitySweep) }),
			FormatJSON: writes(asSaved, func(w io.Writer, d *Doc) error { return result.WriteJSON(w, d.CapacitySweep) }),
			FormatCSV: writes("one row per variant, raw numbers: parameters, capacity, confirmed, limited by, first failing rate, what failed there, p99 in µs, steps",
				func(w io.Writer, d *Doc) error { return report.WriteCapacitySweepCSV(w, d.CapacitySweep) }),
			FormatMarkdown: writes("the file's name, then the variants as in table",
				func(w io.Writer, d *Doc) error {
					return markdown(w, d, report.WriteCapacitySweepMarkdown, d.CapacitySweep)
				}),
			FormatHTML: onPage("the sweep's section (the variants as in table), then each variant's search as a capacity section",
				func(in *htmlreport.Input, d *Doc) {
					in.CapacitySweeps = append(in.CapacitySweeps, htmlreport.CapacitySweep{File: d.File, Doc: d.CapacitySweep})
				}),
		},
	}
}

// resultGrid is a result as a grid of one row.
func resultGrid(d *Doc) report.Grid {
	return report.Grid{Rows: []report.GridRow{report.ResultRow(d.Result)}}
}

// markdown heads a markdown document with its file's name: several
// documents in one markdown report stay told apart.
func markdown[T any](w io.Writer, d *Doc, write func(io.Writer, T) error, doc T) error {
	fmt.Fprintf(w, "**%s**\n\n", d.File)
	return write(w, doc)
}

// Render writes docs in format f as mqbench report does: one after
// another, or, for HTML, all on one page. A document the table refuses in
// f is a *RefusedError, before anything is written.
func Render(w io.Writer, docs []*Doc, f Format) error {
	if err := CommandReport.Check(docs, f); err != nil {
		return err
	}
	table := reportTable()
	if f.spec().page {
		var in htmlreport.Input
		for _, d := range docs {
			table[d.Kind()][f].page(&in, d)
		}
		return htmlreport.Write(w, in)
	}
	for i, d := range docs {
		if i > 0 && f.spec().separated {
			fmt.Fprintln(w)
		}
		if err := table[d.Kind()][f].write(w, d); err != nil {
			return err
		}
	}
	return nil
}
