package merge

import (
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// intervals aligns the shards' intervals by wall-clock time into slots.
//
// Each shard's intervals are first folded as charts and the CSV fold them
// (result.FoldSpans: a millisecond-long interval, where the warm-up timer
// and the ticker fired together, joins its neighbour of the same phase), so
// a shard that kept one lines up with one that did not. Each folded
// interval's end (started_at + t_s) is then placed on a common clock: the
// shard's offset from the earliest start is rounded to whole intervals
// once, so tick jitter and a skew near half an interval never make the
// pairing flip over the run. A slot is opened by the earliest next end
// over all shards and takes each shard's next interval ending less than
// half an interval after it: folded intervals are at least half an
// interval long, so a shard puts at most one interval in a slot and gauges
// (CPU cores, blocked connections) are never added up within a shard.
//
// Counts and gauges add up over the shards; percentiles come from the
// shards' interval histograms merged (exact), or are null when a shard's
// interval carries none; the backlog and the broker's sample are the
// owner's (every shard reads the same queues). Slots are made one after
// the other and each slot's histograms are dropped once its percentiles
// are read: memory holds one slot's histograms, never the run's.
func intervals(shards []Input, every time.Duration) ([]result.Interval, error) {
	if every <= 0 {
		every = time.Second
	}
	step := every.Seconds()
	t0 := shards[0].Result.StartedAt
	for _, s := range shards {
		if s.Result.StartedAt.Before(t0) {
			t0 = s.Result.StartedAt
		}
	}
	cur := make([]cursor, len(shards))
	for k, s := range shards {
		r := s.Result
		skew := r.StartedAt.Sub(t0).Seconds()
		cur[k] = cursor{spans: result.FoldSpans(r.Intervals, every), offset: math.Round(skew/step) * step, skew: skew}
	}
	out := []result.Interval{}
	for {
		anchor := math.Inf(1)
		for _, c := range cur {
			if c.more() {
				anchor = min(anchor, c.end())
			}
		}
		if math.IsInf(anchor, 1) {
			return out, nil
		}
		sl := newSlot()
		for k := range cur {
			c := &cur[k]
			if !c.more() || c.end() >= anchor+step/2 {
				continue
			}
			if err := sl.add(c.spans[c.pos], shards[k].Result.Intervals, c.skew, k == 0); err != nil {
				return nil, fmt.Errorf("%s: interval at %.3f s: %w", shards[k].File, c.spans[c.pos].TS, err)
			}
			c.pos++
		}
		out = append(out, sl.finish())
	}
}

// cursor walks one shard's folded intervals.
type cursor struct {
	spans  []result.Folded
	pos    int
	offset float64 // the shard's start after the earliest, in whole intervals (seconds)
	skew   float64 // the same, exactly (seconds)
}

func (c *cursor) more() bool { return c.pos < len(c.spans) }

// end is where the next interval ends on the common clock.
func (c *cursor) end() float64 { return c.offset + c.spans[c.pos].TS }

// slot is one merged interval while the shards' intervals are added to it.
type slot struct {
	iv    result.Interval
	hist  map[string]*hdr.Histogram
	exact map[string]bool // every contribution carried its histogram
	endS  float64         // the latest end, seconds after the earliest start
}

func newSlot() *slot {
	sl := &slot{hist: map[string]*hdr.Histogram{}, exact: map[string]bool{}}
	for _, kind := range []metrics.Kind{metrics.EndToEnd, metrics.Confirm, metrics.RPC} {
		sl.exact[kind.String()] = true
	}
	return sl
}

// add adds one shard's folded interval: its counts and gauges, and the
// histograms of every interval of the shard's (all) that it folds.
func (sl *slot) add(f result.Folded, all []result.Interval, skew float64, owner bool) error {
	addCounts(&sl.iv, f.Interval)
	sl.iv.Seconds = max(sl.iv.Seconds, f.Seconds)
	sl.endS = max(sl.endS, skew+f.TS)
	if owner {
		sl.iv.Backlog, sl.iv.Broker = f.Backlog, f.Broker
	}
	for _, part := range all[f.From:f.To] {
		if err := sl.addHistograms(part); err != nil {
			return err
		}
	}
	return nil
}

// finish is the slot's interval, its percentiles read from the merged
// histograms (which are then let go).
func (sl *slot) finish() result.Interval {
	iv := sl.iv
	iv.TS, iv.CPUCores = result.Round3(sl.endS), result.Round3(iv.CPUCores)
	percentiles(&iv, sl.hist, sl.exact)
	iv.HDR = nil
	sl.hist = nil
	return iv
}

// addCounts adds one shard's interval into the slot's.
func addCounts(dst *result.Interval, iv result.Interval) {
	dst.Warmup = dst.Warmup || iv.Warmup
	dst.Drain = dst.Drain || iv.Drain
	dst.Published += iv.Published
	dst.Confirmed += iv.Confirmed
	dst.Consumed += iv.Consumed
	dst.Returned += iv.Returned
	dst.Nacked += iv.Nacked
	dst.CPUCores += iv.CPUCores
	dst.Blocked += iv.Blocked
	dst.Disconnected += iv.Disconnected
	addPtr(&dst.RPCRequests, iv.RPCRequests)
	addPtr(&dst.RPCReplies, iv.RPCReplies)
	addPtr(&dst.RPCTimeouts, iv.RPCTimeouts)
}

// addHistograms merges one of a shard's own intervals' histograms into
// the slot's, one kind at a time (each decoded histogram is let go once
// merged).
func (sl *slot) addHistograms(iv result.Interval) error {
	has := map[string]bool{
		metrics.EndToEnd.String(): iv.E2EP50Us != nil,
		metrics.Confirm.String():  iv.ConfirmP99Us != nil,
		metrics.RPC.String():      iv.RPCP50Us != nil,
	}
	for kind, sampled := range has {
		enc, ok := iv.HDR[kind]
		if !ok {
			if sampled {
				sl.exact[kind] = false // percentiles without a histogram cannot be merged
			}
			continue
		}
		h, err := metrics.DecodeHDR(enc)
		if err != nil {
			return fmt.Errorf("hdr.%s: %w", kind, err)
		}
		if sl.hist[kind] == nil {
			sl.hist[kind] = h
		} else if dropped := sl.hist[kind].Merge(h); dropped > 0 {
			return fmt.Errorf("hdr.%s: %d samples out of range", kind, dropped)
		}
	}
	return nil
}

// percentiles sets the interval's percentiles from the merged histograms.
func percentiles(iv *result.Interval, hist map[string]*hdr.Histogram, exact map[string]bool) {
	at := func(kind string, q float64) *int64 {
		h := hist[kind]
		if h == nil || !exact[kind] || h.TotalCount() == 0 {
			return nil
		}
		v := h.ValueAtQuantile(q)
		return &v
	}
	e2e, conf, rpc := metrics.EndToEnd.String(), metrics.Confirm.String(), metrics.RPC.String()
	iv.E2EP50Us, iv.E2EP99Us = at(e2e, 50), at(e2e, 99)
	iv.ConfirmP99Us = at(conf, 99)
	iv.RPCP50Us, iv.RPCP99Us = at(rpc, 50), at(rpc, 99)
}
