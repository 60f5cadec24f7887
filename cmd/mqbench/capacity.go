package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/driver"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// sloFlag collects repeated --slo PATH<=VALUE arguments.
type sloFlag []capacity.Objective

func (s *sloFlag) String() string { return fmt.Sprint(len(*s), " objectives") }

func (s *sloFlag) Set(v string) error {
	o, err := capacity.ParseObjective(v)
	if err != nil {
		return err
	}
	*s = append(*s, o)
	return nil
}

// capacityFlags are capacity's own flags, beside every run flag.
type capacityFlags struct {
	slo                  sloFlag
	minRate, maxRate     float64
	precision, tolerance float64
	step, warmup, budget scenario.Duration
}

func (c *capacityFlags) register(f *flagSet) {
	fs := f.fs
	fs.Var(&c.slo, "slo", "an objective PATH<=VALUE, e.g. latency.end_to_end.p99_us<=50000 (repeatable)")
	fs.Float64Var(&c.minRate, "min-rate", 0, "total rate the search starts from (default: a tenth of the ceiling)")
	fs.Float64Var(&c.maxRate, "max-rate", 0, "the highest total rate tried (default: found by an unpaced probe step)")
	fs.Float64Var(&c.precision, "precision", 5, "bisect until the bracket is within this many percent")
	fs.Float64Var(&c.tolerance, "error-tolerance", 0, "percent of nacks, returns or RPC timeouts a step may have and pass")
	c.step, c.warmup = scenario.Duration(10*time.Second), scenario.Duration(2*time.Second)
	fs.Var(&c.step, "step", "each step's measured length (default 10s)")
	fs.Var(&c.warmup, "step-warmup", "each step's own warm-up, before it is measured (default 2s)")
	fs.Var(&c.budget, "budget", "the longest the whole search may take (0 = no limit); with --sweep, each variant's search")
}

// check refuses values the search cannot use.
func (c *capacityFlags) check() error {
	switch {
	case c.minRate < 0 || c.maxRate < 0 || (c.maxRate > 0 && c.minRate > c.maxRate):
		return usagef("--min-rate %g, --max-rate %g: want 0 <= min <= max", c.minRate, c.maxRate)
	case c.precision < 0.1 || c.precision > 50:
		return usagef("--precision %g: want 0.1 to 50 percent", c.precision)
	case c.tolerance < 0 || c.tolerance > 100:
		return usagef("--error-tolerance %g: want 0 to 100 percent", c.tolerance)
	case c.step.D() < 500*time.Millisecond || c.step.D() > scenario.MaxDuration:
		return usagef("--step %v: want 500ms to %v", c.step, scenario.MaxDuration)
	case c.warmup < 0 || c.budget < 0:
		return usagef("--step-warmup and --budget must not be negative")
	}
	return nil
}

// capacityCmd is `mqbench capacity`: the highest rate the scenario
// sustains within its objectives.
func capacityCmd(args []string, stdout, stderr io.Writer) (int, error) {
	f := newNamedFlagSet("mqbench capacity")
	f.fs.SetOutput(stderr)
	var c capacityFlags
	c.register(f)
	file, err := f.parse(args)
	if err != nil {
		return exitUsage, err
	}
	if err := c.check(); err != nil {
		return exitUsage, err
	}
	sc, err := resolve(file, f)
	if err != nil {
		return exitUsage, err
	}
	if sc.Shard != nil || sc.StartAt != nil {
		return exitUsage, usagef("capacity runs many runs one after another: it cannot be sharded (--shard, --shards, --start-at are for mqbench run)")
	}
	if sc.Producers.Count == 0 && sc.RPC.Clients == 0 {
		return exitUsage, usagef("capacity needs producers (or RPC clients) whose rate it can set")
	}
	if sc.Phased() {
		return exitUsage, usagef("capacity sets the load's rate itself at every step: a scenario with phases (which change it) cannot be searched; remove its phases")
	}
	ctx, sigs, stopSignals := interruptContext()
	defer stopSignals()
	if len(sc.Matrix) > 0 {
		return capacitySweep(ctx, sc, c, sigs, stdout, stderr)
	}
	if sc.Out == "" {
		sc.Out = defaultOut(sc.Name + "-capacity")
	}
	doc, runErr := capacity.Search(ctx, c.config(sc, sigs.abort, stderr))
	show := func(out io.Writer) error { return report.WriteCapacity(out, doc) }
	if err := showAndSave(sc.Out, doc, show, stdout, stderr); err != nil {
		return exitFailed, err
	}
	return capacityExit(doc.StopReason, runErr, sigs)
}

// config is the search of one scenario; abort is closed by a second
// interruption (driver.Options.Abort).
func (c capacityFlags) config(sc scenario.Scenario, abort <-chan struct{}, stderr io.Writer) capacity.Config {
	return capacity.Config{
		Tool: result.Tool{Name: "mqbench", Version: version()}, Base: sc, SLO: c.slo,
		MinRate: c.minRate, MaxRate: c.maxRate, Step: c.step.D(), Warmup: c.warmup.D(),
		Precision: c.precision / 100, Budget: c.budget.D(), Tolerance: c.tolerance / 100, Kinds: driver.Kinds(),
		Run: func(ctx context.Context, v scenario.Scenario) (*result.Result, error) {
			return driver.Run(ctx, v, driver.Options{Version: version(), Abort: abort})
		},
		Progress: func(step int, phase string, rate float64, elapsed, left time.Duration) {
			target := "unpaced"
			if rate > 0 {
				target = report.Rate(rate) + "/s"
			}
			fmt.Fprintf(stderr, "== capacity step %d (%s) at %s (elapsed %v, about %v left)\n",
				step, phase, target, elapsed.Round(time.Second), left.Round(time.Second))
		},
	}
}

func capacityExit(stop string, runErr error, sigs *signalWatch) (int, error) {
	switch {
	case runErr != nil:
		return exitFailed, fmt.Errorf("the capacity search failed: %w", runErr)
	case stop == capacity.StopInterrupted:
		return sigs.exitCode(), nil
	}
	return exitOK, nil
}

// capacitySweep searches every variant of the matrix and prints one row
// each.
func capacitySweep(ctx context.Context, sc scenario.Scenario, c capacityFlags, sigs *signalWatch, stdout, stderr io.Writer) (int, error) {
	if sc.Out == "" {
		sc.Out = defaultOut(sc.Name + "-capacity-sweep")
	}
	doc := &capacity.SweepDoc{Schema: capacity.SweepSchema, Tool: result.Tool{Name: "mqbench", Version: version()}, Name: sc.Name}
	for _, p := range sc.Matrix {
		doc.ParamNames = append(doc.ParamNames, p.Name)
	}
	var runErr error
	stop := capacity.StopCompleted
	points := sc.Matrix.Points()
	for i, p := range points {
		v, err := variant(sc, p)
		if err != nil {
			return exitUsage, usagef("variant %s: %v", p, err)
		}
		fmt.Fprintf(stderr, "== variant %d/%d %s\n", i+1, len(points), p)
		d, err := capacity.Search(ctx, c.config(v, sigs.abort, stderr))
		doc.Variants = append(doc.Variants, capacity.SweepVariant{Params: p.Map(), Search: d})
		if err != nil || d.StopReason == capacity.StopInterrupted {
			runErr, stop = err, d.StopReason
			break
		}
	}
	show := func(out io.Writer) error { return report.WriteCapacitySweep(out, doc) }
	if err := showAndSave(sc.Out, doc, show, stdout, stderr); err != nil {
		return exitFailed, err
	}
	return capacityExit(stop, runErr, sigs)
}
