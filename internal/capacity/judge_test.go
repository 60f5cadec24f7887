package capacity

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// stepRun is a step of ten measured one-second intervals after two of
// warm-up (whose backlog is unknown, as before the first sample): each
// measured interval publishes pub, consumes con, and has backlog(i).
func stepRun(sc scenario.Scenario, queues []result.Queue, pub, con int64, backlog func(i int) *int64) *result.Result {
	r := &result.Result{StopReason: result.StopDuration, MeasuredS: 10, Scenario: sc, Queues: queues,
		Client: result.Client{Cores: 0.5, CoresAvailable: 2}}
	r.Rates.PublishedPerS = float64(pub)
	r.Totals.Published = 10 * pub
	for i := 0; i < 2; i++ {
		r.Intervals = append(r.Intervals, result.Interval{TS: float64(i + 1), Seconds: 1, Warmup: true, Published: pub, Consumed: con})
	}
	for i := 0; i < 10; i++ {
		r.Intervals = append(r.Intervals, result.Interval{TS: float64(i + 3), Seconds: 1, Published: pub, Consumed: con, Backlog: backlog(i)})
	}
	return r
}

func flat(int) *int64 { v := int64(0); return &v }

func workQueue() (scenario.Scenario, []result.Queue) {
	return scenario.Default(), []result.Queue{{Name: "q", Type: scenario.QueueClassic, Consumers: 2}}
}

func failedOf(v Verdict) string { return strings.Join(v.Failed, ",") }

// TestJudgeNeedsBacklogSamples: a step whose backlog was not seen enough
// cannot be judged, and fails saying so: fewer than three samples, or
// measured intervals whose backlog is unknown (not zero).
func TestJudgeNeedsBacklogSamples(t *testing.T) {
	sc, qs := workQueue()
	cases := []struct {
		name    string
		backlog func(i int) *int64
		why     string
	}{
		{"two samples", func(i int) *int64 {
			if i < 8 {
				return nil
			}
			return flat(i)
		}, "2 backlog samples"},
		{"none", func(int) *int64 { return nil }, "0 backlog samples"},
		{"unknown at the end", func(i int) *int64 {
			if i >= 7 {
				return nil
			}
			return flat(i)
		}, "unknown in 3 of 10"},
		{"one unknown", func(i int) *int64 {
			if i == 4 {
				return nil
			}
			return flat(i)
		}, "unknown in 1 of 10"},
	}
	for _, c := range cases {
		v := Judge(stepRun(sc, qs, 500, 500, c.backlog), 500, loadOf("producer"), nil, 0)
		if v.Pass || failedOf(v) != CheckSamples || !strings.Contains(strings.Join(v.Reasons, ";"), c.why) {
			t.Errorf("%s: %+v: want to fail %s, saying %q", c.name, v, CheckSamples, c.why)
		}
	}
	if v := Judge(stepRun(sc, qs, 500, 500, flat), 500, loadOf("producer"), nil, 0); !v.Pass {
		t.Errorf("ten flat samples and everything consumed: %+v", v)
	}
}

// TestJudgeConsumedAgainstPublished: consumers that fall behind fail the
// step even when the backlog looks flat (a blind figure, as stream queues
// gave) or is unknown; what each message owes the consumers follows the
// routing: one queue per message on the default exchange, every queue on
// a fanout, every reader of a stream.
func TestJudgeConsumedAgainstPublished(t *testing.T) {
	sc, qs := workQueue()
	fanout := scenario.Default()
	fanout.Exchange = scenario.Exchange{Name: "x", Type: scenario.ExchangeFanout}
	three := []result.Queue{{Name: "a", Consumers: 1}, {Name: "b", Consumers: 2}, {Name: "c", Consumers: 1}}
	stream := scenario.Default()
	stream.Queues = []scenario.Queue{{Name: "s", Count: 1, Type: scenario.QueueStream}}
	readers := []result.Queue{{Name: "s", Type: scenario.QueueStream, Consumers: 2}}
	unknown := func(int) *int64 { return nil }
	cases := []struct {
		name   string
		sc     scenario.Scenario
		qs     []result.Queue
		con    int64
		blog   func(int) *int64
		failed string
	}{
		{"kept up", sc, qs, 1000, flat, ""},
		{"within 2%", sc, qs, 985, flat, ""},
		{"behind, backlog blind", sc, qs, 800, flat, CheckConsumed},
		{"behind, backlog unknown", sc, qs, 800, unknown, CheckConsumed + "," + CheckSamples},
		{"fanout kept up", fanout, three, 3000, flat, ""},
		{"fanout behind", fanout, three, 2000, flat, CheckConsumed},
		{"stream readers kept up", stream, readers, 2000, flat, ""},
		{"stream readers behind", stream, readers, 1000, flat, CheckConsumed},
		{"no consumers", sc, []result.Queue{{Name: "q"}}, 0, flat, ""},
	}
	for _, c := range cases {
		v := Judge(stepRun(c.sc, c.qs, 1000, c.con, c.blog), 1000, loadOf("producer"), nil, 0)
		if failedOf(v) != c.failed {
			t.Errorf("%s: failed %q (%v), want %q", c.name, failedOf(v), v.Reasons, c.failed)
		}
	}
}

