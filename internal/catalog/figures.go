package catalog

import (
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// Latency statistics, the keys of every latency summary in the result.
const (
	StatCount = "count"
	StatMin   = "min_us"
	StatMean  = "mean_us"
	StatP50   = "p50_us"
	StatP75   = "p75_us"
	StatP90   = "p90_us"
	StatP95   = "p95_us"
	StatP99   = "p99_us"
	StatP999  = "p999_us"
	StatP9999 = "p9999_us"
	StatMax   = "max_us"
)

// latencyStat is one statistic of every latency summary.
type latencyStat struct {
	key, label string
	gate       bool
	get        func(*metrics.Summary) float64
}

// latencyStats are the statistics of a latency summary, in JSON order.
var latencyStats = []latencyStat{
	{StatCount, "count", false, func(s *metrics.Summary) float64 { return float64(s.Count) }},
	{StatMin, "min", true, func(s *metrics.Summary) float64 { return float64(s.MinUs) }},
	{StatMean, "mean", true, func(s *metrics.Summary) float64 { return s.MeanUs }},
	{StatP50, "p50", true, func(s *metrics.Summary) float64 { return float64(s.P50Us) }},
	{StatP75, "p75", true, func(s *metrics.Summary) float64 { return float64(s.P75Us) }},
	{StatP90, "p90", true, func(s *metrics.Summary) float64 { return float64(s.P90Us) }},
	{StatP95, "p95", true, func(s *metrics.Summary) float64 { return float64(s.P95Us) }},
	{StatP99, "p99", true, func(s *metrics.Summary) float64 { return float64(s.P99Us) }},
	{StatP999, "p99.9", true, func(s *metrics.Summary) float64 { return float64(s.P999Us) }},
	{StatP9999, "p99.99", true, func(s *metrics.Summary) float64 { return float64(s.P9999Us) }},
	{StatMax, "max", true, func(s *metrics.Summary) float64 { return float64(s.MaxUs) }},
}

// LatencyStatLabels returns the column labels of a latency row (after the
// kind): count, min, mean, p50 … max, in JSON order.
func LatencyStatLabels() []string {
	out := make([]string, len(latencyStats))
	for i, s := range latencyStats {
		out[i] = s.label
	}
	return out
}

// LatencyRow returns every statistic of one summary as numbers, in the
// order of LatencyStatLabels.
func LatencyRow(s *metrics.Summary) []float64 {
	out := make([]float64, len(latencyStats))
	for i, st := range latencyStats {
		out[i] = st.get(s)
	}
	return out
}

// LatencyUnit is the unit of the statistic at index i of a latency row.
func LatencyUnit(i int) Unit {
	if latencyStats[i].key == StatCount {
		return Count
	}
	return Micros
}

func (c *Catalogue) addRates() {
	rate := func(key, label string, get func(r *result.Rates) (float64, bool)) {
		c.add(Figure{Path: "rates." + key, Label: label, Unit: PerSecond, Better: Higher, Gate: true, Kind: -1,
			get: func(r *result.Result) (float64, bool) { return get(&r.Rates) }})
	}
	rate("published_per_s", "published/s", func(r *result.Rates) (float64, bool) { return num(r.PublishedPerS) })
	rate("confirmed_per_s", "confirmed/s", func(r *result.Rates) (float64, bool) { return ptr(r.ConfirmedPerS) })
	rate("consumed_per_s", "consumed/s", func(r *result.Rates) (float64, bool) { return ptr(r.ConsumedPerS) })
	rate("rpc_requests_per_s", "rpc requests/s", func(r *result.Rates) (float64, bool) { return ptr(r.RPCRequestsPerS) })
	rate("rpc_replies_per_s", "rpc replies/s", func(r *result.Rates) (float64, bool) { return ptr(r.RPCRepliesPerS) })
}

func (c *Catalogue) addTotals() {
	total := func(key, label string, better Better, get func(t *result.Totals) (float64, bool)) {
		c.add(Figure{Path: "totals." + key, Label: label, Unit: Count, Better: better, Gate: better != Neither, Kind: -1,
			get: func(r *result.Result) (float64, bool) { return get(&r.Totals) }})
	}
	total("published", "published", Neither, func(t *result.Totals) (float64, bool) { return num(float64(t.Published)) })
	total("confirmed", "confirmed", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.Confirmed) })
	total("nacked", "nacked", Lower, func(t *result.Totals) (float64, bool) { return ptr(t.Nacked) })
	total("unconfirmed", "unconfirmed", Lower, func(t *result.Totals) (float64, bool) { return ptr(t.Unconfirmed) })
	total("returned", "returned", Lower, func(t *result.Totals) (float64, bool) { return ptr(t.Returned) })
	total("consumed", "consumed", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.Consumed) })
	total("foreign", "foreign", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.Foreign) })
	total("refused", "refused", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.Refused) })
	total("unstamped", "unstamped", Lower, func(t *result.Totals) (float64, bool) { return ptr(t.Unstamped) })
	total("millisecond_stamps", "ms stamps", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.MillisecondStamps) })
	total("max_unacked", "max unacked", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.MaxUnacked) })
	total("rpc_requests", "rpc requests", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.RPCRequests) })
	total("rpc_replies", "rpc replies", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.RPCReplies) })
	total("rpc_timeouts", "rpc timeouts", Lower, func(t *result.Totals) (float64, bool) { return ptr(t.RPCTimeouts) })
	total("rpc_unmatched", "rpc unmatched", Lower, func(t *result.Totals) (float64, bool) { return ptr(t.RPCUnmatched) })
	total("rpc_late", "rpc late", Lower, func(t *result.Totals) (float64, bool) { return ptr(t.RPCLate) })
	total("rpc_duplicates", "rpc duplicates", Lower, func(t *result.Totals) (float64, bool) { return ptr(t.RPCDuplicates) })
	total("rpc_served", "rpc served", Neither, func(t *result.Totals) (float64, bool) { return ptr(t.RPCServed) })
}

