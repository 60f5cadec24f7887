package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/mqbench/mqbench/internal/driver"
	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/promexport"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/scenario"
)

// outputFlags are where a run's progress goes besides the summary: the
// live line, a CSV of its intervals, a Prometheus endpoint.
type outputFlags struct {
	quiet      bool
	csv        string
	prometheus string
	promLinger scenario.Duration
}

// noOutputField says why the output flags set no scenario field.
const noOutputField = "where this command's progress goes is not part of the scenario"

// outputRunFlags are the output flags.
func outputRunFlags() []runFlag {
	out := func(fn func(o *outputFlags) any) func(f *flagSet) flagValue {
		return func(f *flagSet) flagValue { return flagValue{ptr: fn(&f.out)} }
	}
	return []runFlag{
		{name: "quiet", none: noOutputField, usage: "no live progress lines", own: out(func(o *outputFlags) any { return &o.quiet })},
		{name: "csv", arg: "FILE", none: noOutputField, usage: "write every interval as a CSV row to this file (header: see docs/observability.md#csv-and-the-brokers-side)",
			own: out(func(o *outputFlags) any { return &o.csv })},
		{name: "prometheus", arg: "ADDR", none: noOutputField,
			usage: "serve live metrics at [HOST]:PORT/metrics (host default 127.0.0.1; 0.0.0.0 to be scraped from elsewhere)",
			own:   out(func(o *outputFlags) any { return &o.prometheus })},
		{name: "prometheus-linger", arg: "D", none: noOutputField,
			usage: "keep serving /metrics this long after the run, for a last scrape (default 0)",
			own:   out(func(o *outputFlags) any { return &o.promLinger })},
	}
}

// outputs are the opened outputs of one command.
type outputs struct {
	flags  outputFlags
	stderr io.Writer
	csv    *report.CSV
	file   *os.File
	prom   *promexport.Exporter
}

// open opens the CSV file and starts the Prometheus endpoint.
func (o outputFlags) open(stderr io.Writer) (*outputs, error) {
	out := &outputs{flags: o, stderr: stderr}
	if o.csv != "" {
		f, err := os.Create(o.csv)
		if err != nil {
			return nil, fmt.Errorf("--csv: %w", err)
		}
		out.file, out.csv = f, report.NewCSV(f)
	}
	if o.prometheus != "" {
		p, err := promexport.Listen(o.prometheus)
		if err != nil {
			out.close()
			return nil, usagef("%v", err)
		}
		out.prom = p
		fmt.Fprintf(stderr, "mqbench: serving metrics at http://%s/metrics\n", p.Addr())
	}
	return out, nil
}

// sinks are one run's sinks: variant labels it within a sweep.
func (o *outputs) sinks(sc scenario.Scenario, variant string) []engine.Sink {
	var s []engine.Sink
	if !o.flags.quiet {
		s = append(s, &report.Live{W: o.stderr, Cores: runtime.GOMAXPROCS(0)})
	}
	if o.csv != nil {
		s = append(s, o.csv.Sink(variant, sc.Interval.D()))
	}
	if o.prom != nil {
		sh := sc.Shard // this process's workers: its share of a sharded run
		workers := map[string]int{}
		for _, k := range driver.Kinds() {
			workers[k.Name] = sh.Share(k.Workers(sc))
		}
		s = append(s, o.prom.Run(promexport.Labels{Scenario: sc.Name, Variant: variant, Shard: shardLabel(sc)}, workers))
	}
	return s
}

// close lingers for a last scrape, then stops the endpoint and closes the
// CSV file, reporting a CSV write error.
func (o *outputs) close() error {
	if o.prom != nil {
		time.Sleep(o.flags.promLinger.D())
		_ = o.prom.Close()
	}
	if o.file == nil {
		return nil
	}
	err := o.csv.Err()
	if cerr := o.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--csv %s: %w", o.flags.csv, err)
	}
	return nil
}

// shardLabel is the run's shard as "I/N", "" when it is not sharded.
func shardLabel(sc scenario.Scenario) string {
	if sc.Shard == nil {
		return ""
	}
	return sc.Shard.String()
}
