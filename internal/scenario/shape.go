package scenario

import (
	"fmt"
	"math"

	"github.com/mqbench/mqbench/internal/pace"
	"github.com/mqbench/mqbench/internal/stamp"
)

// RateStep is one segment of a producer's rate schedule: a constant Rate
// for For, or a linear ramp From → To over For. Rates are per producer,
// like --rate.
type RateStep struct {
	Rate *float64 `yaml:"rate" json:"rate,omitempty"`
	From *float64 `yaml:"from" json:"from,omitempty"`
	To   *float64 `yaml:"to" json:"to,omitempty"`
	For  Duration `yaml:"for" json:"for"`
}

// SizeDistribution draws each message's body size.
type SizeDistribution struct {
	Type  string       `yaml:"type" json:"type"` // uniform or weighted
	Min   int          `yaml:"min" json:"min,omitempty"`
	Max   int          `yaml:"max" json:"max,omitempty"`
	Sizes []WeightSize `yaml:"sizes" json:"sizes,omitempty"`
}

// WeightSize is one size of a weighted distribution.
type WeightSize struct {
	Size   int `yaml:"size" json:"size"`
	Weight int `yaml:"weight" json:"weight"`
}

// Size distribution types.
const (
	SizeUniform  = "uniform"
	SizeWeighted = "weighted"
)

// Paced reports whether producers follow a schedule (a rate, a total rate
// or a rate schedule) rather than publishing as fast as they can.
func (p Producers) Paced() bool { return p.Rate > 0 || p.TotalRate > 0 || len(p.Schedule) > 0 }

// PerProducerRate is the constant rate of each producer: --rate, or
// --total-rate spread over the producers.
func (p Producers) PerProducerRate() float64 {
	if p.TotalRate > 0 && p.Count > 0 {
		return p.TotalRate / float64(p.Count)
	}
	return p.Rate
}

// PaceSchedule is each producer's schedule, or nil when unpaced.
func (p Producers) PaceSchedule() *pace.Schedule {
	return paceSchedule(p.Rate, p.TotalRate, p.Count, p.Schedule)
}

// paceSchedule is one worker's schedule: the steps when given, else a
// constant rate (the total spread over count workers), else nil (as fast
// as possible, or a closed loop).
func paceSchedule(rate, total float64, count int, steps []RateStep) *pace.Schedule {
	if len(steps) > 0 {
		segs := make([]pace.Segment, 0, len(steps))
		for _, st := range steps {
			from, to := st.bounds()
			segs = append(segs, pace.Segment{From: from, To: to, For: st.For.D()})
		}
		return pace.New(segs)
	}
	if total > 0 && count > 0 {
		rate = total / float64(count)
	}
	if rate > 0 {
		return pace.Constant(rate)
	}
	return nil
}

func (st RateStep) bounds() (from, to float64) {
	if st.Rate != nil {
		return *st.Rate, *st.Rate
	}
	if st.From != nil && st.To != nil {
		return *st.From, *st.To
	}
	return 0, 0
}

// MaxSize is the largest body a producer sends.
func (p Producers) MaxSize() int {
	d := p.SizeDistribution
	switch {
	case d == nil:
		return p.Size
	case d.Type == SizeUniform:
		return d.Max
	}
	m := 0
	for _, s := range d.Sizes {
		m = max(m, s.Size)
	}
	return m
}

// minSize is the smallest body a producer sends.
// MinSize is the smallest body the producers send.
func (p Producers) MinSize() int { return p.minSize() }

func (p Producers) minSize() int {
	d := p.SizeDistribution
	switch {
	case d == nil:
		return p.Size
	case d.Type == SizeUniform:
		return d.Min
	}
	m := 0
	for i, s := range d.Sizes {
		if i == 0 || s.Size < m {
			m = s.Size
		}
	}
	return m
}

