package sweep

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// fakeRun "measures" consumed/s = prefetch × 100 + the run's index, so the
// median and spread of each variant are known.
func fakeConfig(repeat int) (Config, *[]scenario.Scenario) {
	var ran []scenario.Scenario
	calls := 0
	return Config{
		Name: "t", Repeat: repeat,
		Matrix: scenario.Matrix{{Name: "prefetch", Values: []string{"1", "10"}}},
		Build: func(p scenario.Point) (scenario.Scenario, error) {
			sc := scenario.Default()
			n, err := strconv.Atoi(p.Map()["prefetch"])
			sc.Consumers.Prefetch = n
			return sc, err
		},
		Run: func(_ context.Context, sc scenario.Scenario, _ scenario.Point) (*result.Result, error) {
			ran = append(ran, sc)
			calls++
			r := float64(sc.Consumers.Prefetch*100 + calls%3)
			return &result.Result{Schema: result.Schema, StopReason: result.StopDuration, Rates: result.Rates{ConsumedPerS: &r}}, nil
		},
	}, &ran
}

func TestRunEveryVariantRepeated(t *testing.T) {
	cfg, ran := fakeConfig(3)
	doc, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(*ran) != 6 || len(doc.Variants) != 2 || doc.StopReason != "completed" || doc.Schema != Schema {
		t.Fatalf("%d runs, %d variants, %s", len(*ran), len(doc.Variants), doc.StopReason)
	}
	v := doc.Variants[1]
	if v.Params["prefetch"] != "10" || len(v.Runs) != 3 {
		t.Fatalf("variant %+v", v.Params)
	}
	st, ok := v.Summary.Stat("rates.consumed_per_s", 3)
	if !ok || st.Median != 1001 || st.Min != 1000 || st.Max != 1002 {
		t.Fatalf("median %+v", st)
	}
	g := doc.Grid()
	if len(g.Rows) != 2 || g.Params[0] != "prefetch" || g.Rows[0].Runs != 3 {
		t.Fatalf("grid %+v", g)
	}
}

func TestBadVariantRunsNothing(t *testing.T) {
	cfg, ran := fakeConfig(1)
	cfg.Matrix = scenario.Matrix{{Name: "prefetch", Values: []string{"1", "many"}}}
	doc, err := Run(context.Background(), cfg)
	if doc != nil || err == nil || len(*ran) != 0 {
		t.Fatalf("doc %v err %v runs %d: a bad variant must stop the sweep before it starts", doc, err, len(*ran))
	}
}

func TestFailedRunKeepsWhatWasMeasured(t *testing.T) {
	cfg, _ := fakeConfig(2)
	inner := cfg.Run
	n := 0
	boom := errors.New("channel closed")
	cfg.Run = func(ctx context.Context, sc scenario.Scenario, p scenario.Point) (*result.Result, error) {
		n++
		r, _ := inner(ctx, sc, p)
		if n == 3 {
			r.StopReason = result.StopError
			return r, boom
		}
		return r, nil
	}
	doc, err := Run(context.Background(), cfg)
	if !errors.Is(err, boom) || doc.StopReason != result.StopError {
		t.Fatalf("err %v stop %s", err, doc.StopReason)
	}
	if len(doc.Variants) != 2 || len(doc.Variants[0].Runs) != 2 || len(doc.Variants[1].Runs) != 1 {
		t.Fatalf("kept %d variants", len(doc.Variants))
	}
}

func TestInterruptStopsAfterCurrentRun(t *testing.T) {
	cfg, ran := fakeConfig(2)
	ctx, cancel := context.WithCancel(context.Background())
	inner := cfg.Run
	cfg.Run = func(c context.Context, sc scenario.Scenario, p scenario.Point) (*result.Result, error) {
		r, err := inner(c, sc, p)
		cancel() // Ctrl-C during the first run
		return r, err
	}
	doc, err := Run(ctx, cfg)
	if err != nil || doc.StopReason != result.StopInterrupted || len(*ran) != 1 || len(doc.Variants) != 1 {
		t.Fatalf("err %v stop %s runs %d variants %d", err, doc.StopReason, len(*ran), len(doc.Variants))
	}
}

// TestIncompleteRunsLeftOutOfTheMedian: a run that was interrupted or
// failed measured less than the others; it is kept in the document but
// flagged and left out of the variant's median.
func TestIncompleteRunsLeftOutOfTheMedian(t *testing.T) {
	cfg, _ := fakeConfig(3)
	cfg.Matrix = scenario.Matrix{{Name: "prefetch", Values: []string{"10"}}}
	n := 0
	cfg.Run = func(_ context.Context, sc scenario.Scenario, p scenario.Point) (*result.Result, error) {
		n++
		v := []float64{1000, 10, 1002}[n-1] // the second run was cut short
		r := &result.Result{Schema: result.Schema, StopReason: result.StopDuration, Rates: result.Rates{ConsumedPerS: &v}}
		if n == 2 {
			r.StopReason = result.StopError
		}
		return r, nil
	}
	doc, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	v := doc.Variants[0]
	if len(v.Runs) != 3 || len(v.Excluded) != 1 || v.Excluded[0] != 1 || v.Counted() != 2 {
		t.Fatalf("runs %d excluded %v", len(v.Runs), v.Excluded)
	}
	st, ok := v.Summary.Stat("rates.consumed_per_s", v.Counted())
	if !ok || st.Median != 1001 || st.Min != 1000 || st.Max != 1002 || st.N != 2 {
		t.Fatalf("median %+v: the failed run was averaged in", st)
	}
	if g := doc.Grid(); g.Rows[0].Runs != 2 || g.Rows[0].Note == "" {
		t.Fatalf("grid row %+v does not flag the left-out run", g.Rows[0])
	}
}
