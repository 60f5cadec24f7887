package main

import (
	"flag"
	"io"

	"github.com/mqbench/mqbench/internal/document"
)

// load reads a result, sweep, capacity search or capacity sweep; every
// error is a usage error (the file is the user's).
func load(file string) (*document.Doc, error) {
	d, err := document.Load(file)
	return d, asUsage(err)
}

// reportCmd re-renders saved results, sweeps and capacity searches
// without re-running them. What each format gives for each kind of
// document is internal/document's table.
func reportCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("mqbench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	formatName := fs.String("format", "table", "table, json, csv, markdown or html (one self-contained page for all the files)")
	out := fs.String("out", "", "write the report to this file (atomically) instead of stdout; - = stdout")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(files) == 0 {
		return exitUsage, usagef("report needs at least one result, sweep or capacity file")
	}
	format, err := document.CommandReport.ParseFormat(*formatName)
	if err != nil {
		return exitUsage, asUsage(err)
	}
	docs := make([]*document.Doc, len(files))
	for i, f := range files { // every file is read before anything is written
		if docs[i], err = load(f); err != nil {
			return exitUsage, err
		}
	}
	if err := document.CommandReport.Check(docs, format); err != nil {
		return exitUsage, asUsage(err)
	}
	err = writeOutput(*out, stdout, func(w io.Writer) error { return document.Render(w, docs, format) })
	if err != nil {
		return exitFailed, err
	}
	return exitOK, nil
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
