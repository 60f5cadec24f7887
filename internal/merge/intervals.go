package merge

import (
	"fmt"
	"math"
	"sort"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// intervals aligns the shards' intervals by wall-clock time: shard i's
// j-th interval goes to slot j plus the shard's start offset from the
// earliest start, in whole intervals (computed once, so tick jitter never
// moves an interval to a neighbouring slot, and each shard puts at most one
// interval in a slot). Counts and gauges add up over the shards;
// percentiles come from the shards' interval histograms merged (exact), or
// are null when a shard's interval carries none; the backlog and the
// broker's sample are the owner's (every shard reads the same queues).
func intervals(shards []Input, every time.Duration) ([]result.Interval, error) {
	if every <= 0 {
		every = time.Second
	}
	t0 := shards[0].Result.StartedAt
	for _, s := range shards {
		if s.Result.StartedAt.Before(t0) {
			t0 = s.Result.StartedAt
		}
	}
	type slot struct {
		iv    result.Interval
		hist  map[string]*hdr.Histogram
		exact map[string]bool // every contribution carried its histogram
		endS  float64
	}
	slots := map[int]*slot{}
	for k, s := range shards {
		r := s.Result
		offset := int(math.Round(r.StartedAt.Sub(t0).Seconds() / every.Seconds()))
		for j, iv := range r.Intervals {
			sl := slots[offset+j]
			if sl == nil {
				sl = &slot{hist: map[string]*hdr.Histogram{}, exact: map[string]bool{}}
				for _, kind := range []metrics.Kind{metrics.EndToEnd, metrics.Confirm, metrics.RPC} {
					sl.exact[kind.String()] = true
				}
				slots[offset+j] = sl
			}
			if err := addInterval(&sl.iv, iv, sl.hist, sl.exact); err != nil {
				return nil, fmt.Errorf("%s: interval at %.3f s: %w", s.File, iv.TS, err)
			}
			sl.iv.Seconds = max(sl.iv.Seconds, iv.Seconds)
			sl.endS = max(sl.endS, r.StartedAt.Add(time.Duration(iv.TS*float64(time.Second))).Sub(t0).Seconds())
			if k == 0 {
				sl.iv.Backlog, sl.iv.Broker = iv.Backlog, iv.Broker
			}
		}
	}
	keys := make([]int, 0, len(slots))
	for n := range slots {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	out := make([]result.Interval, 0, len(keys))
	for _, n := range keys {
		sl := slots[n]
		iv := sl.iv
		iv.TS, iv.CPUCores = result.Round3(sl.endS), result.Round3(iv.CPUCores)
		percentiles(&iv, sl.hist, sl.exact)
		iv.HDR = nil
		out = append(out, iv)
	}
	return out, nil
}

// addInterval adds one shard's interval into the slot's.
func addInterval(dst *result.Interval, iv result.Interval, hist map[string]*hdr.Histogram, exact map[string]bool) error {
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
	has := map[string]bool{
		metrics.EndToEnd.String(): iv.E2EP50Us != nil,
		metrics.Confirm.String():  iv.ConfirmP99Us != nil,
		metrics.RPC.String():      iv.RPCP50Us != nil,
	}
	for kind, sampled := range has {
		enc, ok := iv.HDR[kind]
		if !ok {
			if sampled {
				exact[kind] = false // percentiles without a histogram cannot be merged
			}
			continue
		}
		h, err := metrics.DecodeHDR(enc)
		if err != nil {
			return fmt.Errorf("hdr.%s: %w", kind, err)
		}
		if hist[kind] == nil {
			hist[kind] = h
		} else if dropped := hist[kind].Merge(h); dropped > 0 {
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
