package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mqbench/mqbench/internal/driver"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/sweep"
)

// runSweep runs every variant of the scenario's matrix (each Repeat times),
// prints one comparison row per variant and saves the sweep document.
func runSweep(ctx context.Context, sc scenario.Scenario, outs *outputs, sigs *signalWatch, stdout, stderr io.Writer) (int, error) {
	cfg := sweep.Config{
		Name: sc.Name, Tool: result.Tool{Name: "mqbench", Version: version()},
		Matrix: sc.Matrix, Repeat: sc.Repeat, Cooldown: sc.Cooldown.D(),
		Build: func(p scenario.Point) (scenario.Scenario, error) { return variant(sc, p) },
		Run: func(ctx context.Context, v scenario.Scenario, p scenario.Point) (*result.Result, error) {
			return driver.Run(ctx, v, driver.Options{Version: version(), Sinks: outs.sinks(v, p.String()), Abort: sigs.abort})
		},
		Progress: progress(stderr, time.Now()),
	}
	doc, runErr := sweep.Run(ctx, cfg)
	if doc == nil {
		return exitUsage, asUsage(runErr)
	}
	show := func(out io.Writer) error {
		fmt.Fprintf(out, "\nsweep %q: %d variants × %d runs, %s\n", doc.Name, len(doc.Variants), doc.Repeat, doc.StopReason)
		return report.WriteGridTable(out, doc.Grid())
	}
	if err := showAndSave(sc.Out, doc, show, stdout, stderr); err != nil {
		return exitFailed, err
	}
	if runErr != nil {
		return exitFailed, fmt.Errorf("the sweep stopped: %w", runErr)
	}
	if doc.StopReason == result.StopInterrupted {
		return sigs.exitCode(), nil
	}
	return exitOK, nil
}

// variant applies one point's settings to a copy of the base scenario. A
// parameter is a run flag's name ("prefetch", "ack", "rpc-concurrency") or
// a dotted scenario path ("consumers.prefetch").
func variant(base scenario.Scenario, p scenario.Point) (scenario.Scenario, error) {
	v := base.Clone()
	v.Matrix, v.Repeat, v.Cooldown = nil, 0, 0
	for _, s := range p {
		if err := applyParam(&v, s.Name, s.Value); err != nil {
			return v, err
		}
	}
	v.Normalize()
	if probs := v.Validate(); probs != nil {
		return v, fmt.Errorf("invalid: %s", probs.Explain(nil, nil))
	}
	return v, nil
}

func applyParam(sc *scenario.Scenario, name, value string) error {
	if strings.Contains(name, ".") {
		return applyPath(sc, name, value)
	}
	switch name {
	case "sweep", "repeat", "cooldown", "out", "quiet":
		return fmt.Errorf("%s cannot be swept", name)
	}
	f := newFlagSet()
	if f.fs.Lookup(name) == nil {
		return fmt.Errorf("unknown parameter %q: use a run flag's name (prefetch, ack, multi-ack-every, confirm, producers, size, queue-type, rpc-concurrency, …) or a scenario path such as consumers.prefetch", name)
	}
	if err := f.fs.Set(name, value); err != nil {
		return fmt.Errorf("%s=%s: %v", name, scenario.MaskValue(value), err)
	}
	_, err := f.apply(sc)
	return err
}

// applyPath sets a dotted scenario path by decoding a one-field YAML
// document over the scenario, so types and unknown fields are checked as
// in a scenario file.
func applyPath(sc *scenario.Scenario, path, value string) error {
	var b strings.Builder
	parts := strings.Split(path, ".")
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":")
		if i == len(parts)-1 {
			b.WriteString(" " + value)
		}
		b.WriteString("\n")
	}
	dec := yaml.NewDecoder(strings.NewReader(b.String()))
	dec.KnownFields(true)
	if err := dec.Decode(sc); err != nil {
		return fmt.Errorf("%s=%s: %v", path, scenario.MaskValue(value), strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), value, scenario.MaskValue(value)))
	}
	return nil
}

// showAndSave prints a document for people (show) and saves its JSON where
// --out says. With --out - stdout carries the JSON, so the printout goes
// to stderr.
func showAndSave(path string, doc any, show func(io.Writer) error, stdout, stderr io.Writer) error {
	out := stdout
	if path == "-" {
		out = stderr
	}
	if err := show(out); err != nil {
		return err
	}
	return saveDoc(path, doc, stdout, stderr)
}

// saveDoc writes a JSON document where --out says (- = stdout).
func saveDoc(path string, doc any, stdout, stderr io.Writer) error {
	if path == "-" {
		return result.WriteJSON(stdout, doc)
	}
	if err := result.SaveJSON(path, doc); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "result written to %s\n", path)
	return nil
}

// progress prints, before each run of a sweep, which variant and run it
// is, the time elapsed and an estimate of the time left (from the average
// run so far, cooldowns included).
func progress(w io.Writer, start time.Time) func(i, n, r, runs int, p scenario.Point) {
	return func(i, n, r, runs int, p scenario.Point) {
		done, total := (i-1)*runs+(r-1), n*runs
		elapsed := time.Since(start).Round(time.Second)
		left := "?"
		if done > 0 {
			left = "about " + (elapsed / time.Duration(done) * time.Duration(total-done)).Round(time.Second).String()
		}
		fmt.Fprintf(w, "== variant %d/%d %s run %d/%d (elapsed %v, %s left)\n", i, n, p, r, runs, elapsed, left)
	}
}
