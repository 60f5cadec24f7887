package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/result"
)

func backlogs(vals ...int64) []result.Interval {
	out := make([]result.Interval, len(vals))
	for i, v := range vals {
		v := v
		out[i] = result.Interval{Seconds: 1, Backlog: &v}
	}
	return out
}

func TestWarnings(t *testing.T) {
	rate := 500.0
	cases := []struct {
		name string
		res  result.Result
		want []string // substrings, one per expected warning
	}{
		{"quiet run", result.Result{Client: result.Client{Cores: 0.4, CoresAvailable: 2}, Intervals: backlogs(0, 5, 0, 3)}, nil},
		{"client-bound", result.Result{Client: result.Client{Cores: 1.6, CoresAvailable: 2}}, []string{"client-bound"}},
		{"just below client-bound", result.Result{Client: result.Client{Cores: 1.49, CoresAvailable: 2}}, nil},
		{"growing backlog", result.Result{Rates: result.Rates{ConsumedPerS: &rate}, Intervals: backlogs(100, 2000, 4000, 5000, 9000)},
			[]string{"backlog grew from 100 to 9000"}},
		{"backlog that recovers", result.Result{Rates: result.Rates{ConsumedPerS: &rate}, Intervals: backlogs(100, 5000, 100, 5000, 100)}, nil},
		{"small growth", result.Result{Rates: result.Rates{ConsumedPerS: &rate}, Intervals: backlogs(1, 2, 3, 4, 5)}, nil},
		{"drain timed out with a backlog", result.Result{Drain: &result.Drain{Seconds: 10, Ended: result.DrainTimeout, BacklogEnd: ptr(int64(1234)), Consumed: 99}},
			[]string{"the drain timed out after 10.0 s with 1234 messages still waiting (99 consumed"}},
		{"drain timed out, nothing left", result.Result{Drain: &result.Drain{Seconds: 10, Ended: result.DrainTimeout, BacklogEnd: ptr(int64(0))}}, nil},
		{"drain intervals are not the load's", result.Result{Rates: result.Rates{ConsumedPerS: &rate},
			Intervals: append(backlogs(100, 2000, 4000, 5000, 9000), result.Interval{Seconds: 1, Drain: true, Backlog: ptr(int64(0))})},
			[]string{"backlog grew from 100 to 9000"}},
		{"blocked", result.Result{Faults: result.Faults{Blocked: []result.Blocked{{Reason: "low on memory", Start: time.Now()}}}},
			[]string{"blocked publishing connections 1 time(s) (low on memory)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Warnings(&c.res)
			if len(got) != len(c.want) {
				t.Fatalf("warnings %q, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q does not say %q", got[i], w)
				}
			}
		})
	}
}