// TestJudgeConsumedRidesOutAHiccup: in a short step (ten intervals of
// 150 ms at 200 msg/s) consumers that kept up but were 40 ms slower at the
// window's end (8 deliveries late) pass, as the fitted line sees it;
// consumers steadily 3% short fail.
func TestJudgeConsumedRidesOutAHiccup(t *testing.T) {
	sc, qs := workQueue()
	short := func(con func(i int) int64) *result.Result {
		r := stepRun(sc, qs, 0, 0, flat)
		for i := 2; i < len(r.Intervals); i++ {
			iv := &r.Intervals[i]
			iv.TS, iv.Seconds, iv.Published, iv.Consumed = 0.3+0.15*float64(i-1), 0.15, 30, con(i-2)
		}
		r.MeasuredS, r.Rates.PublishedPerS = 1.5, 200
		return r
	}
	hiccup := short(func(i int) int64 {
		if i == 9 {
			return 22
		}
		return 30
	})
	if v := Judge(hiccup, 200, loadOf("producer"), nil, 0); !v.Pass {
		t.Errorf("a hiccup at the end failed the step: %v", v.Reasons)
	}
	if v := Judge(short(func(int) int64 { return 29 }), 200, loadOf("producer"), nil, 0); failedOf(v) != CheckConsumed {
		t.Errorf("steadily 3%% short: failed %q (%v), want %s", failedOf(v), v.Reasons, CheckConsumed)
	}
}

// TestJudgeConsumedUnknownRouting: when the routing does not say how many
// queues a message reaches, the consumed check is not made, and the
// verdict says so instead of guessing.
func TestJudgeConsumedUnknownRouting(t *testing.T) {
	sc := scenario.Default()
	sc.Exchange = scenario.Exchange{Name: "x", Type: scenario.ExchangeTopic}
	sc.Queues[0].Bindings = []scenario.Binding{{Key: "orders.*"}}
	v := Judge(stepRun(sc, []result.Queue{{Name: "q", Consumers: 1}}, 1000, 500, flat), 1000, loadOf("producer"), nil, 0)
	if !v.Pass || len(v.Notes) != 1 || !strings.Contains(v.Notes[0], "not checked") {
		t.Fatalf("%+v: want a pass with a note that consumption was not checked", v)
	}
}

// TestJudgeRPCRepliesAgainstRequests: RPC servers that fall behind leave
// requests unanswered: fewer replies than requests fail the step.
func TestJudgeRPCRepliesAgainstRequests(t *testing.T) {
	sc := scenario.Default()
	sc.Producers.Count, sc.Consumers.Count, sc.RPC.Clients, sc.RPC.Servers = 0, 0, 2, 2
	qs := []result.Queue{{Name: "rpc", Consumers: 2, RPC: true}}
	for _, c := range []struct {
		replies int64
		failed  string
	}{{495, ""}, {400, CheckConsumed}} {
		r := stepRun(sc, qs, 0, 0, flat)
		rate := 500.0
		r.Rates.RPCRequestsPerS = &rate
		for i := range r.Intervals {
			req, rep := int64(500), c.replies
			r.Intervals[i].RPCRequests, r.Intervals[i].RPCReplies = &req, &rep
		}
		if v := Judge(r, 500, loadOf("rpc_client"), nil, 0); failedOf(v) != c.failed {
			t.Errorf("%d replies a second to 500 requests: failed %q (%v), want %q", c.replies, failedOf(v), v.Reasons, c.failed)
		}
	}
}

