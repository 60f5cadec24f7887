package result

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// iv is an interval ending at ts, secs long, publishing n; warm-up when w.
func iv(ts, secs float64, n int64, w bool) Interval {
	return Interval{TS: ts, Seconds: secs, Published: n, Warmup: w}
}

// describe is each folded interval as "t_s/seconds/published[w]".
func describe(ivs []Interval) string {
	var parts []string
	for _, v := range ivs {
		s := fmt.Sprintf("%g/%g/%d", v.TS, v.Seconds, v.Published)
		if v.Warmup {
			s += "w"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// TestFold: the rule, case by case; every message stays counted once.
func TestFold(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Interval
		want string
	}{
		{"nothing short", []Interval{iv(1, 1, 10, true), iv(2, 1, 10, false), iv(3, 1, 10, false)},
			"1/1/10w 2/1/10 3/1/10"},
		{"measured ms after the warm-up folds forward", []Interval{iv(1, 1, 10, true), iv(2, 1, 10, true), iv(2.001, 0.001, 1, false), iv(3, 0.999, 10, false)},
			"1/1/10w 2/1/10w 3/1/11"},
		{"warm-up ms folds back", []Interval{iv(1, 1, 10, true), iv(2.001, 0.001, 1, true), iv(3, 0.999, 10, false)},
			"2.001/1.001/11w 3/0.999/10"},
		{"the run's short last interval folds back", []Interval{iv(1, 1, 10, false), iv(2, 1, 10, false), iv(2.02, 0.02, 1, false)},
			"1/1/10 2.02/1.02/11"},
		{"half an interval is not short", []Interval{iv(1, 1, 10, false), iv(1.5, 0.5, 5, false)},
			"1/1/10 1.5/0.5/5"},
		{"a short interval alone in its phase stays", []Interval{iv(1, 1, 10, true), iv(1.001, 0.001, 1, false)},
			"1/1/10w 1.001/0.001/1"},
		{"shorts in a row fold together and on", []Interval{iv(1, 1, 10, true), iv(1.1, 0.1, 1, false), iv(1.2, 0.1, 1, false), iv(2, 0.8, 8, false)},
			"1/1/10w 2/1/10"},
		{"warm-up ending mid-interval: each phase keeps its part", []Interval{iv(1, 1, 10, true), iv(2, 1, 10, true), iv(2.3, 0.3, 3, true), iv(3, 0.7, 7, false)},
			"1/1/10w 2.3/1.3/13w 3/0.7/7"},
		{"one interval", []Interval{iv(0.2, 0.2, 2, false)}, "0.2/0.2/2"},
		{"none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Fold(tc.in, time.Second)
			if s := describe(got); s != tc.want {
				t.Errorf("folded %s\nwant   %s", s, tc.want)
			}
			var in, out int64
			for _, v := range tc.in {
				in += v.Published
			}
			for _, v := range got {
				out += v.Published
			}
			if in != out {
				t.Errorf("%d published before folding, %d after", in, out)
			}
		})
	}
}

// TestFoldKeepsPhasesApart: a short interval at a phase boundary of a
// phased run folds within its phase, never into the next.
func TestFoldKeepsPhasesApart(t *testing.T) {
	in := []Interval{
		{TS: 1, Seconds: 1, Published: 10, Phase: "fill"}, {TS: 1.2, Seconds: 0.2, Published: 2, Phase: "fill"},
		{TS: 1.25, Seconds: 0.05, Published: 1, Phase: "drain"}, {TS: 2.25, Seconds: 1, Published: 3, Phase: "drain"},
	}
	got := Fold(in, time.Second)
	if len(got) != 2 || got[0].Phase != "fill" || got[0].Published != 12 || got[0].TS != 1.2 ||
		got[1].Phase != "drain" || got[1].Published != 4 || got[1].TS != 2.25 {
		t.Errorf("folded %+v", got)
	}
}

// TestFoldSpans: each folded interval says which intervals it combines,
// and the streaming Folder (the live CSV) gives what Fold gives.
func TestFoldSpans(t *testing.T) {
	in := []Interval{iv(1, 1, 10, true), iv(2, 1, 10, true), iv(2.001, 0.001, 1, false), iv(3, 0.999, 10, false), iv(4, 1, 10, false), iv(4.01, 0.01, 1, false)}
	spans := FoldSpans(in, time.Second)
	var got []string
	for _, s := range spans {
		got = append(got, fmt.Sprintf("%d-%d", s.From, s.To))
	}
	if s := strings.Join(got, " "); s != "0-1 1-2 2-4 4-6" {
		t.Errorf("spans %s, want 0-1 1-2 2-4 4-6", s)
	}
	f := NewFolder(time.Second)
	var streamed []Interval
	for _, v := range in {
		if done, ok := f.Add(v); ok {
			streamed = append(streamed, done.Interval)
		}
	}
	if done, ok := f.Flush(); ok {
		streamed = append(streamed, done.Interval)
	}
	if a, b := describe(streamed), describe(Fold(in, time.Second)); a != b {
		t.Errorf("streamed %s, Fold %s", a, b)
	}
}

// TestFoldCombines: counts add up; the CPU is averaged over the time; what
// is sampled at the end is the later part's; percentiles are the longer
// part's (no histograms to merge), the other's where it has none; the
// parts' histograms are left out.
func TestFoldCombines(t *testing.T) {
	p := func(n int64) *int64 { return &n }
	long := Interval{TS: 1, Seconds: 1, Published: 100, Confirmed: 90, Consumed: 80, Returned: 2, Nacked: 1, CPUCores: 0.5,
		E2EP50Us: p(100), E2EP99Us: p(200), Backlog: p(7), Blocked: 1, RPCReplies: p(5), HDR: map[string]string{"end_to_end": "x"}}
	short := Interval{TS: 1.01, Seconds: 0.01, Published: 1, Confirmed: 1, Consumed: 1, CPUCores: 2, E2EP50Us: p(9000), E2EP99Us: p(9000),
		ConfirmP99Us: p(50), Backlog: p(3), RPCReplies: p(1)}
	got := Fold([]Interval{long, short}, time.Second)
	if len(got) != 1 {
		t.Fatalf("%d intervals, want 1", len(got))
	}
	c := got[0]
	switch {
	case c.TS != 1.01 || c.Seconds != 1.01:
		t.Errorf("t_s %g seconds %g, want 1.01 and 1.01", c.TS, c.Seconds)
	case c.Published != 101 || c.Confirmed != 91 || c.Consumed != 81 || c.Returned != 2 || c.Nacked != 1 || *c.RPCReplies != 6:
		t.Errorf("counts %+v", c)
	case c.CPUCores != 0.515: // (0.5 × 1 + 2 × 0.01) / 1.01
		t.Errorf("cpu %g cores, want 0.515", c.CPUCores)
	case *c.Backlog != 3 || c.Blocked != 0:
		t.Errorf("backlog %d blocked %d, want the later part's 3 and 0", *c.Backlog, c.Blocked)
	case *c.E2EP50Us != 100 || *c.E2EP99Us != 200 || c.ConfirmP99Us == nil || *c.ConfirmP99Us != 50:
		t.Errorf("percentiles e2e %d/%d confirm %v", *c.E2EP50Us, *c.E2EP99Us, c.ConfirmP99Us)
	case c.HDR != nil:
		t.Errorf("hdr %v, want none (the parts' are merged by who has them)", c.HDR)
	case c.RPCRequests != nil:
		t.Error("rpc_requests became a count though no part had one")
	}
}

// TestFoldWithoutInterval: a run whose interval is unknown is shown as it
// is.
func TestFoldWithoutInterval(t *testing.T) {
	in := []Interval{iv(1, 1, 10, false), iv(1.001, 0.001, 1, false)}
	if got := describe(Fold(in, 0)); got != "1/1/10 1.001/0.001/1" {
		t.Errorf("folded %s", got)
	}
}
