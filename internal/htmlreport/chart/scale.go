package chart

import (
	"math"
	"strconv"
	"strings"
)

// Scale maps a data interval [Lo, Hi] onto a pixel interval [R0, R1],
// linearly or, with Log, on log10. R1 may be below R0 (a y axis grows
// upwards).
type Scale struct {
	Lo, Hi float64
	R0, R1 float64
	Log    bool
}

// At returns the pixel position of v. On a log scale a value at or below
// zero (a 0µs latency: histograms hold whole microseconds) is drawn at the
// bottom of the axis rather than at minus infinity.
func (s Scale) At(v float64) float64 {
	lo, hi := s.Lo, s.Hi
	if s.Log {
		if v < lo {
			v = lo
		}
		v, lo, hi = math.Log10(v), math.Log10(lo), math.Log10(hi)
	}
	if hi == lo {
		return (s.R0 + s.R1) / 2
	}
	return s.R0 + (v-lo)/(hi-lo)*(s.R1-s.R0)
}

// Tick is one labelled position on an axis, in data units.
type Tick struct {
	V     float64
	Label string
}

// niceStep returns the 1, 2 or 5 × 10^k step closest above span/n.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag*(1+1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// LinearTicks widens [lo, hi] to multiples of a nice step giving about n
// intervals and returns the widened domain and its ticks. An empty range
// (a flat line, or no data) becomes [lo, lo+1] so the axis still has a
// height.
func LinearTicks(lo, hi float64, n int, format func(float64) string) (float64, float64, []Tick) {
	if hi <= lo {
		hi = lo + 1
		if lo > 0 {
			hi = lo * 2
		}
	}
	step := niceStep(hi-lo, n)
	dlo, dhi := math.Floor(lo/step+1e-9)*step, math.Ceil(hi/step-1e-9)*step
	var ts []Tick
	for i := 0; ; i++ {
		v := dlo + float64(i)*step
		if v > dhi+step*1e-6 {
			break
		}
		v = math.Round(v/step) * step // no 0.30000000000000004
		ts = append(ts, Tick{v, format(v)})
	}
	return dlo, dhi, ts
}

// oneTwoFive lists the values 1, 2, 5 × 10^k from below lo to above hi.
func oneTwoFive(lo, hi float64) []float64 {
	var out []float64
	for e := math.Floor(math.Log10(lo)) - 1; e <= math.Ceil(math.Log10(hi))+1; e++ {
		for _, m := range []float64{1, 2, 5} {
			out = append(out, m*math.Pow(10, e))
		}
	}
	return out
}

// LogTicks returns a log domain that covers [lo, hi] and its ticks. The
// domain snaps to the 1-2-5 sequence; ticks are every 1-2-5 value when the
// domain spans three decades or less, and only the decades beyond that, so
// labels never crowd. Values at or below zero are taken as 1 (the
// histograms' lowest value, 1µs).
func LogTicks(lo, hi float64, format func(float64) string) (float64, float64, []Tick) {
	if lo < 1 {
		lo = 1
	}
	if hi < lo {
		hi = lo
	}
	seq := oneTwoFive(lo, hi)
	dlo, dhi := seq[0], seq[len(seq)-1]
	for _, v := range seq {
		if v <= lo*(1+1e-9) {
			dlo = v
		}
	}
	for i := len(seq) - 1; i >= 0; i-- {
		if seq[i] >= hi*(1-1e-9) {
			dhi = seq[i]
		}
	}
	if dhi <= dlo { // one value exactly on the sequence: give it room
		dhi = nextIn(seq, dlo)
	}
	decades := math.Log10(dhi / dlo)
	var ts []Tick
	for _, v := range seq {
		if v < dlo*(1-1e-9) || v > dhi*(1+1e-9) {
			continue
		}
		isDecade := math.Abs(math.Log10(v)-math.Round(math.Log10(v))) < 1e-9
		if decades <= 3 || isDecade {
			ts = append(ts, Tick{v, format(v)})
		}
	}
	return dlo, dhi, ts
}

func nextIn(seq []float64, v float64) float64 {
	for _, x := range seq {
		if x > v*(1+1e-9) {
			return x
		}
	}
	return v * 10
}

// The nines axis spreads percentiles so that each "nine" gets the same
// width: x = -log10(1 - q) for a quantile q, so 0% is at 0, 90% at 1, 99%
// at 2, 99.9% at 3. The tail, where latency lives, gets most of the chart.

// NinesX returns the position of quantile q (0 ≤ q < 1) on the nines axis.
func NinesX(q float64) float64 {
	if q <= 0 {
		return 0
	}
	return -math.Log10(1 - q)
}

// NinesPercentile returns the percentile (0–100) at position x.
func NinesPercentile(x float64) float64 {
	return 100 * (1 - math.Pow(10, -x))
}

// ninesLabel labels the whole position n: 0%, 90%, 99%, 99.9%, 99.99% …
func ninesLabel(n int) string {
	switch {
	case n <= 0:
		return "0%"
	case n == 1:
		return "90%"
	}
	return "99" + dotted(strings.Repeat("9", n-2)) + "%"
}

func dotted(s string) string {
	if s == "" {
		return ""
	}
	return "." + s
}

// NinesTicks returns the ticks 0 … n of a nines axis.
func NinesTicks(n int) []Tick {
	ts := make([]Tick, 0, n+1)
	for i := 0; i <= n; i++ {
		ts = append(ts, Tick{float64(i), ninesLabel(i)})
	}
	return ts
}

// TrimmedSig3 formats v with at most three significant digits and no
// trailing zeros — 1, 2.5, 12.3, 100 — as a tick label wants it (unlike
// the text report's figures, which keep their zeros so a column lines up).
func TrimmedSig3(v float64) string {
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if strings.ContainsAny(s, "e") { // only for |v| ≥ 1000 or tiny: print it plainly
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

// MicrosLabel labels a latency tick: 500µs, 2.5ms, 1s.
func MicrosLabel(us float64) string {
	switch {
	case us < 1000:
		return TrimmedSig3(us) + "µs"
	case us < 1e6:
		return TrimmedSig3(us/1e3) + "ms"
	}
	return TrimmedSig3(us/1e6) + "s"
}

// RateLabel labels a rate or count tick compactly: 950, 12k, 1.5M.
func RateLabel(v float64) string {
	switch a := math.Abs(v); {
	case a < 1000:
		return TrimmedSig3(v)
	case a < 1e6:
		return TrimmedSig3(v/1e3) + "k"
	case a < 1e9:
		return TrimmedSig3(v/1e6) + "M"
	}
	return TrimmedSig3(v/1e9) + "G"
}

// SecondsLabel labels a time or CPU-seconds tick: 0s, 2.5s, 30s.
func SecondsLabel(v float64) string { return TrimmedSig3(v) + "s" }
