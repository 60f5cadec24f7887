package metrics

import (
	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Collector merges the shards' histograms into per-interval and cumulative
// histograms. It is used by one goroutine at a time.
type Collector struct {
	reg *Registry
	// spare is an empty set of histograms. Collect swaps it into the first
	// shard, empties what came out and swaps that into the next: one set
	// serves every shard, so the histograms held are one set per shard
	// plus three, not two per shard.
	spare    [NumKinds]*hdr.Histogram
	interval [NumKinds]*hdr.Histogram
	total    [NumKinds]*hdr.Histogram
}

// NewCollector returns a collector over reg's shards.
func NewCollector(reg *Registry) *Collector {
	return &Collector{reg: reg, spare: reg.histograms(), interval: reg.histograms(), total: reg.histograms()}
}

// Interval is what one Collect call gathered.
type Interval struct {
	Counts Counts // cumulative counters at collection time
	// Latency holds the samples recorded since the previous Collect, valid
	// until the next Collect; nil for a kind the registry does not hold.
	Latency [NumKinds]*hdr.Histogram
}

// Collect swaps every shard's histograms for empty ones, merges what they
// held into the interval and cumulative histograms, and returns the
// interval. Workers keep recording throughout: a shard is only locked for
// the pointer swap.
func (c *Collector) Collect() Interval {
	for _, h := range c.interval {
		if h != nil {
			h.Reset()
		}
	}
	for _, s := range c.reg.shards {
		old := s.swap(c.spare)
		for k, h := range old {
			if h != nil && h.TotalCount() > 0 {
				c.interval[k].Merge(h)
				h.Reset()
			}
		}
		c.spare = old
	}
	for k, h := range c.interval {
		if h != nil && h.TotalCount() > 0 {
			c.total[k].Merge(h)
		}
	}
	return Interval{Counts: c.reg.Counts(), Latency: c.interval}
}

// Total returns the cumulative histogram of kind k over every Collect so
// far (nil for a kind the registry does not hold).
func (c *Collector) Total(k Kind) *hdr.Histogram { return c.total[k] }
