package merge

import (
	"fmt"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// kinds merges the figures the kinds of worker report of their own
// (result.KindFigures): counts are summed, rates too (each shard's is over
// its own window, and the shards' windows are the run's), and every timed
// operation's histograms merged exactly from their HdrHistogram encodings.
// Nil when no shard has any.
func kinds(shards []Input) (map[string]*result.KindFigures, error) {
	var out map[string]*result.KindFigures
	hists := map[string]map[string]*hdr.Histogram{}
	for _, s := range shards {
		for name, k := range s.Result.Kinds {
			if k == nil {
				continue
			}
			if out == nil {
				out = map[string]*result.KindFigures{}
			}
			dst := out[name]
			if dst == nil {
				dst = &result.KindFigures{}
				out[name] = dst
			}
			addKind(dst, k)
			for op, sum := range k.Latency {
				if sum == nil || sum.HDR == "" {
					continue
				}
				h, err := metrics.DecodeHDR(sum.HDR)
				if err != nil {
					return nil, fmt.Errorf("%s: kinds.%s.latency.%s: %w", s.File, name, op, err)
				}
				if hists[name] == nil {
					hists[name] = map[string]*hdr.Histogram{}
				}
				if m := hists[name][op]; m != nil {
					m.Merge(h)
				} else {
					hists[name][op] = h
				}
			}
		}
	}
	for name, ops := range hists {
		for op, h := range ops {
			sum, err := metrics.Summarize(h)
			if err != nil {
				return nil, err
			}
			if out[name].Latency == nil {
				out[name].Latency = map[string]*metrics.Summary{}
			}
			out[name].Latency[op] = sum
		}
	}
	return out, nil
}

// addKind adds one shard's counts and rates into dst.
func addKind(dst, k *result.KindFigures) {
	for c, n := range k.Counts {
		if dst.Counts == nil {
			dst.Counts = map[string]int64{}
		}
		dst.Counts[c] += n
	}
	for r, v := range k.Rates {
		if dst.Rates == nil {
			dst.Rates = map[string]float64{}
		}
		dst.Rates[r] = result.Round3(dst.Rates[r] + v)
	}
}
