package promexport

import (
	"math"
	"sort"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// NativeSchema is the native histograms' resolution: schema 3 grows each
// bucket by 2^(1/8), about 9% wide, so histogram_quantile is within about
// ±4.5% of the true quantile.
const NativeSchema = 3

// ClassicBuckets are the classic buckets' upper bounds in seconds: 1, 2.5
// and 5 per decade from 100 µs to a minute. They aggregate with any
// Prometheus, at the resolution of the bucket a quantile falls in.
var classicBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// ClassicBuckets returns the classic buckets' upper bounds.
func ClassicBuckets() []float64 { return append([]float64(nil), classicBounds...) }

// hdrMetric is a Prometheus histogram — classic buckets and a native
// histogram in one — read from a cumulative HdrHistogram of microseconds.
// Converting at scrape time, from HDR's bars, costs nothing per message.
type hdrMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      *hdr.Histogram
}

func (m hdrMetric) Desc() *prometheus.Desc { return m.desc }

// Write fills out from the histogram. Each HDR bar (microseconds, about
// 0.1% wide) lands in the classic and native buckets its midpoint falls
// in; HDR's bars are far narrower than either, so the counts are exact but
// for bars straddling a bound.
func (m hdrMetric) Write(out *dto.Metric) error {
	var count uint64
	var sum float64
	classic := make([]uint64, len(classicBounds))
	native := map[int]int64{}
	var zero uint64
	for _, b := range m.h.Distribution() {
		if b.Count == 0 {
			continue
		}
		v := float64(b.From+b.To) / 2 / 1e6 // seconds
		n := uint64(b.Count)
		count += n
		sum += v * float64(n)
		for i, bound := range classicBounds {
			if v <= bound {
				classic[i] += n
			}
		}
		if b.To <= 0 {
			zero += n
			continue
		}
		native[nativeIndex(v)] += int64(n)
	}
	schema := int32(NativeSchema)
	zeroThreshold := 0.0
	h := &dto.Histogram{SampleCount: &count, SampleSum: &sum, Schema: &schema, ZeroThreshold: &zeroThreshold, ZeroCount: &zero}
	for i, bound := range classicBounds {
		c, ub := classic[i], bound
		h.Bucket = append(h.Bucket, &dto.Bucket{CumulativeCount: &c, UpperBound: &ub})
	}
	h.PositiveSpan, h.PositiveDelta = spans(native)
	if len(h.PositiveSpan) == 0 && zero == 0 {
		// An empty native histogram would read as a classic one: a span
		// of no buckets says it is native (as client_golang does).
		var off int32
		var length uint32
		h.PositiveSpan = []*dto.BucketSpan{{Offset: &off, Length: &length}}
	}
	out.Label = m.labels
	out.Histogram = h
	return nil
}

// nativeBounds are the bucket bounds within one power of two at
// NativeSchema, as fractions in [0.5, 1): 2^(j/8) / 2. Read only.
var nativeBounds = func() []float64 {
	n := 1 << NativeSchema
	b := make([]float64, n)
	for j := range b {
		b[j] = math.Pow(2, float64(j)/float64(n)-1)
	}
	return b
}()

// nativeIndex is the native bucket of a positive value at NativeSchema:
// bucket i holds values in (base^(i-1), base^i], base = 2^(2^-schema).
// It splits v into a fraction and a power of two, as Prometheus does, so a
// value on a bound lands where Prometheus puts it (a logarithm would
// round some of them into the next bucket).
func nativeIndex(v float64) int {
	frac, exp := math.Frexp(v)
	return sort.SearchFloat64s(nativeBounds, frac) + (exp-1)*len(nativeBounds)
}

// spans encodes native bucket counts as Prometheus does: runs of
// consecutive buckets (spans, each an offset from the previous run's end)
// and the counts as deltas from the previous bucket.
func spans(buckets map[int]int64) ([]*dto.BucketSpan, []int64) {
	if len(buckets) == 0 {
		return nil, nil
	}
	lo, hi := math.MaxInt, math.MinInt
	for i := range buckets {
		lo, hi = min(lo, i), max(hi, i)
	}
	var out []*dto.BucketSpan
	var deltas []int64
	var prev int64
	next := 0 // index after the previous span
	for i := lo; i <= hi; i++ {
		n, ok := buckets[i]
		if !ok {
			continue
		}
		if len(out) == 0 || i != next {
			off := int32(i - next)
			if len(out) == 0 {
				off = int32(i)
			}
			length := uint32(0)
			out = append(out, &dto.BucketSpan{Offset: &off, Length: &length})
		}
		*out[len(out)-1].Length++
		deltas = append(deltas, n-prev)
		prev, next = n, i+1
	}
	return out, deltas
}
