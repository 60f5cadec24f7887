package engine

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// fake is a workload without a broker: one "producer" goroutine publishes
// and "consumes" a message every millisecond, recording a 100 µs end-to-end
// latency for messages sent in the measured window (the contract every
// workload keeps: record only what Window.Measured accepts).
type fake struct {
	w       metrics.Worker
	win     *metrics.Window
	now     func() int64
	events  chan Event
	stop    chan struct{}
	stopped sync.WaitGroup

	drained  int64         // consumed during Drain
	stuck    time.Duration // how long StopLoad takes after the load stopped (a producer stuck in a write)
	drainFor time.Duration // how long the drain spreads its consumption over
	finished atomic.Bool
	// inWindow counts messages published at or after the window start.
	inWindow atomic.Int64
}

func newFake(reg *metrics.Registry, win *metrics.Window, now func() int64) *fake {
	return &fake{w: reg.NewWorker(), win: win, now: now, events: make(chan Event, 1), stop: make(chan struct{})}
}

func (f *fake) Start() {
	f.stopped.Add(1)
	go func() {
		defer f.stopped.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-t.C:
			}
			sent := f.now()
			if sent >= f.win.End() { // as every workload: nothing sent past the window
				continue
			}
			f.w.Count(metrics.Published, sent)
			f.w.Count(metrics.Consumed, sent)
			if f.win.Measured(sent) {
				f.inWindow.Add(1)
				f.w.Record(metrics.EndToEnd, 100*time.Microsecond)
			}
		}
	}()
}

func (f *fake) Events() <-chan Event { return f.events }
func (f *fake) StopLoad(context.Context) {
	close(f.stop)
	f.stopped.Wait()
	time.Sleep(f.stuck)
}
func (f *fake) Backlog() (result.Backlog, bool) {
	return result.Backlog{Ready: 4, Delivered: 2, StreamLag: 1}, true
}

// ReadBacklog reads a different figure from the sampled one: the drain's
// figures must be read afresh, not taken from the last sample.
func (f *fake) ReadBacklog() (result.Backlog, bool) {
	return result.Backlog{Ready: 10, Delivered: 1}, true
}
func (f *fake) Blocked() int       { return 0 }
func (f *fake) Disconnected() int  { return 0 }
func (f *fake) ConnectionsUp() int { return 1 }
func (f *fake) BrokerSample() *result.BrokerSample {
	return nil
}
func (f *fake) Drain(context.Context) DrainResult {
	var last int64
	for i := int64(0); i < f.drained; i++ {
		if f.drainFor > 0 {
			time.Sleep(f.drainFor / time.Duration(f.drained))
		}
		last = f.now()
		f.w.Count(metrics.Consumed, last)
	}
	return DrainResult{Ended: result.DrainEmpty, LastConsumed: last}
}
func (f *fake) Finish(context.Context) (Final, error) {
	f.finished.Store(true)
	return Final{}, nil
}

func setup(duration, warmup time.Duration) (Config, *fake) {
	win := metrics.NewWindow()
	reg := metrics.NewRegistry(2, win)
	start := time.Now()
	now := func() int64 { return start.UnixNano() + int64(time.Since(start)) }
	cfg := Config{
		Duration: duration, Warmup: warmup, Interval: 50 * time.Millisecond, DrainTimeout: time.Second,
		Now: now, CPU: func() time.Duration { return 0 }, Registry: reg,
	}
	cfg.Header.Scenario = scenario.Default()
	return cfg, newFake(reg, win, now)
}

func TestDurationStop(t *testing.T) {
	cfg, f := setup(400*time.Millisecond, 0)
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if res.StopReason != result.StopDuration || !f.finished.Load() {
		t.Fatalf("stop reason %q, finished %v", res.StopReason, f.finished.Load())
	}
	if res.MeasuredS < 0.39 || res.MeasuredS > 0.6 {
		t.Errorf("measured %.3fs, want about 0.4s", res.MeasuredS)
	}
	if n := len(res.Intervals); n < 4 || n > 10 {
		t.Errorf("%d intervals of 50ms in 400ms", n)
	}
	if res.Intervals[0].Backlog == nil || *res.Intervals[0].Backlog != 7 {
		t.Error("interval backlog not taken from the workload")
	}
	// Rates are measured, not assumed: total over measured time.
	want := float64(res.Totals.Published) / res.MeasuredS
	if d := res.Rates.PublishedPerS - want; d < -1 || d > 1 {
		t.Errorf("published/s %.1f, want %.1f", res.Rates.PublishedPerS, want)
	}
	if res.Latency[metrics.EndToEnd] == nil || res.Latency[metrics.EndToEnd].MaxUs != 100 {
		t.Errorf("end-to-end %+v, want every sample 100µs", res.Latency[metrics.EndToEnd])
	}
	if res.Latency[metrics.Confirm] != nil {
		t.Error("confirm latency without confirms should be null")
	}
}

