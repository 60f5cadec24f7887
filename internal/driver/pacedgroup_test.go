package driver

import (
	"math"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/pace"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

func TestPacedGroups(t *testing.T) {
	a, b := &amqpconn.Conn{}, &amqpconn.Conn{}
	mk := func(n int, cn *amqpconn.Conn, s *pace.Schedule) []*producer {
		ps := make([]*producer, n)
		for i := range ps {
			ps[i] = &producer{id: i, cn: cn, schedule: s}
		}
		return ps
	}
	cat := func(lists ...[]*producer) (out []*producer) {
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		ps     []*producer
		alone  int
		groups []int // sizes, in order
	}{
		{"unpaced: each alone", mk(10, a, nil), 10, nil},
		{"too fast to share: alone", mk(10, a, pace.Constant(600)), 10, nil},
		{"slow, one connection: one group", mk(25, a, pace.Constant(1)), 0, []int{25}},
		{"slow, two connections: a group each", cat(mk(3, a, pace.Constant(10)), mk(4, b, pace.Constant(10))), 0, []int{3, 4}},
		{"chunked at pacedGroupRate", mk(25, a, pace.Constant(100)), 0, []int{10, 10, 5}},
		{"a chunk of one runs alone", mk(11, a, pace.Constant(100)), 1, []int{10}},
		{"a ramp is judged by its peak", mk(4, a, pace.New([]pace.Segment{{From: 1, To: 400, For: time.Minute}})), 0, []int{2, 2}},
		{"a schedule that only pauses: alone", mk(3, a, pace.Constant(0)), 3, nil},
		{"a confirm window of 100 ms at the rate: shared", withWindow(mk(4, a, pace.Constant(100)), 10), 0, []int{4}},
		{"a confirm window shorter than 100 ms: alone", withWindow(mk(4, a, pace.Constant(100)), 9), 4, nil},
	} {
		alone, groups := pacedGroups(c.ps)
		var sizes []int
		seen := map[*producer]bool{}
		for _, g := range groups {
			sizes = append(sizes, len(g))
			for _, p := range g {
				if seen[p] || p.cn != g[0].cn {
					t.Errorf("%s: producer %d twice, or in a group of another connection", c.name, p.id)
				}
				seen[p] = true
			}
		}
		for _, p := range alone {
			if seen[p] {
				t.Errorf("%s: producer %d both alone and grouped", c.name, p.id)
			}
			seen[p] = true
		}
		if len(alone) != c.alone || len(seen) != len(c.ps) || !equalInts(sizes, c.groups) {
			t.Errorf("%s: %d alone, groups %v (%d producers placed), want %d alone, groups %v", c.name, len(alone), sizes, len(seen), c.alone, c.groups)
		}
	}
}

func withWindow(ps []*producer, window int) []*producer {
	for _, p := range ps {
		p.window = window
	}
	return ps
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPacedGroupKeepsEachProducersSchedule: 40 producers at 20 msg/s with
// confirms, on two connections, share two goroutines. Each still keeps
// its own schedule (the rate is 40 × 20 within 2%), its own confirm
// window (confirms are timed on arrival, not when the group next wakes:
// the p50 is far below the 50 ms between one producer's messages), and
// its own message limit: with 30 each the run stops by message count
// after about 1.5 s, every message accounted for by the broker's
// deliveries.
func TestPacedGroupKeepsEachProducersSchedule(t *testing.T) {
	base := func() scenario.Scenario {
		sc := scenario.Default()
		sc.Producers = scenario.Producers{Count: 40, Connections: 2, Rate: 20, Confirm: 10,
			StartJitter: scenario.Duration(50 * time.Millisecond)}
		sc.Consumers = scenario.Consumers{Count: 2, Ack: scenario.AckManual}
		sc.Queues = []scenario.Queue{{Name: "mqbench-paced-group"}}
		own(t, &sc)
		return sc
	}
	t.Run("rate and confirms", func(t *testing.T) {
		sc := base()
		sc.Duration = scenario.Duration(4 * time.Second)
		res := runOK(t, sc)
		if got := res.Rates.PublishedPerS; math.Abs(got-800) > 16 {
			t.Errorf("published %.1f msg/s, want 40 × 20 = 800 ± 2%%", got)
		}
		conf := res.Latency[metrics.Confirm]
		if conf == nil || conf.Count < 2500 {
			t.Fatalf("confirm latency %+v: not measured for every message", conf)
		}
		if conf.P50Us > 50_000/4 {
			t.Errorf("confirm p50 %dµs: near the 50 ms between a producer's messages, not the broker's answer", conf.P50Us)
		}
		if res.Audit == nil || !res.Audit.Balanced || res.Audit.Total.Lost != 0 {
			t.Errorf("audit %+v", res.Audit)
		}
	})
	t.Run("message limit", func(t *testing.T) {
		sc := base()
		sc.Duration = scenario.Duration(30 * time.Second)
		sc.Producers.Messages = 40 * 30
		res := runOK(t, sc)
		if res.StopReason != result.StopMessageCount {
			t.Fatalf("stop %s after %.2fs, want message count", res.StopReason, res.MeasuredS)
		}
		if res.Totals.Published != 1200 || res.Audit == nil || res.Audit.Total.Consumed != 1200 || !res.Audit.Balanced {
			t.Errorf("published %d, audit %+v: want 1,200 published and consumed", res.Totals.Published, res.Audit)
		}
		if res.MeasuredS < 1.3 || res.MeasuredS > 3 {
			t.Errorf("measured %.2fs: 30 messages at 20/s take about 1.5 s", res.MeasuredS)
		}
	})
}
