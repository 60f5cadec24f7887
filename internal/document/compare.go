package document

import (
	"io"

	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/htmlreport"
)

// Comparison is what mqbench compare renders: a baseline and a candidate
// of the same family (runs or capacities), their paired variants, the
// gates and the gates' verdicts.
type Comparison struct {
	Base, Candidate *Doc
	Pairing         compare.Pairing
	Verdicts        []compare.Verdict
	Gates           []compare.Gate
}

// compareTable is what mqbench compare gives for every kind of document
// in every format (docs/reference/formats.md shows it; the tests walk
// every cell). Both documents must be accepted in the format; what renders
// a comparison depends on the format alone (comparisonWriters).
func compareTable() [numKinds][numFormats]Cell {
	deltas := Cell{Gives: "every compared figure both sides have, side by side with deltas, per paired variant; the gates' verdicts"}
	deltasMD := Cell{Gives: "what table gives, as markdown tables for a pull request"}
	capDeltas := Cell{Gives: "capacity.rate_per_s side by side with its delta, per paired variant; the gates' verdicts"}
	capDeltasMD := Cell{Gives: "what table gives, as markdown tables"}
	page := Cell{Gives: "one page: both sides' charts overlaid, the deltas, the gates"}
	noCapacityPage := Cell{Refused: "draws results and sweeps, not capacity documents",
		Instead: "use --format table or markdown, or mqbench report --format html to draw each search's curve"}
	noJSON := Cell{Refused: "writes no JSON", Instead: "use --format table, markdown or html (mqbench report --format json re-writes a document)"}
	noCSV := Cell{Refused: "writes no CSV", Instead: "use --format table, markdown or html (mqbench report --format csv has each document's rows)"}
	return [numKinds][numFormats]Cell{
		KindResult: {FormatTable: deltas, FormatJSON: noJSON, FormatCSV: noCSV, FormatMarkdown: deltasMD, FormatHTML: page},
		KindSweep:  {FormatTable: deltas, FormatJSON: noJSON, FormatCSV: noCSV, FormatMarkdown: deltasMD, FormatHTML: page},
		KindCapacity: {FormatTable: capDeltas, FormatJSON: noJSON, FormatCSV: noCSV, FormatMarkdown: capDeltasMD,
			FormatHTML: noCapacityPage},
		KindCapacitySweep: {FormatTable: capDeltas, FormatJSON: noJSON, FormatCSV: noCSV, FormatMarkdown: capDeltasMD,
			FormatHTML: noCapacityPage},
	}
}

// comparisonWriters renders a comparison in each format compare takes
// (nil: it takes none of the kinds in that format).
func comparisonWriters() [numFormats]func(io.Writer, Comparison) error {
	return [numFormats]func(io.Writer, Comparison) error{
		FormatTable:    sideBySide(false),
		FormatMarkdown: sideBySide(true),
		FormatHTML:     comparePage,
	}
}

// sideBySide prints the pairs as text or markdown tables.
func sideBySide(markdown bool) func(io.Writer, Comparison) error {
	return func(w io.Writer, c Comparison) error {
		return compare.Write(w, c.Base.Side(), c.Candidate.Side(), c.Pairing, c.Verdicts, c.Gates, markdown)
	}
}

// comparePage draws the comparison of two results or sweeps as one HTML
// page.
func comparePage(w io.Writer, c Comparison) error {
	side := func(d *Doc) htmlreport.Document {
		return htmlreport.Document{File: d.File, Result: d.Result, Sweep: d.Sweep}
	}
	return htmlreport.Write(w, htmlreport.Input{Title: "mqbench comparison", Compare: &htmlreport.Comparison{
		Base: side(c.Base), Candidate: side(c.Candidate), Gates: c.Gates}})
}

// WriteComparison writes c in format f as mqbench compare does. A side
// the table refuses in f is a *RefusedError, before anything is written.
func WriteComparison(w io.Writer, c Comparison, f Format) error {
	if err := CommandCompare.Check([]*Doc{c.Base, c.Candidate}, f); err != nil {
		return err
	}
	return comparisonWriters()[f](w, c)
}