func (s *Scenario) validateShape(c *checker) {
	p := s.Producers
	validatePacing(c, "producers", p.Rate, p.TotalRate, p.Schedule, p.StartJitter)
	if d := p.SizeDistribution; d != nil {
		switch d.Type {
		case SizeUniform:
			c.check(d.Min >= 1 && d.Max >= d.Min && d.Max <= MaxMessageSize, "producers.size_distribution", fmt.Sprintf("min %d max %d", d.Min, d.Max),
				"a uniform size needs 1 <= min <= max <= %d (the broker's largest message)", MaxMessageSize)
		case SizeWeighted:
			c.check(len(d.Sizes) > 0 && len(d.Sizes) <= MaxSizeEntries, "producers.size_distribution.sizes", fmt.Sprintf("%d sizes", len(d.Sizes)),
				"a weighted size needs 1 to %d {size, weight} entries", MaxSizeEntries)
			for i, w := range d.Sizes {
				c.check(w.Size >= 1 && w.Size <= MaxMessageSize && w.Weight >= 1 && w.Weight <= MaxSizeWeight,
					fmt.Sprintf("producers.size_distribution.sizes[%d]", i), fmt.Sprintf("size %d weight %d", w.Size, w.Weight),
					"size must be 1 to %d bytes and weight 1 to %d", MaxMessageSize, MaxSizeWeight)
			}
		default:
			c.check(false, "producers.size_distribution.type", d.Type, "must be uniform or weighted")
		}
	}
	if p.UserBody() {
		return // the files' sizes, checked with the body; the stamp travels in a header
	}
	need, why := stamp.MinSize, "the body carries a 4-byte sequence and an 8-byte timestamp"
	if p.Paced() {
		need, why = stamp.ScheduledSize, "paced producers also carry the scheduled send time (bytes 12–19), which latency is measured from"
	}
	path := "producers.size"
	if p.SizeDistribution != nil {
		path = "producers.size_distribution"
	}
	c.check(p.minSize() >= need, path, p.minSize(), "must be at least %d bytes: %s", need, why)
	c.check(p.MaxSize() <= MaxMessageSize, path, p.MaxSize(), "must be at most %d bytes (128 MiB, RabbitMQ 3.x's largest message; 4.x refuses more than 16 MiB by default)", MaxMessageSize)
	if mem := int64(p.MaxSize()) * int64(max(p.Count, 0)); p.MaxSize() <= MaxMessageSize && mem > MaxBodyMemory {
		c.check(false, path, p.MaxSize(), "%d producers × %d bytes = %d MiB of body buffers (each producer owns one); keep it under %d MiB",
			p.Count, p.MaxSize(), mem>>20, MaxBodyMemory>>20)
	}
}

// validatePacing checks a worker group's pace: a rate per worker, a total
// rate or a schedule of steps and ramps, and a start jitter. prefix is the
// group's scenario path ("producers", "rpc").
func validatePacing(c *checker, prefix string, rate, total float64, steps []RateStep, jitter Duration) {
	c.rate(prefix+".rate", rate)
	c.check(!math.IsNaN(total) && (total == 0 || (total >= MinRate && total <= MaxRate*MaxWorkers)), prefix+".total_rate", total,
		"must be 0 (unpaced) or %g to %g per second", MinRate, MaxRate*MaxWorkers)
	c.check(total == 0 || rate == 0, prefix+".total_rate", total, "give either a rate per worker or a total rate, not both")
	c.check(len(steps) == 0 || (rate == 0 && total == 0), prefix+".schedule", "(set)",
		"a rate schedule replaces rate and total_rate; give one or the other")
	c.check(len(steps) <= MaxScheduleSteps, prefix+".schedule", fmt.Sprintf("%d steps", len(steps)), "at most %d steps", MaxScheduleSteps)
	for i, st := range steps {
		if i >= MaxScheduleSteps {
			break
		}
		path := fmt.Sprintf("%s.schedule[%d]", prefix, i)
		constant, ramp := st.Rate != nil, st.From != nil || st.To != nil
		c.check(constant != ramp && (!ramp || (st.From != nil && st.To != nil)), path, "(step)",
			"a step is {rate: R, for: D} or a ramp {from: R0, to: R1, for: D}")
		from, to := st.bounds()
		c.rate(path+".rate", from)
		if to != from {
			c.rate(path+".to", to)
		}
		c.check(st.For > 0 || i == len(steps)-1, path+".for", st.For, "every step but the last needs a duration")
		c.duration(path+".for", st.For, 0)
	}
	c.duration(prefix+".start_jitter", jitter, 0)
}

// defaultSize is the body size when none is given: room for the whole
// stamp — timestamp, scheduled time, producer number and run identity — so
// that the delivery audit is on.
func (p Producers) defaultSize() int { return stamp.AuditSize }

// Audited reports whether every message carries the audit stamp
// (producer number, sequence and run identity) — every body has room for
// it, or the body is the user's and the stamp travels in a header —,
// which turns the delivery audit on, and lets consumers tell this run's
// messages from others.
func (p Producers) Audited() bool {
	return p.Count > 0 && (p.UserBody() || p.minSize() >= stamp.AuditSize)
}
