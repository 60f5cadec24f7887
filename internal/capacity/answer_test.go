package capacity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// script runs the fake system and lets a test spoil chosen steps: alter
// sees each step's phase, how many steps of that phase ran before it, and
// its result. The phase comes from the search's own progress report, so
// the script never guesses which step is which.
type script struct {
	f      *fake
	phase  string
	seen   map[string]int
	cancel context.CancelFunc
	// over, once set, moves the clock past any budget.
	over  bool
	alter func(s *script, phase string, n int, r *result.Result)
}

func (s *script) run(ctx context.Context, sc scenario.Scenario) (*result.Result, error) {
	r, err := s.f.run(ctx, sc)
	if s.alter != nil {
		s.alter(s, s.phase, s.seen[s.phase]-1, r)
	}
	return r, err
}

// searchScript runs a search over the fake system (capacity 1,000/s) from
// 100/s to 100,000/s at 5% precision: bracketing passes 100 to 800 and
// fails 1,600, bisection ends with 1,000 passing, so the first
// confirmation is at 1,000/s.
func searchScript(t *testing.T, alter func(s *script, phase string, n int, r *result.Result)) *Doc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &script{f: &fake{capacity: 1000, clientMax: 1e12}, seen: map[string]int{}, cancel: cancel, alter: alter}
	start := time.Unix(0, 0)
	cfg := Config{Base: scenario.Default(), Step: time.Second, MinRate: 100, MaxRate: 100_000, Precision: 0.05,
		Budget: time.Hour, Run: s.run,
		Now: func() time.Time {
			if s.over {
				return start.Add(2 * time.Hour)
			}
			return start
		},
		Progress: func(_ int, phase string, _ float64, _, _ time.Duration) { s.phase = phase; s.seen[phase]++ }}
	doc, err := Search(ctx, withKinds(cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range doc.Steps {
		t.Logf("%-8s %7.1f/s pass %-5v %v", st.Phase, st.TargetRate, st.Pass, st.Reasons)
	}
	return doc
}

// fallBehind makes a step's consumers fall 100 msg/s behind: the backlog
// climbs and consumption lags publishing.
func fallBehind(r *result.Result) {
	var b int64
	for i := range r.Intervals {
		b += 100
		v := b
		r.Intervals[i].Backlog = &v
		r.Intervals[i].Consumed = r.Intervals[i].Published - 100
	}
}

// passesAt counts the passing steps at a rate (as the capacity rounds it).
func passesAt(d *Doc, rate float64) int {
	n := 0
	for _, st := range d.Steps {
		if st.Pass && st.Phase != PhaseProbe && round1(st.TargetRate) == rate {
			n++
		}
	}
	return n
}

// TestFailedConfirmationsKeepTheAnswer: every path after a failed
// confirmation still answers with the highest rate below every failure
// that passed (here bracketing's 800/s, once), says it is not confirmed,
// and keeps what failed first.
func TestFailedConfirmationsKeepTheAnswer(t *testing.T) {
	cases := []struct {
		name  string
		stop  string
		alter func(s *script, phase string, n int, r *result.Result)
		basis string
	}{
		{"all confirmations fail", StopCompleted, func(_ *script, phase string, _ int, r *result.Result) {
			if phase == PhaseConfirm {
				fallBehind(r)
			}
		}, "3 confirmations failed"},
		{"failure then budget", StopBudget, func(s *script, phase string, _ int, r *result.Result) {
			if phase == PhaseConfirm {
				fallBehind(r)
				s.over = true
			}
		}, "the search stopped (budget)"},
		{"failure then interrupt", StopInterrupted, func(s *script, phase string, n int, r *result.Result) {
			switch {
			case phase == PhaseConfirm && n == 0:
				fallBehind(r)
			case phase == PhaseConfirm:
				s.cancel()
				r.StopReason, r.Error = result.StopInterrupted, "interrupted"
			}
		}, "the search stopped (interrupted)"},
		{"failure then client-bound", StopClient, func(_ *script, phase string, n int, r *result.Result) {
			switch {
			case phase == PhaseConfirm && n == 0:
				fallBehind(r)
			case phase == PhaseConfirm:
				r.Client.Cores = 1.9
			}
		}, "the search stopped (client-bound)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := searchScript(t, c.alter)
			a := doc.Capacity
			if doc.StopReason != c.stop || a.RatePerS != 800 {
				t.Fatalf("stop %s, capacity %.1f: want %s and 800/s (the highest rate below every failure that passed)", doc.StopReason, a.RatePerS, c.stop)
			}
			if a.FirstFailingRate == nil || *a.FirstFailingRate <= 800 || len(a.FailedObjectives) == 0 {
				t.Errorf("answer %+v: want what failed first above 800/s", a)
			}
			if c.stop == StopClient && a.LimitedBy != CheckClient {
				t.Errorf("limited by %q: want the client", a.LimitedBy)
			}
			if a.Confirmed || !strings.Contains(a.Basis, "passed once") || !strings.Contains(a.Basis, c.basis) {
				t.Errorf("confirmed %v, basis %q: want passed once, %q", a.Confirmed, a.Basis, c.basis)
			}
		})
	}
}

// TestRetryIsConfirmedTwice: after a failed confirmation, the lower rate
// is reported as confirmed only once it passed twice.
func TestRetryIsConfirmedTwice(t *testing.T) {
	doc := searchScript(t, func(_ *script, phase string, n int, r *result.Result) {
		if phase == PhaseConfirm && n == 0 {
			fallBehind(r)
		}
	})
	a := doc.Capacity
	if a.RatePerS != 950 || passesAt(doc, 950) != 2 {
		t.Fatalf("capacity %.1f with %d passing steps there: want 950/s passed twice", a.RatePerS, passesAt(doc, a.RatePerS))
	}
	if !a.Confirmed || !strings.Contains(a.Basis, "passed twice") {
		t.Errorf("confirmed %v, basis %q", a.Confirmed, a.Basis)
	}
	if a.FirstFailingRate == nil || *a.FirstFailingRate != 1000 {
		t.Errorf("first failing %v: want the failed confirmation at 1000/s", a.FirstFailingRate)
	}
}

// TestRetryPassingOnceIsNotConfirmed: a lower rate that passed once before
// the budget ran out is the answer, said to have passed once.
func TestRetryPassingOnceIsNotConfirmed(t *testing.T) {
	doc := searchScript(t, func(s *script, phase string, n int, r *result.Result) {
		switch {
		case phase == PhaseConfirm && n == 0:
			fallBehind(r)
		case phase == PhaseConfirm:
			s.over = true // the budget is gone after this step
		}
	})
	a := doc.Capacity
	if a.RatePerS != 950 || a.Confirmed || !strings.Contains(a.Basis, "passed once") {
		t.Fatalf("answer %+v: want 950/s, passed once, not confirmed", a)
	}
}