// TestWarmupExcluded: totals, rates and latencies leave the warm-up out.
func TestWarmupExcluded(t *testing.T) {
	cfg, f := setup(600*time.Millisecond, 250*time.Millisecond)
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if res.MeasuredS < 0.33 || res.MeasuredS > 0.45 {
		t.Errorf("measured %.3fs, want about 0.35s", res.MeasuredS)
	}
	if got, want := res.Latency[metrics.EndToEnd].Count, f.inWindow.Load(); got != want {
		t.Errorf("%d latency samples, want the %d messages sent in the window", got, want)
	}
	// Exact: events are split by their own timestamps, not by a timer.
	if res.Totals.Published != f.inWindow.Load() {
		t.Errorf("published total %d, %d sent in the window", res.Totals.Published, f.inWindow.Load())
	}
	if !res.Intervals[0].Warmup || res.Intervals[len(res.Intervals)-1].Warmup {
		t.Error("intervals do not mark the warm-up")
	}
	// An interval that began in the warm-up is not a measured one, even
	// when it ends a little after (the warm-up timer fires late).
	for _, iv := range res.Intervals {
		began := iv.TS - iv.Seconds
		if began < 0.249 && !iv.Warmup {
			t.Errorf("interval %.3f–%.3fs straddles the warm-up's end but is labelled measured", began, iv.TS)
		}
		if began > 0.251 && iv.Warmup {
			t.Errorf("interval %.3f–%.3fs is after the warm-up but labelled warm-up", began, iv.TS)
		}
	}
}

// TestDrainIsReportedOnItsOwn: what the drain consumes is in the totals
// and in the drain's own figures; the consumption rate covers the window
// and the drain up to the last message consumed in it.
func TestDrainIsReportedOnItsOwn(t *testing.T) {
	cfg, f := setup(200*time.Millisecond, 0)
	f.drained, f.drainFor = 100, 300*time.Millisecond
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	c := *res.Totals.Consumed
	if c != res.Totals.Published+100 || res.Drain == nil || res.Drain.Consumed != 100 || res.Drain.Ended != result.DrainEmpty {
		t.Fatalf("consumed %d, want published %d + 100 drained; drain %+v", c, res.Totals.Published, res.Drain)
	}
	over := *res.Rates.ConsumedOverS
	if over < res.MeasuredS+0.29 || over > res.MeasuredS+res.Drain.Seconds+0.01 || res.Drain.ConsumingS < 0.29 {
		t.Errorf("consumption rated over %.3f s (window %.3f s, drain %+v)", over, res.MeasuredS, res.Drain)
	}
	if want := float64(c) / over; math.Abs(*res.Rates.ConsumedPerS-want) > 1 {
		t.Errorf("consumed/s %.1f, want %d over %.3f s", *res.Rates.ConsumedPerS, c, over)
	}
}

// TestSaturatedRunRatesOverTheLoad: the load stops at its duration, but a
// producer stuck in a write holds StopLoad for 600 ms and the consumers
// drain for 300 ms more. The measured window is the duration, the publish
// rate is published / duration (within 1%), and the drain — its intervals
// marked — is reported apart.
func TestSaturatedRunRatesOverTheLoad(t *testing.T) {
	cfg, f := setup(500*time.Millisecond, 0)
	f.stuck, f.drained, f.drainFor = 600*time.Millisecond, 50, 300*time.Millisecond
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.MeasuredS-0.5) > 0.005 {
		t.Fatalf("measured %.3f s, want the 0.5 s the load ran", res.MeasuredS)
	}
	want := float64(res.Totals.Published) / 0.5
	if math.Abs(res.Rates.PublishedPerS-want) > 0.01*want {
		t.Errorf("published/s %.1f, want published/duration = %.1f", res.Rates.PublishedPerS, want)
	}
	if res.Drain.Seconds < 0.85 || res.Drain.ConsumingS < 0.85 {
		t.Errorf("drain %+v: want at least the 0.9 s spent stopping and draining", res.Drain)
	}
	var drains int
	for _, iv := range res.Intervals {
		if iv.Drain {
			drains++
		} else if drains > 0 {
			t.Fatal("a load interval after a drain interval")
		}
	}
	if drains < 10 { // 0.9 s at 50 ms intervals
		t.Errorf("%d drain intervals", drains)
	}
	if res.Drain.BacklogStart == nil || *res.Drain.BacklogStart != 11 || res.Drain.BacklogEnd == nil || *res.Drain.BacklogEnd != 11 {
		t.Errorf("backlog at the load's end %v and the drain's %v: want the fresh readings (11), not the last sample (7)", res.Drain.BacklogStart, res.Drain.BacklogEnd)
	}
	if last := res.Intervals[len(res.Intervals)-1]; last.Backlog == nil || *last.Backlog != 11 {
		t.Errorf("the drain's last interval shows backlog %v, not the reading at its end", last.Backlog)
	}
}

func TestStopReasons(t *testing.T) {
	boom := errors.New("channel closed by broker")
	cases := []struct {
		name   string
		act    func(f *fake, cancel context.CancelFunc)
		reason string
		err    error
	}{
		{"message count", func(f *fake, _ context.CancelFunc) { f.events <- Event{Reason: result.StopMessageCount} }, result.StopMessageCount, nil},
		{"error", func(f *fake, _ context.CancelFunc) { f.events <- Event{Reason: result.StopError, Err: boom} }, result.StopError, boom},
		{"interrupt", func(_ *fake, cancel context.CancelFunc) { cancel() }, result.StopInterrupted, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, f := setup(0, 0) // no duration: only the event ends the run
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(100*time.Millisecond, func() { c.act(f, cancel) })
			res, err := Run(ctx, cfg, f)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if res.StopReason != c.reason || !f.finished.Load() {
				t.Fatalf("stop reason %q (finished %v), want %q", res.StopReason, f.finished.Load(), c.reason)
			}
			if c.err != nil && res.Error != c.err.Error() {
				t.Errorf("result error %q", res.Error)
			}
			if res.Totals.Published == 0 {
				t.Error("a stopped run lost what it measured")
			}
		})
	}
}