// addLatencies adds every statistic of every latency kind: a new kind in
// metrics.Kind appears here, and so everywhere, by itself.
func (c *Catalogue) addLatencies() {
	for _, k := range metrics.Kinds() {
		for _, st := range latencyStats {
			better, unit := Lower, Micros
			if st.key == StatCount {
				better, unit = Neither, Count
			}
			c.add(Figure{
				Path: "latency." + k.String() + "." + st.key, Label: k.Info().Short + " " + st.label,
				Unit: unit, Better: better, Gate: st.gate, Kind: k,
				get: func(r *result.Result) (float64, bool) {
					s := r.Latency[k]
					if s == nil {
						return 0, false
					}
					return st.get(s), true
				},
			})
		}
	}
}

func (c *Catalogue) addClient() {
	client := func(key, label string, unit Unit, better Better, get func(cl *result.Client) float64) {
		c.add(Figure{Path: "client." + key, Label: label, Unit: unit, Better: better, Gate: better != Neither, Kind: -1,
			get: func(r *result.Result) (float64, bool) { return get(&r.Client), true }})
	}
	client("cpu_s", "client cpu s", Seconds, Lower, func(cl *result.Client) float64 { return cl.CPUS })
	client("cpu_total_s", "client cpu total s", Seconds, Lower, func(cl *result.Client) float64 { return cl.CPUTotalS })
	client("cores", "client cores", Cores, Lower, func(cl *result.Client) float64 { return cl.Cores })
	client("cores_available", "cores available", Cores, Neither, func(cl *result.Client) float64 { return float64(cl.CoresAvailable) })
	client("max_rss_bytes", "client peak rss", Bytes, Lower, func(cl *result.Client) float64 { return float64(cl.MaxRSSBytes) })
	client("collect_mean_us", "merge mean", Micros, Lower, func(cl *result.Client) float64 { return cl.CollectMeanUs })
	client("collect_max_us", "merge max", Micros, Lower, func(cl *result.Client) float64 { return cl.CollectMaxUs })
	c.add(Figure{Path: "measured_s", Label: "measured s", Unit: Seconds, Better: Neither, Kind: -1,
		get: func(r *result.Result) (float64, bool) { return r.MeasuredS, true }})
}

