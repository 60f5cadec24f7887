package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/result"
)

// stuck is a workload whose drain and clean-up last until their context
// ends: a backlog that would take the whole drain timeout, a clean-up on
// a slow broker.
type stuck struct {
	*fake
	drainFor, finishFor time.Duration // how long each ran
}

func (s *stuck) Drain(ctx context.Context) DrainResult {
	start := time.Now()
	<-ctx.Done()
	s.drainFor = time.Since(start)
	return DrainResult{Ended: result.DrainTimeout}
}

func (s *stuck) Finish(ctx context.Context) (Final, error) {
	start := time.Now()
	<-ctx.Done()
	s.finishFor = time.Since(start)
	return s.fake.Finish(ctx)
}

// TestAbortSkipsTheDrainAndBoundsTheCleanUp: a second interruption during
// a 30 s drain ends it at once, gives the clean-up abortGrace, and the
// result is still built, whole in its measured window and marked.
func TestAbortSkipsTheDrainAndBoundsTheCleanUp(t *testing.T) {
	cfg, f := setup(0, 0)
	cfg.DrainTimeout, cfg.FinishTimeout = 30*time.Second, 30*time.Second
	abort := make(chan struct{})
	cfg.Abort = abort
	w := &stuck{fake: f}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	time.AfterFunc(500*time.Millisecond, func() { close(abort) })
	start := time.Now()
	res, err := Run(ctx, cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 300*time.Millisecond+abortGrace+2*time.Second {
		t.Errorf("Run took %v after an abort", took)
	}
	if w.drainFor > time.Second || w.finishFor < abortGrace-100*time.Millisecond || w.finishFor > abortGrace+time.Second {
		t.Errorf("drain ran %v (want cut at the abort), clean-up %v (want about %v)", w.drainFor, w.finishFor, abortGrace)
	}
	if res.StopReason != result.StopInterrupted || res.StopDetail != result.StopDetailSecondSignal || !f.finished.Load() {
		t.Fatalf("stop %q detail %q finished %v: want interrupted, %s, cleaned up", res.StopReason, res.StopDetail, f.finished.Load(), result.StopDetailSecondSignal)
	}
	if !hasWarning(res.Warnings, "interrupted twice") {
		t.Errorf("warnings %q: want one saying the run was interrupted twice", res.Warnings)
	}
	if res.MeasuredS < 0.25 || res.MeasuredS > 0.45 || res.Totals.Published == 0 {
		t.Errorf("measured %.3fs, published %d: want the window up to the first interruption", res.MeasuredS, res.Totals.Published)
	}
}

// TestOneInterruptionIsNotAnAbort: the first interruption drains fully
// and leaves the result unmarked.
func TestOneInterruptionIsNotAnAbort(t *testing.T) {
	cfg, f := setup(0, 0)
	cfg.Abort = make(chan struct{})
	f.drained = 5
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	res, err := Run(ctx, cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if res.StopReason != result.StopInterrupted || res.StopDetail != "" || hasWarning(res.Warnings, "interrupted twice") {
		t.Errorf("stop %q detail %q warnings %q: want interrupted, unmarked", res.StopReason, res.StopDetail, res.Warnings)
	}
	if *res.Totals.Consumed != res.Totals.Published+5 {
		t.Errorf("consumed %d of %d published: want the drain's 5 more", *res.Totals.Consumed, res.Totals.Published)
	}
}

func hasWarning(ws []string, s string) bool {
	for _, w := range ws {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}
