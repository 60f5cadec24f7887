package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/compare"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/sweep"
)

// loaded is a saved result, sweep, capacity search or capacity sweep
// (exactly one).
type loaded struct {
	file          string
	result        *result.Result
	sweep         *sweep.Doc
	capacity      *capacity.Doc
	capacitySweep *capacity.SweepDoc
}

// load reads a result, sweep or capacity file, telling them apart by their
// schema.
func load(file string) (loaded, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return loaded{}, usagef("%v", err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return loaded{}, usagef("%s: not a JSON document: %v", file, err)
	}
	switch head.Schema {
	case result.Schema:
		r, err := result.Load(file)
		return loaded{file: file, result: r}, asUsage(err)
	case sweep.Schema:
		d, err := sweep.Load(file)
		return loaded{file: file, sweep: d}, asUsage(err)
	case capacity.Schema:
		var d capacity.Doc
		err := result.LoadDoc(file, capacity.Schema, &d, func() string { return d.Schema })
		return loaded{file: file, capacity: &d}, asUsage(err)
	case capacity.SweepSchema:
		var d capacity.SweepDoc
		err := result.LoadDoc(file, capacity.SweepSchema, &d, func() string { return d.Schema })
		return loaded{file: file, capacitySweep: &d}, asUsage(err)
	}
	return loaded{}, usagef("%s: schema %q is none of %s, %s, %s, %s", file, head.Schema, result.Schema, sweep.Schema, capacity.Schema, capacity.SweepSchema)
}

// isCapacity reports whether l is a capacity search or a sweep of them.
func (l loaded) isCapacity() bool { return l.capacity != nil || l.capacitySweep != nil }

func (l loaded) side() compare.Side {
	switch {
	case l.sweep != nil:
		return compare.FromSweep(l.file, l.sweep)
	case l.capacity != nil:
		return compare.FromCapacity(l.file, nil, l.capacity)
	case l.capacitySweep != nil:
		s := compare.Side{File: l.file}
		for _, v := range l.capacitySweep.Variants {
			s.Variants = append(s.Variants, compare.FromCapacity(l.file, v.Params, v.Search).Variants...)
		}
		return s
	}
	return compare.FromResult(l.file, l.result)
}

func (l loaded) grid() report.Grid {
	if l.sweep != nil {
		return l.sweep.Grid()
	}
	return report.Grid{Rows: []report.GridRow{report.ResultRow(l.result)}}
}

// reportCmd re-renders saved results, sweeps and capacity searches
// without re-running them.
func reportCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("mqbench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "table", "table, json, csv, markdown or html (one self-contained page for all the files)")
	out := fs.String("out", "", "write the report to this file (atomically) instead of stdout; - = stdout")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(files) == 0 {
		return exitUsage, usagef("report needs at least one result, sweep or capacity file")
	}
	switch *format {
	case "table", "json", "csv", "markdown", "html":
	default:
		return exitUsage, usagef("--format %q: want table, json, csv, markdown or html", *format)
	}
	docs := make([]loaded, len(files))
	for i, f := range files { // every file is read before anything is written
		if docs[i], err = load(f); err != nil {
			return exitUsage, err
		}
	}
	err = writeOutput(*out, stdout, func(w io.Writer) error {
		if *format == "html" {
			return writeHTML(w, docs)
		}
		for i, l := range docs {
			if i > 0 && *format != "csv" {
				fmt.Fprintln(w)
			}
			if err := render(w, l, *format); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return exitFailed, err
	}
	return exitOK, nil
}

func render(w io.Writer, l loaded, format string) error {
	if l.capacity != nil || l.capacitySweep != nil {
		return renderCapacity(w, l, format)
	}
	switch format {
	case "json":
		if l.sweep != nil {
			return result.WriteJSON(w, l.sweep)
		}
		return result.WriteJSON(w, l.result)
	case "table":
		if l.result != nil {
			return report.WriteTable(w, l.result)
		}
		fmt.Fprintf(w, "sweep %q: %d variants × %d runs, %s\n", l.sweep.Name, len(l.sweep.Variants), l.sweep.Repeat, l.sweep.StopReason)
		return report.WriteGridTable(w, l.sweep.Grid())
	}
	g := l.grid()
	if format == "csv" {
		return report.WriteGridCSV(w, g)
	}
	fmt.Fprintf(w, "**%s**\n\n", l.file)
	return report.WriteGridMarkdown(w, g)
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, asUsage(err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// renderCapacity renders a capacity search or sweep: its step table (or
// variant table) and answer; CSV and markdown have one row per step.
func renderCapacity(w io.Writer, l loaded, format string) error {
	switch {
	case format == "json" && l.capacity != nil:
		return result.WriteJSON(w, l.capacity)
	case format == "json":
		return result.WriteJSON(w, l.capacitySweep)
	case l.capacitySweep != nil:
		return report.WriteCapacitySweep(w, l.capacitySweep)
	case format == "table":
		return report.WriteCapacity(w, l.capacity)
	case format == "csv":
		return report.WriteCapacityCSV(w, l.capacity)
	}
	fmt.Fprintf(w, "**%s**\n\n", l.file)
	return report.WriteCapacityMarkdown(w, l.capacity)
}
