package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/htmlreport"
)

// compare's exit codes beyond 0 and 2: a gate was crossed, or a gated
// figure is missing from one side, so the gate could not be checked (it
// fails rather than pass silently).
const (
	exitRegression = 3
	exitGateMissed = 4
)

// gateFlag collects repeated --max-regression METRIC=PCT arguments.
type gateFlag []compare.Gate

func (g *gateFlag) String() string { return fmt.Sprint(len(*g), " gates") }

func (g *gateFlag) Set(v string) error {
	gate, err := compare.ParseGate(v)
	if err != nil {
		return err
	}
	*g = append(*g, gate)
	return nil
}

// compareCmd prints a baseline and a candidate side by side and applies
// the regression gates: exit 3 when one is crossed.
func compareCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("mqbench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var gates gateFlag
	fs.Var(&gates, "max-regression", "METRIC=PCT: fail (exit 3) when METRIC is more than PCT% worse, e.g. rates.consumed_per_s=5 (repeatable)")
	format := fs.String("format", "table", "table, markdown or html (a self-contained page with both sides' charts overlaid)")
	out := fs.String("out", "", "write the comparison to this file (atomically) instead of stdout; - = stdout")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(files) != 2 {
		return exitUsage, usagef("compare needs BASE.json and CANDIDATE.json, got %d files", len(files))
	}
	if *format != "table" && *format != "markdown" && *format != "html" {
		return exitUsage, usagef("--format %q: want table, markdown or html", *format)
	}
	docs := make([]loaded, 2)
	sides := make([]compare.Side, 2)
	for i, f := range files {
		l, err := load(f)
		if err != nil {
			return exitUsage, err
		}
		if (l.capacity != nil || l.capacitySweep != nil) && *format == "html" {
			return exitUsage, usagef("%s is a capacity document: compare --format html takes results or sweeps (report --format html draws capacity curves)", f)
		}
		docs[i], sides[i] = l, l.side()
	}
	if docs[0].isCapacity() != docs[1].isCapacity() {
		capDoc, other := files[0], files[1]
		if docs[1].isCapacity() {
			capDoc, other = other, capDoc
		}
		return exitUsage, usagef("%s is a capacity document and %s is not: they share no figure; compare capacities with capacities, runs with runs", capDoc, other)
	}
	pairing := compare.Match(sides[0], sides[1])
	if len(pairing.Pairs) == 0 {
		return exitUsage, usagef("no variant of %s has the parameters of one in %s", files[1], files[0])
	}
	verdicts := compare.Apply(pairing, gates)
	err = writeOutput(*out, stdout, func(w io.Writer) error {
		if *format == "html" {
			return htmlreport.Write(w, htmlreport.Input{Title: "mqbench comparison", Compare: &htmlreport.Comparison{
				Base: docs[0].document(), Candidate: docs[1].document(), Gates: gates}})
		}
		return compare.Write(w, sides[0], sides[1], pairing, verdicts, gates, *format == "markdown")
	})
	if err != nil {
		return exitFailed, err
	}
	code := exitOK
	for _, v := range verdicts {
		switch {
		case v.Regression():
			fmt.Fprintln(stderr, "mqbench: regression:", v.String())
			code = exitRegression
		case v.Failed():
			fmt.Fprintln(stderr, "mqbench: gate not checked:", v.String())
			if code == exitOK {
				code = exitGateMissed
			}
		}
	}
	return code, nil
}