// addDrain adds the drain after the load (absent from results made
// before it was reported): how long the consumers took to catch up.
func (c *Catalogue) addDrain() {
	drain := func(key, label string, unit Unit, better Better, get func(d *result.Drain) float64) {
		c.add(Figure{Path: "drain." + key, Label: label, Unit: unit, Better: better, Gate: better != Neither, Kind: -1,
			get: func(r *result.Result) (float64, bool) {
				if r.Drain == nil {
					return 0, false
				}
				return get(r.Drain), true
			}})
	}
	drain("s", "drain s", Seconds, Lower, func(d *result.Drain) float64 { return d.Seconds })
	drain("consuming_s", "drain consuming s", Seconds, Lower, func(d *result.Drain) float64 { return d.ConsumingS })
	drain("consumed", "drain consumed", Count, Lower, func(d *result.Drain) float64 { return float64(d.Consumed) })
	c.add(Figure{Path: "rates.consumed_over_s", Label: "consumed over s", Unit: Seconds, Better: Neither, Kind: -1,
		get: func(r *result.Result) (float64, bool) { return ptr(r.Rates.ConsumedOverS) }})
}

// addAudit adds the delivery audit's totals (absent when the audit was off).
func (c *Catalogue) addAudit() {
	audit := func(key, label string, better Better, get func(a *result.Audit) int64) {
		c.add(Figure{Path: "audit.total." + key, Label: "audit " + label, Unit: Count, Better: better, Gate: better != Neither, Kind: -1,
			get: func(r *result.Result) (float64, bool) {
				if r.Audit == nil {
					return 0, false
				}
				return float64(get(r.Audit)), true
			}})
	}
	audit("expected", "expected", Neither, func(a *result.Audit) int64 { return a.Total.Expected })
	audit("consumed", "consumed", Neither, func(a *result.Audit) int64 { return a.Total.Consumed })
	audit("left", "left", Neither, func(a *result.Audit) int64 { return a.Total.Left })
	audit("dropped", "dropped", Lower, func(a *result.Audit) int64 { return a.Total.Dropped })
	audit("lost", "lost", Lower, func(a *result.Audit) int64 { return a.Total.Lost })
	audit("unconfirmed", "unconfirmed", Lower, func(a *result.Audit) int64 { return a.Total.Unconfirmed })
	audit("unknown", "unknown", Lower, func(a *result.Audit) int64 { return a.Total.Unknown })
	audit("duplicates", "duplicates", Lower, func(a *result.Audit) int64 { return a.Total.Duplicates })
	audit("redelivered", "redelivered", Neither, func(a *result.Audit) int64 { return a.Total.Redelivered })
	audit("out_of_order", "out of order", Lower, func(a *result.Audit) int64 { return a.Total.OutOfOrder })
	audit("unexpected", "unexpected", Lower, func(a *result.Audit) int64 { return a.Total.Unexpected })
}

// CapacityPath is the answer of a capacity search, the rate it found: a
// figure of capacity documents (a result never has it), gated like a rate.
const CapacityPath = "capacity.rate_per_s"

func (c *Catalogue) addCapacity() {
	c.add(Figure{Path: CapacityPath, Label: "capacity/s", Unit: PerSecond, Better: Higher, Gate: true, Kind: -1,
		get: func(*result.Result) (float64, bool) { return 0, false }})
}

// Grid is the figures a sweep grid shows for every variant, in column
// order (columns no variant has are left out).
func Grid() []Figure {
	return pick("rates.published_per_s", "rates.consumed_per_s",
		"latency.end_to_end.p50_us", "latency.end_to_end.p99_us", "latency.end_to_end.p999_us",
		"latency.confirm.p99_us", "rates.rpc_replies_per_s", "latency.rpc.p99_us", "client.cpu_s")
}

// Compared is what compare sets side by side when both files have it:
// rates, the main percentiles of every latency kind, and client CPU.
// Gated figures are added to it.
func Compared() []Figure {
	out := pick("rates.published_per_s", "rates.confirmed_per_s", "rates.consumed_per_s", "rates.rpc_replies_per_s")
	for _, k := range metrics.Kinds() {
		for _, st := range []string{StatP50, StatP99, StatP999, StatMax} {
			out = append(out, Latency(k, st))
		}
	}
	return append(out, pick("client.cpu_s")...)
}

func pick(paths ...string) []Figure {
	out := make([]Figure, 0, len(paths))
	for _, p := range paths {
		f, ok := Lookup(p)
		if !ok {
			panic("catalog: unknown figure " + p) // a programming error, caught by the package's tests
		}
		out = append(out, f)
	}
	return out
}
