package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mqbench/mqbench/internal/driver"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// runCmd is `mqbench run`: resolve the scenario, run it, print the table,
// save the JSON result.
func runCmd(args []string, stdout, stderr io.Writer) (int, error) {
	f := newFlagSet()
	f.fs.SetOutput(stderr)
	file, err := f.parse(args)
	if err != nil {
		return exitUsage, err
	}
	sc, err := resolve(file, f)
	if err != nil {
		return exitUsage, err
	}

	if sc.TLS.Insecure {
		fmt.Fprintln(stderr, "mqbench: WARNING: --tls-insecure: the broker's certificate will not be verified")
	}
	ctx, sigs, stopSignals := interruptContext()
	defer stopSignals()

	outs, err := f.out.open(stderr)
	if err != nil {
		return exitFailed, err
	}
	code, err := runOrSweep(ctx, sc, outs, sigs, stdout, stderr)
	if cerr := outs.close(); err == nil && cerr != nil {
		code, err = exitFailed, cerr
	}
	return code, err
}

// runOrSweep runs the scenario once, or its sweep.
func runOrSweep(ctx context.Context, sc scenario.Scenario, outs *outputs, sigs *signalWatch, stdout, stderr io.Writer) (int, error) {
	if len(sc.Matrix) > 0 || sc.Repeat > 1 {
		if sc.Out == "" {
			sc.Out = defaultOut(sc.Name + "-sweep")
		}
		return runSweep(ctx, sc, outs, sigs, stdout, stderr)
	}
	if sc.Out == "" {
		sc.Out = defaultOut(sc.Name)
	}
	res, runErr := driver.Run(ctx, sc, driver.Options{Version: version(), Sinks: outs.sinks(sc, ""), Abort: sigs.abort})
	if res == nil { // nothing was measured
		if ctx.Err() != nil { // interrupted before the start (waiting for --start-at or the other shards)
			return sigs.exitCode(), runErr
		}
		return exitFailed, runErr
	}
	show := func(out io.Writer) error {
		fmt.Fprintln(out)
		return report.WriteTable(out, res)
	}
	if err := showAndSave(sc.Out, res, show, stdout, stderr); err != nil {
		return exitFailed, err
	}
	if runErr != nil {
		return exitFailed, fmt.Errorf("the run failed: %w", runErr)
	}
	// A second signal in the drain of a run that had stopped by itself
	// interrupted it too: its totals are cut short.
	if res.StopReason == result.StopInterrupted || res.StopDetail == result.StopDetailSecondSignal {
		return sigs.exitCode(), nil
	}
	return exitOK, nil
}

// resolve builds the scenario: defaults, then the file, then the flags the
// user set, then validation naming each bad field's file and line or flag.
func resolve(file string, f *flagSet) (scenario.Scenario, error) {
	sc := scenario.Default()
	if env := os.Getenv("MQBENCH_URL"); env != "" {
		sc.URL = env
	}
	var src *scenario.Source
	if file != "" {
		var err error
		if sc, src, err = scenario.Load(file, sc); err != nil {
			return sc, asUsage(err)
		}
	}
	paths, err := f.apply(&sc)
	if err != nil {
		return sc, err
	}
	sc.Normalize()
	if probs := sc.Validate(); probs != nil {
		return sc, usagef("invalid scenario:\n%s", probs.Explain(src, paths))
	}
	return sc, nil
}

// defaultOut is results/<UTC time>-<name>.json.
func defaultOut(name string) string {
	return filepath.Join("results", fmt.Sprintf("%s-%s.json", time.Now().UTC().Format("20060102T150405Z"), name))
}
