package capacity

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/result"
)

// The answer, precisely. Only judged steps count: the unpaced probe has no
// target to hold, and a step the search was interrupted in says nothing
// about its rate. A rate failed when any judged step at it failed, in any
// phase (a failed confirmation bounds the answer as a failed bisection
// does). Among the rates below the lowest failed one, the answer is
//
//   - the highest rate that passed twice: Confirmed;
//   - else the highest rate that passed once, not Confirmed, with a Basis
//     saying why it was not repeated (confirmations failed, or the search
//     stopped: budget, interrupt, client-bound, error);
//   - else none: 0.
//
// So a failed confirmation, or a search stopped after one, never wipes out
// the steps that passed below it, and a rate is called confirmed only
// when it passed twice.

// tally is what the judged steps showed, per rate.
type tally struct {
	passes map[float64]int
	// lowFail is the lowest rate a judged step failed at (0: none) and
	// failed what failed there, in the first step that failed at it.
	lowFail float64
	failed  []string
	// confirmFails are the rates of the failed confirmations, in order.
	confirmFails []float64
}

// judged reports whether a step says anything about its rate.
func judged(st Step) bool {
	return st.Phase != PhaseProbe && (st.Result == nil || st.Result.StopReason != result.StopInterrupted)
}

func tallySteps(steps []Step) tally {
	t := tally{passes: map[float64]int{}}
	for _, st := range steps {
		switch {
		case !judged(st):
		case st.Pass:
			t.passes[st.TargetRate]++
		default:
			if t.lowFail == 0 || st.TargetRate < t.lowFail {
				t.lowFail, t.failed = st.TargetRate, st.Failed
			}
			if st.Phase == PhaseConfirm {
				t.confirmFails = append(t.confirmFails, st.TargetRate)
			}
		}
	}
	return t
}

// best is the answer's rate and how many times it passed (0, 0: none).
func (t tally) best() (rate float64, passes int) {
	for r, n := range t.passes {
		if t.lowFail > 0 && r >= t.lowFail {
			continue
		}
		twice, bestTwice := n >= 2, passes >= 2
		if (twice && !bestTwice) || (twice == bestTwice && r > rate) {
			rate, passes = r, n
		}
	}
	return rate, passes
}

// answer fills in the capacity (see above): the rate, how sure it is, what
// failed first above it and what limited it.
func (s *searcher) answer() {
	t := tallySteps(s.doc.Steps)
	best, passes := t.best()
	a := Answer{RatePerS: round1(best), Confirmed: passes >= 2, Basis: s.basis(t, passes)}
	if t.lowFail > 0 {
		first := t.lowFail
		a.FirstFailingRate, a.FailedObjectives = &first, t.failed
	}
	switch {
	case s.doc.StopReason == StopClient:
		a.LimitedBy = CheckClient
	case t.lowFail > 0:
		if len(t.failed) > 0 {
			a.LimitedBy = t.failed[0]
		}
	case best > 0 && s.probeClientBound():
		// Nothing failed up to the ceiling, and the ceiling is what
		// mqbench itself could send unpaced: the client limited it.
		a.LimitedBy = CheckClient
	case best > 0:
		a.LimitedBy = "max-rate"
	}
	s.doc.Capacity = a
}

// basis says how sure the answer is: passed twice, or passed once and why
// it was not confirmed.
func (s *searcher) basis(t tally, passes int) string {
	switch {
	case passes == 0:
		return "no rate passed"
	case passes == 2:
		return "passed twice (confirmed)"
	case passes > 2:
		return fmt.Sprintf("passed %d times (confirmed)", passes)
	}
	var why []string
	if n := len(t.confirmFails); n > 0 {
		rates := make([]string, n)
		for i, r := range t.confirmFails {
			rates[i] = strconv.FormatFloat(round1(r), 'f', -1, 64)
		}
		plural := "s"
		if n == 1 {
			plural = ""
		}
		why = append(why, fmt.Sprintf("%d confirmation%s failed (at %s/s)", n, plural, strings.Join(rates, ", ")))
	}
	if s.doc.StopReason != StopCompleted {
		why = append(why, fmt.Sprintf("the search stopped (%s) before a repeat passed", s.doc.StopReason))
	}
	if len(why) == 0 {
		why = append(why, "it was not repeated")
	}
	return "passed once, not confirmed: " + strings.Join(why, ", then ")
}

// probeClientBound reports whether the unpaced probe that set the ceiling
// used most of the client's cores (a probe is not judged, so this is not
// in its verdict).
func (s *searcher) probeClientBound() bool {
	for _, st := range s.doc.Steps {
		if st.Phase == PhaseProbe && st.Result != nil {
			return result.ClientBound(st.Result.Client.Cores, st.Result.Client.CoresAvailable)
		}
	}
	return false
}