// TestJudgeRPCBacklogWithinTheClosedLoop: RPC clients hold at most
// clients × concurrency requests outstanding, so the request backlog
// cannot outgrow that; a step whose backlog drifts up by less than it
// (servers that keep up, samples catching a few more in flight) passes
// the backlog check, and one that grows by more fails it.
func TestJudgeRPCBacklogWithinTheClosedLoop(t *testing.T) {
	sc := scenario.Default()
	sc.Producers.Count, sc.Consumers.Count, sc.RPC.Clients, sc.RPC.Servers, sc.RPC.Concurrency = 0, 0, 2, 2, 16
	qs := []result.Queue{{Name: "rpc", Consumers: 2, RPC: true}}
	for _, c := range []struct {
		perS   int64 // backlog growth per second over the 10 s step
		failed string
	}{{0, ""}, {3, ""}, {5, CheckBacklog}} {
		r := stepRun(sc, qs, 0, 0, func(i int) *int64 { v := c.perS * int64(i); return &v })
		rate := 100.0
		r.Rates.RPCRequestsPerS = &rate
		for i := range r.Intervals {
			req := int64(100)
			r.Intervals[i].RPCRequests, r.Intervals[i].RPCReplies = &req, &req
		}
		// 32 outstanding at most over 10 s: 3.2/s, above the floor of 2/s.
		if v := Judge(r, 100, loadOf("rpc_client"), nil, 0); failedOf(v) != c.failed {
			t.Errorf("backlog +%d/s with 32 requests in flight at most: failed %q (%v), want %q", c.perS, failedOf(v), v.Reasons, c.failed)
		}
	}
}

// pileUp is a system whose consumers serve at most capacity msg/s, with
// what they cannot serve piling up: in the client's prefetch buffers
// (unacknowledged) for a classic queue with prefetch 1000 and two slow
// consumers, or as consumer lag on a stream. seen is what the backlog
// figure shows of the pile after t seconds.
type pileUp struct {
	capacity float64
	stream   bool
	seen     func(pile int64) int64
}

func (p *pileUp) run(_ context.Context, sc scenario.Scenario) (*result.Result, error) {
	rate := sc.Producers.TotalRate
	served := math.Min(rate, p.capacity)
	q := result.Queue{Name: "q", Type: scenario.QueueClassic, Consumers: 2}
	if p.stream {
		sc.Queues = []scenario.Queue{{Name: "s", Count: 1, Type: scenario.QueueStream}}
		q = result.Queue{Name: "s", Type: scenario.QueueStream, Consumers: 1}
	}
	r := &result.Result{StopReason: result.StopDuration, MeasuredS: 10, Scenario: sc, Queues: []result.Queue{q},
		Client: result.Client{Cores: 0.3, CoresAvailable: 2}}
	r.Rates.PublishedPerS, r.Rates.ConsumedPerS = rate, &served
	var pile int64
	for i := 0; i < 10; i++ {
		pile += int64(rate - served)
		b := p.seen(pile)
		r.Intervals = append(r.Intervals, result.Interval{TS: float64(i + 1), Seconds: 1, Backlog: &b,
			Published: int64(rate), Consumed: int64(served)})
	}
	return r, nil
}

// TestConsumersFallingBehindFail: consumers that cannot keep up fail the
// steps above their capacity, whether the backlog figure shows the pile
// (the driver's contract: ready + unacknowledged + held by the client +
// stream lag), or is blind to it (as it was: ready messages only, which
// stay 0 while 2 × 1,000 prefetched deliveries absorb the pile; a stream
// skipped as 0). Seen, the backlog check fails them; blind, the consumed
// check does.
func TestConsumersFallingBehindFail(t *testing.T) {
	contract := func(pile int64) int64 { return pile }
	readyOnly := func(pile int64) int64 { return max(0, pile-2*1000) }
	skipped := func(int64) int64 { return 0 }
	for _, c := range []struct {
		name    string
		p       *pileUp
		limited string
	}{
		{"prefetch 1000, backlog seen", &pileUp{capacity: 200, seen: contract}, CheckBacklog},
		{"prefetch 1000, ready messages only", &pileUp{capacity: 200, seen: readyOnly}, CheckConsumed},
		{"stream, lag seen", &pileUp{capacity: 100, stream: true, seen: contract}, CheckBacklog},
		{"stream, skipped as 0", &pileUp{capacity: 100, stream: true, seen: skipped}, CheckConsumed},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Search(context.Background(), withKinds(Config{Base: scenario.Default(), Step: time.Second, Run: c.p.run,
				MinRate: c.p.capacity / 4, MaxRate: c.p.capacity * 4, Precision: 0.05}))
			if err != nil {
				t.Fatal(err)
			}
			a := doc.Capacity
			if a.RatePerS > c.p.capacity || a.RatePerS < 0.9*c.p.capacity || a.LimitedBy != c.limited {
				t.Fatalf("capacity %.1f limited by %q: want just under %.0f, limited by %s", a.RatePerS, a.LimitedBy, c.p.capacity, c.limited)
			}
		})
	}
}
