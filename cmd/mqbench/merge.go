package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/mqbench/mqbench/internal/document"
	"github.com/mqbench/mqbench/internal/merge"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
)

// mergeCmd is `mqbench merge SHARD.json... [--out FILE]`: merge the
// results of a sharded run's shards into the result of the whole run,
// save it and print its table.
func mergeCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("mqbench merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "where the merged result goes (- = stdout; default results/<UTC time>-<name>-merged.json)")
	fs.StringVar(out, "o", "", "shorthand for --out")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mqbench merge SHARD.json... [--out MERGED.json]\n\n"+
			"Merges the results of every shard of one sharded run (mqbench run --shard I/N) into one result:\n"+
			"totals summed, histograms merged exactly, rates over the common window, intervals aligned by\n"+
			"wall-clock time, the delivery audit reconciled over all shards, and each shard's spread.")
		fs.PrintDefaults()
	}
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return exitUsage, asUsage(err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		return exitUsage, usagef("merge: give the shards' result files")
	}
	var in []merge.Input
	for _, f := range files {
		l, err := load(f)
		if err != nil {
			return exitUsage, err
		}
		if l.Kind() != document.KindResult {
			return exitUsage, usagef("%s: not a run's result (schema %s)", f, result.Schema)
		}
		in = append(in, merge.Input{File: f, Result: l.Result})
	}
	res, err := merge.Merge(in)
	if err != nil {
		return exitUsage, asUsage(err)
	}
	path := *out
	if path == "" {
		path = filepath.Join("results", fmt.Sprintf("%s-%s-merged.json", time.Now().UTC().Format("20060102T150405Z"), strings.ReplaceAll(res.Scenario.Name, "/", "_")))
	}
	tableOut := stdout
	if path == "-" {
		tableOut = stderr
	}
	if err := report.WriteTable(tableOut, res); err != nil {
		return exitFailed, err
	}
	if err := saveDoc(path, res, stdout, stderr); err != nil {
		return exitFailed, err
	}
	return exitOK, nil
}
