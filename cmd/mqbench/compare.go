package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/document"
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
	formatName := fs.String("format", "table", "table, markdown or html (a self-contained page with both sides' charts overlaid)")
	out := fs.String("out", "", "write the comparison to this file (atomically) instead of stdout; - = stdout")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(files) != 2 {
		return exitUsage, usagef("compare needs BASE.json and CANDIDATE.json, got %d files", len(files))
	}
	format, err := document.CommandCompare.ParseFormat(*formatName)
	if err != nil {
		return exitUsage, asUsage(err)
	}
	docs := make([]*document.Doc, 2)
	for i, f := range files {
		if docs[i], err = load(f); err != nil {
			return exitUsage, err
		}
		if err := document.CommandCompare.Check(docs[i:i+1], format); err != nil {
			return exitUsage, asUsage(err)
		}
	}
	if docs[0].IsCapacity() != docs[1].IsCapacity() {
		capDoc, other := files[0], files[1]
		if docs[1].IsCapacity() {
			capDoc, other = other, capDoc
		}
		return exitUsage, usagef("%s is a capacity document and %s is not: they share no figure; compare capacities with capacities, runs with runs", capDoc, other)
	}
	pairing := compare.Match(docs[0].Side(), docs[1].Side())
	if len(pairing.Pairs) == 0 {
		return exitUsage, usagef("no variant of %s has the parameters of one in %s", files[1], files[0])
	}
	verdicts := compare.Apply(pairing, gates)
	c := document.Comparison{Base: docs[0], Candidate: docs[1], Pairing: pairing, Verdicts: verdicts, Gates: gates}
	err = writeOutput(*out, stdout, func(w io.Writer) error { return document.WriteComparison(w, c, format) })
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
