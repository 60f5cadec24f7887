package metrics

import (
	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Collector merges the shards' histograms into per-interval and cumulative
// histograms. It is used by one goroutine at a time.
type Collector struct {
	reg      *Registry
	spare    [][NumKinds]*hdr.Histogram // one reset set per shard, swapped in on Collect
	interval [NumKinds]*hdr.Histogram
	total    [NumKinds]*hdr.Histogram
}

// NewCollector returns a collector over reg's shards.
func NewCollector(reg *Registry) *Collector {
	c := &Collector{reg: reg, spare: make([][NumKinds]*hdr.Histogram, len(reg.shards))}
	for i := range c.spare {
		c.spare[i] = reg.histograms()
	}
	c.interval, c.total = reg.histograms(), reg.histograms()
	return c
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
	for i, s := range c.reg.shards {
		old := s.swap(c.spare[i])
		for k, h := range old {
			if h != nil && h.TotalCount() > 0 {
				c.interval[k].Merge(h)
				h.Reset()
			}
		}
		c.spare[i] = old
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
