package document

import (
	"fmt"
	"strings"
)

// Format is an output format of --format.
type Format int

// The formats. numFormats counts them: a format added before it is walked
// by Formats and so by the tests of every table.
const (
	FormatTable Format = iota
	FormatJSON
	FormatCSV
	FormatMarkdown
	FormatHTML
	numFormats
)

// Formats returns every format, in the order of the tables.
func Formats() []Format {
	out := make([]Format, numFormats)
	for i := range out {
		out[i] = Format(i)
	}
	return out
}

// formatSpec is how a format is named and how documents share an output.
type formatSpec struct {
	name string // the --format value
	// page: every document goes onto one page (HTML), rather than one
	// after another.
	page bool
	// separated: one document's output is set off from the next by a
	// blank line (not CSV, whose rows a reader may concatenate).
	separated bool
}

func formatSpecs() [numFormats]formatSpec {
	return [numFormats]formatSpec{
		FormatTable:    {name: "table", separated: true},
		FormatJSON:     {name: "json", separated: true},
		FormatCSV:      {name: "csv"},
		FormatMarkdown: {name: "markdown", separated: true},
		FormatHTML:     {name: "html", page: true},
	}
}

func (f Format) spec() formatSpec {
	if f < 0 || f >= numFormats || formatSpecs()[f].name == "" {
		return formatSpec{name: fmt.Sprintf("format %d", int(f))}
	}
	return formatSpecs()[f]
}

// String is the --format value.
func (f Format) String() string { return f.spec().name }

// Command is a subcommand that renders saved documents; each has its own
// table of kinds × formats.
type Command int

// The commands that render documents.
const (
	CommandReport Command = iota
	CommandCompare
	numCommands
)

// Commands returns every command that renders documents.
func Commands() []Command {
	out := make([]Command, numCommands)
	for i := range out {
		out[i] = Command(i)
	}
	return out
}

// String is the subcommand's name.
func (c Command) String() string {
	if c < 0 || c >= numCommands {
		return fmt.Sprintf("command %d", int(c))
	}
	return [numCommands]string{CommandReport: "report", CommandCompare: "compare"}[c]
}

// Cell says what a command's format gives for a kind of document, or, when
// Refused is set, why it gives nothing and what to use instead.
type Cell struct {
	// Gives is what the output holds (a refused cell: empty).
	Gives string
	// Refused says why the command refuses this kind in this format, and
	// Instead what to use instead.
	Refused, Instead string
}

// Cell is command c's cell for kind k in format f.
func (c Command) Cell(k Kind, f Format) Cell {
	if k < 0 || k >= numKinds || f < 0 || f >= numFormats {
		return Cell{}
	}
	switch c {
	case CommandReport:
		return reportTable()[k][f].Cell
	case CommandCompare:
		return compareTable()[k][f]
	}
	return Cell{}
}

// Accepts lists the formats c renders some kind of document in: --format
// takes these, in the order of the tables.
func (c Command) Accepts() []Format {
	var out []Format
	for _, f := range Formats() {
		for _, k := range Kinds() {
			if cell := c.Cell(k, f); cell.Refused == "" && cell.Gives != "" {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// ParseFormat reads a --format value of command c. A format c renders no
// kind of document in is refused with the reason its cells give (alike in
// the whole column: a test holds it); one it does not know, by listing
// the ones it takes.
func (c Command) ParseFormat(s string) (Format, error) {
	accepted := c.Accepts()
	names := make([]string, len(accepted))
	for i, f := range accepted {
		if f.String() == s {
			return f, nil
		}
		names[i] = f.String()
	}
	for _, f := range Formats() {
		if f.String() == s {
			cell := c.Cell(KindResult, f)
			return 0, fmt.Errorf("--format %q: mqbench %s %s, for any kind of document; %s", s, c, cell.Refused, cell.Instead)
		}
	}
	return 0, fmt.Errorf("--format %q: want %s", s, orList(names))
}

// orList joins "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// RefusedError is a document the command refuses in the format asked
// for: a usage error, the command exits 2 before writing anything.
type RefusedError struct {
	Command Command
	File    string
	Kind    Kind
	Format  Format
	Cell    Cell
}

// Error names the file, its kind, the format, why, and what to use
// instead.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s is a %s: mqbench %s --format %s %s; %s", e.File, e.Kind, e.Command, e.Format, e.Cell.Refused, e.Cell.Instead)
}

// Check refuses, with a *RefusedError, the first document command c does
// not render in format f; nil when it renders them all.
func (c Command) Check(docs []*Doc, f Format) error {
	for _, d := range docs {
		k := d.Kind()
		if cell := c.Cell(k, f); cell.Refused != "" || cell.Gives == "" {
			return &RefusedError{Command: c, File: d.File, Kind: k, Format: f, Cell: cell}
		}
	}
	return nil
}
