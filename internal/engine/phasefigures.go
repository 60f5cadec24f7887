package engine

import (
	"time"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// figures are the result's phases: every phase that began, from the
// run's start (Unix ns) and its intervals (for recovery).
func (p *phaser) figures(start int64, ivs []result.Interval) ([]result.Phase, error) {
	if p == nil {
		return nil, nil
	}
	secs := func(ns int64) float64 { return result.Round3(time.Duration(ns).Seconds()) }
	out := make([]result.Phase, 0, len(p.recs))
	for i, rec := range p.recs {
		ph := result.Phase{Name: p.plans[i].Name, StartS: secs(rec.start - start), EndS: secs(rec.end - start),
			Seconds: secs(rec.end - rec.start), Ended: rec.ended, BacklogWatchS: p.every.Seconds()}
		d := rec.counts1.Sub(rec.counts0)
		ph.Totals = result.PhaseTotals{Published: d[metrics.Published], Confirmed: d[metrics.Confirmed], Consumed: d[metrics.Consumed],
			Returned: d[metrics.Returned], Nacked: d[metrics.Nacked]}
		if s := time.Duration(rec.end - rec.start).Seconds(); s > 0 {
			rate := func(n int64) float64 { return result.Round3(float64(n) / s) }
			ph.Rates = result.PhaseRates{PublishedPerS: rate(d[metrics.Published]), ConfirmedPerS: rate(d[metrics.Confirmed]),
				ConsumedPerS: rate(d[metrics.Consumed])}
		}
		for _, k := range metrics.Kinds() {
			s, err := metrics.Summarize(rec.hist[k])
			if err != nil {
				return out, err
			}
			ph.Latency[k] = s
		}
		if b := rec.backlogStart; b != nil {
			ph.BacklogStart = ptr(b.Total())
		}
		if b := rec.backlogEnd; b != nil {
			ph.BacklogEnd = ptr(b.Total())
		}
		if rec.peakOK {
			ph.BacklogPeak = ptr(rec.peak)
		}
		if rec.drainAt > 0 {
			ph.DrainS = ptr(result.Round3(time.Duration(rec.drainAt - rec.start).Seconds()))
		}
		out = append(out, ph)
	}
	for i := range out {
		if ref := p.plans[i].RecoveryOf; ref >= 0 && ref < len(out) {
			recovery(&out[i], out[ref], p.plans[i].RecoveryWithin, ivs)
		}
	}
	return out, nil
}

// recovery fills ph's recovery from the reference phase ref: when, after
// ph's start, an interval of ph first had an end-to-end p99 within
// `within` percent of ref's whole-phase p99. Intervals start afresh at
// every phase boundary, so ph's are whole intervals of it; an interval
// without deliveries says nothing either way.
func recovery(ph *result.Phase, ref result.Phase, within float64, ivs []result.Interval) {
	ph.RecoveryOf = ref.Name
	s := ref.Latency[metrics.EndToEnd]
	if s == nil {
		return
	}
	target := int64(float64(s.P99Us) * (1 + within/100))
	ph.RecoveryTargetUs = ptr(target)
	for _, iv := range ivs {
		if iv.Phase != ph.Name || iv.Drain || iv.E2EP99Us == nil {
			continue
		}
		if *iv.E2EP99Us <= target {
			ph.RecoveryS = ptr(result.Round3(iv.TS - ph.StartS))
			return
		}
	}
}
