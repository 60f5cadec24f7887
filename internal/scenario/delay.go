package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Delay distributions: the processing times RPC servers and consumers
// simulate.
const (
	DelayFixed       = "fixed"
	DelayUniform     = "uniform"
	DelayExponential = "exponential"
	DelayLogNormal   = "lognormal"
)

// MaxDelaySigma bounds a log-normal delay's sigma: at 3 its p99.9 is
// already over 10,000 times its median, a tail no service has on purpose.
const MaxDelaySigma = 3.0

// Delay is a simulated processing time: fixed (Mean), uniform between Min
// and Max, exponential with mean Mean, or log-normal with mean Mean whose
// logarithm has the standard deviation Sigma. In YAML it is either a
// duration ("5ms", fixed) or a mapping {distribution, mean, min, max,
// sigma}.
type Delay struct {
	Distribution string   `yaml:"distribution" json:"distribution"`
	Mean         Duration `yaml:"mean" json:"mean,omitempty"`
	Min          Duration `yaml:"min" json:"min,omitempty"`
	Max          Duration `yaml:"max" json:"max,omitempty"`
	Sigma        float64  `yaml:"sigma" json:"sigma,omitempty"`
}

// Draw draws one processing time with rng. Fixed, uniform and exponential
// draw exactly as the RPC servers always have (the same numbers from the
// same generator); a draw is never above MaxDuration.
func (d Delay) Draw(rng *rand.Rand) time.Duration {
	switch d.Distribution {
	case DelayUniform:
		span := int64(d.Max - d.Min)
		if span <= 0 {
			return d.Min.D()
		}
		return time.Duration(int64(d.Min) + rng.Int64N(span+1))
	case DelayExponential:
		return capped(rng.ExpFloat64() * float64(d.Mean))
	case DelayLogNormal:
		if d.Mean <= 0 {
			return 0
		}
		// ln X ~ N(mu, sigma²) has the mean exp(mu + sigma²/2): mu is
		// chosen so that the mean is Mean.
		mu := math.Log(float64(d.Mean)) - d.Sigma*d.Sigma/2
		return capped(math.Exp(mu + d.Sigma*rng.NormFloat64()))
	}
	return d.Mean.D()
}

// capped converts nanoseconds to a duration of at most MaxDuration (a
// log-normal tail could overflow one).
func capped(ns float64) time.Duration {
	return time.Duration(min(ns, float64(MaxDuration)))
}

// Average is the distribution's mean.
func (d Delay) Average() time.Duration {
	if d.Distribution == DelayUniform {
		return (d.Min.D() + d.Max.D()) / 2
	}
	return d.Mean.D()
}

// Quantile is the distribution's q-quantile (0 < q < 1), what a test
// measures the draws against.
func (d Delay) Quantile(q float64) time.Duration {
	switch d.Distribution {
	case DelayUniform:
		return d.Min.D() + time.Duration(q*float64(d.Max-d.Min))
	case DelayExponential:
		return capped(-math.Log(1-q) * float64(d.Mean))
	case DelayLogNormal:
		if d.Mean <= 0 {
			return 0
		}
		mu := math.Log(float64(d.Mean)) - d.Sigma*d.Sigma/2
		return capped(math.Exp(mu + d.Sigma*math.Sqrt2*math.Erfinv(2*q-1)))
	}
	return d.Mean.D()
}

// Varies reports whether the delay can be anything but zero.
func (d Delay) Varies() bool {
	return d.Mean > 0 || (d.Distribution == DelayUniform && d.Max > 0)
}

// delayPaths name a delay's fields where Validate reports them: the RPC
// server's is a mapping, the consumers' are fields of their own.
type delayPaths struct {
	distribution, mean, span, sigma string
	// strict refuses fields the distribution does not use (the consumers'
	// are new; the RPC server always ignored them, and still does).
	strict bool
	min    string // with strict: where min and max are
	max    string
}

var rpcDelayPaths = delayPaths{
	distribution: "rpc.server_delay.distribution", mean: "rpc.server_delay.mean",
	span: "rpc.server_delay", sigma: "rpc.server_delay.sigma",
}

// delay checks a processing time distribution and its parameters.
func (c *checker) delay(d Delay, p delayPaths) {
	switch d.Distribution {
	case DelayFixed, DelayExponential:
		c.duration(p.mean, d.Mean, 0)
	case DelayUniform:
		c.check(d.Min >= 0 && d.Max >= d.Min && d.Max.D() <= MaxDuration, p.span, fmt.Sprintf("min %v max %v", d.Min, d.Max),
			"a uniform delay needs 0 <= min <= max <= %v", MaxDuration)
		c.check(!p.strict || d.Mean == 0, p.mean, d.Mean, "a uniform delay is drawn between its min and max; leave the mean (the fixed delay) 0")
	case DelayLogNormal:
		c.duration(p.mean, d.Mean, 0)
		c.check(d.Sigma > 0 && d.Sigma <= MaxDelaySigma, p.sigma, d.Sigma,
			"a log-normal delay needs 0 < sigma <= %g (the standard deviation of the delay's logarithm; 0.5 is a moderate tail)", MaxDelaySigma)
	default:
		c.check(false, p.distribution, d.Distribution, "must be fixed, uniform, exponential or lognormal")
	}
	if d.Distribution != DelayLogNormal {
		c.check(d.Sigma == 0, p.sigma, d.Sigma, "only applies to a lognormal delay")
	}
	if p.strict && d.Distribution != DelayUniform {
		c.check(d.Min == 0, p.min, d.Min, "only applies to a uniform delay")
		c.check(d.Max == 0, p.max, d.Max, "only applies to a uniform delay")
	}
}
