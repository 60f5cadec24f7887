package result

import (
	"time"
)

// Folding short intervals. A run's intervals end on the ticker's beat,
// but some ticks are the timeline's own: the end of the warm-up and the
// end of the run. When one of those falls next to a beat, an interval of a
// few milliseconds results (the warm-up timer and the ticker firing
// together), whose rates are noise (one message in 1 ms is 1,000/s) and
// which shifts every later interval by one place against a run that did
// not keep one. Charts, the CSV and merge therefore show a run's
// intervals folded, all by this one rule:
//
//   - an interval shorter than half the run's interval is folded into a
//     neighbour: the one before it when that is of the same phase, else
//     the one after it when that is (a fold goes on while the result is
//     still short);
//   - a fold never crosses a phase boundary: warm-up is never folded into
//     measured time, nor measured time into warm-up (see samePhase), so a
//     short interval alone in its phase stays as it is.
//
// Folding needs the interval after, so a Folder hands each folded interval
// on one interval late.

// Folded is one interval as charts, the CSV and merge show it: the run's
// intervals at positions [From, To) (in the order they were added)
// combined into Interval.
type Folded struct {
	Interval
	From, To int
}

// Folder folds a run's intervals as they come (the live CSV) or all at
// once (Fold): the same rule either way.
type Folder struct {
	half float64 // seconds; an interval shorter than this folds (0: none does)
	held Folded
	has  bool
	n    int // intervals added so far
}

// NewFolder folds the intervals of a run whose interval is every; with
// every <= 0 nothing is folded (nothing says what is short).
func NewFolder(every time.Duration) *Folder {
	return &Folder{half: every.Seconds() / 2}
}

// Add takes the run's next interval and returns the folded interval before
// it, once nothing later can fold into that one (false: none is complete
// yet).
func (f *Folder) Add(iv Interval) (Folded, bool) {
	pos := f.n
	f.n++
	next := Folded{Interval: iv, From: pos, To: pos + 1}
	if !f.has {
		f.held, f.has = next, true
		return Folded{}, false
	}
	if samePhase(f.held.Interval, iv) && (f.short(f.held.Interval) || f.short(iv)) {
		f.held.Interval = combine(f.held.Interval, iv)
		f.held.To = pos + 1
		return Folded{}, false
	}
	done := f.held
	f.held = next
	return done, true
}

// Flush returns the last folded interval, after the run's last interval
// was added (false: there was none).
func (f *Folder) Flush() (Folded, bool) {
	done, ok := f.held, f.has
	f.held, f.has = Folded{}, false
	return done, ok
}

func (f *Folder) short(iv Interval) bool { return iv.Seconds < f.half }

// FoldSpans folds a run's intervals (its interval every) and says which
// of them each folded one combines.
func FoldSpans(ivs []Interval, every time.Duration) []Folded {
	f := NewFolder(every)
	out := make([]Folded, 0, len(ivs))
	for _, iv := range ivs {
		if done, ok := f.Add(iv); ok {
			out = append(out, done)
		}
	}
	if done, ok := f.Flush(); ok {
		out = append(out, done)
	}
	return out
}

// Fold folds a run's intervals (its interval every), as charts and the
// CSV show them.
func Fold(ivs []Interval, every time.Duration) []Interval {
	spans := FoldSpans(ivs, every)
	out := make([]Interval, len(spans))
	for i, s := range spans {
		out[i] = s.Interval
	}
	return out
}

// samePhase reports whether two intervals belong to one phase of the run.
// The phase is every flag that marks intervals excluded from the measured
// figures (the warm-up, the drain after the load stopped) and the phase
// of a phased run: a flag added later for another such stretch must be
// compared here too, so that no fold ever mixes excluded time into
// measured time, nor one phase's time into another's.
func samePhase(a, b Interval) bool {
	return a.Warmup == b.Warmup && a.Drain == b.Drain && a.Phase == b.Phase
}

// combine is a then b as one interval. Counts add up; the CPU is averaged
// over the time; what is sampled at an interval's end (backlog, blocked
// connections, disconnected workers, the broker's sample) is b's, a's
// where b has none. Percentiles cannot be combined without histograms:
// the longer part's stand (the short part is a sliver of the time), the
// other's where it has none. The histograms (hdr) are left out: they are
// the parts', and a caller that has the parts merges them (merge does).
func combine(a, b Interval) Interval {
	out := b
	out.HDR = nil
	out.Seconds = Round3(a.Seconds + b.Seconds)
	out.Published += a.Published
	out.Confirmed += a.Confirmed
	out.Consumed += a.Consumed
	out.Returned += a.Returned
	out.Nacked += a.Nacked
	out.RPCRequests = sumPtr(a.RPCRequests, b.RPCRequests)
	out.RPCReplies = sumPtr(a.RPCReplies, b.RPCReplies)
	out.RPCTimeouts = sumPtr(a.RPCTimeouts, b.RPCTimeouts)
	if t := a.Seconds + b.Seconds; t > 0 {
		out.CPUCores = Round3((a.CPUCores*a.Seconds + b.CPUCores*b.Seconds) / t)
	}
	if out.Backlog == nil {
		out.Backlog, out.BacklogParts = a.Backlog, a.BacklogParts
	}
	if out.Broker == nil {
		out.Broker = a.Broker
	}
	long, other := b, a
	if a.Seconds > b.Seconds {
		long, other = a, b
	}
	pick := func(l, o [2]*int64) [2]*int64 {
		if l[0] == nil && l[1] == nil {
			return o
		}
		return l
	}
	e2e := pick([2]*int64{long.E2EP50Us, long.E2EP99Us}, [2]*int64{other.E2EP50Us, other.E2EP99Us})
	out.E2EP50Us, out.E2EP99Us = e2e[0], e2e[1]
	conf := pick([2]*int64{long.ConfirmP99Us}, [2]*int64{other.ConfirmP99Us})
	out.ConfirmP99Us = conf[0]
	rpc := pick([2]*int64{long.RPCP50Us, long.RPCP99Us}, [2]*int64{other.RPCP50Us, other.RPCP99Us})
	out.RPCP50Us, out.RPCP99Us = rpc[0], rpc[1]
	return out
}

// sumPtr adds two optional counts: null only when both are.
func sumPtr(a, b *int64) *int64 {
	if a == nil && b == nil {
		return nil
	}
	var n int64
	for _, p := range []*int64{a, b} {
		if p != nil {
			n += *p
		}
	}
	return &n
}
