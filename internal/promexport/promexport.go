// Package promexport serves a run's figures as Prometheus metrics: the
// event counters, gauges of the run's state, and every latency as a
// histogram that aggregates across instances (classic buckets and a native
// histogram). It reads the engine's interval snapshots, never the hot
// path; names come from the metric definitions (metrics.KindInfo.Prom,
// Counter.Prom).
package promexport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// Labels name a run's series: its scenario, its sweep variant ("" for a
// single run) and its shard ("" unless sharded). Never a URL.
type Labels struct {
	Scenario, Variant, Shard string
}

func (l Labels) values() []string { return []string{l.Scenario, l.Variant, l.Shard} }

var labelNames = []string{"scenario", "variant", "shard"}

// Exporter is an HTTP endpoint serving /metrics for the runs of the
// process: the run under way and the last one finished (see Run).
type Exporter struct {
	mu sync.Mutex
	// runs are the runs served: those under way (one, unless a library
	// overlaps runs) and at most one finished.
	runs []*run
	reg  *prometheus.Registry
	srv  *http.Server
	ln   net.Listener
}

// Listen starts serving /metrics on addr; a bare ":port" binds the
// loopback interface only (give 0.0.0.0:port to be scraped from
// elsewhere).
func Listen(addr string) (*Exporter, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--prometheus %q: want [HOST]:PORT: %v", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("--prometheus %s: %w", addr, err)
	}
	e := &Exporter{reg: prometheus.NewRegistry(), ln: ln}
	// The Go runtime's and the process's own series (go_memstats_*,
	// process_resident_memory_bytes, …) beside the run's: what the client
	// costs over a long run (scripts/bench-soak.sh reads them).
	for _, c := range []prometheus.Collector{e, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := e.reg.Register(c); err != nil {
			ln.Close()
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// Addr is the address the exporter listens on.
func (e *Exporter) Addr() string { return e.ln.Addr().String() }

// Close stops serving.
func (e *Exporter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Run returns the sink through which the engine feeds one run's series.
// workers is the run's worker count by role.
//
// The series appear with the run's first snapshot (a run whose setup
// failed never shows), and stay once it is done, for a last scrape: its
// counters and histograms at their final values, its gauges at what is
// true of a finished run — no connections up or blocked, no workers
// waiting or running, no CPU — and no backlog, which is not measured any
// more. They go when the next run finishes, so a sweep of any length keeps
// the series (and the histograms) of two runs at most: the one under way
// and the last finished. Prometheus marks series that go away stale, so
// a dashboard's sums over runs count only the live ones.
func (e *Exporter) Run(l Labels, workers map[string]int) engine.Sink {
	return &sink{e: e, r: &run{labels: l, workers: workers}}
}

// startLocked starts serving r. A run with the same labels — a repeat of
// the same variant (--repeat) — leaves: two series with one label set
// would fail the scrape, so the new run takes the old one's place and its
// counters start again (a counter reset, which rate() and increase()
// handle).
func (e *Exporter) startLocked(r *run) {
	for k := range r.hists {
		r.hists[k] = metrics.NewHistogram()
	}
	e.runs = slices.DeleteFunc(e.runs, func(old *run) bool { return old.labels == r.labels })
	e.runs = append(e.runs, r)
	r.started = true
}

// finishLocked marks r done; the run done before it leaves.
func (e *Exporter) finishLocked(r *run) {
	if r.done || !slices.Contains(e.runs, r) {
		return // Done twice, never started, or replaced by a run with its labels
	}
	e.runs = slices.DeleteFunc(e.runs, func(old *run) bool { return old.done })
	r.done, r.up = true, 0
	r.iv = result.Interval{} // the live gauges' values: gone with the run
}

// run is one run's figures, cumulative since its start.
type run struct {
	labels  Labels
	workers map[string]int
	counts  metrics.Counts
	hists   [metrics.NumKinds]*hdr.Histogram
	iv      result.Interval
	up      int
	started bool // served since its first snapshot
	done    bool
	// phases are the phases of a phased run seen so far, in order: each
	// has its mqbench_phase series (1 while under way, else 0).
	phases []string
}

// sink feeds one run's series from the engine's snapshots.
type sink struct {
	e *Exporter
	r *run
}

// Snapshot adds the interval's samples and takes its counts and gauges.
func (s *sink) Snapshot(sn engine.Snapshot) {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if s.r.done {
		return
	}
	if !s.r.started {
		s.e.startLocked(s.r)
	}
	s.r.counts = sn.Counts
	for k, h := range sn.Latency {
		if h != nil && h.TotalCount() > 0 {
			s.r.hists[k].Merge(h)
		}
	}
	if !sn.Final {
		s.r.iv, s.r.up = sn.Interval, sn.ConnectionsUp
		if ph := sn.Interval.Phase; ph != "" && !slices.Contains(s.r.phases, ph) {
			s.r.phases = append(s.r.phases, ph)
		}
	} else {
		s.r.up = 0
	}
}

// Interval does nothing: Snapshot has it all.
func (s *sink) Interval(result.Interval) {}

// Done turns the run's gauges to their post-run values (see Run).
func (s *sink) Done(*result.Result) {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	s.e.finishLocked(s.r)
}

func desc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc("mqbench_"+name, help, append(append([]string(nil), labelNames...), extra...), nil)
}

// Describe sends nothing: the exporter is an unchecked collector (its
// series depend on the runs).
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// Collect emits the series of the runs served.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.runs {
		lv := r.labels.values()
		for c := metrics.Counter(0); c < metrics.NumCounters; c++ {
			ch <- prometheus.MustNewConstMetric(desc(c.Prom(), "mqbench events (see docs/reference/result.md)"), prometheus.CounterValue, float64(r.counts[c]), lv...)
		}
		gauge := func(name, help string, v float64) {
			ch <- prometheus.MustNewConstMetric(desc(name, help), prometheus.GaugeValue, v, lv...)
		}
		gauge("connections_up", "open AMQP connections", float64(r.up))
		gauge("connections_blocked", "connections the broker blocks (connection.blocked)", float64(r.iv.Blocked))
		gauge("disconnected_workers", "workers waiting for a lost connection", float64(r.iv.Disconnected))
		gauge("client_cpu_cores", "mqbench's CPU use over the last interval, in cores", r.iv.CPUCores)
		if r.iv.Backlog != nil {
			gauge("backlog_messages", "messages waiting to be consumed over the run's queues: ready, delivered but not yet processed, and stream lag", float64(*r.iv.Backlog))
		}
		// A phase is a series of its own, not a label on the others: adding
		// a label to existing series would break every query on them.
		for _, ph := range r.phases {
			v := 0.0
			if ph == r.iv.Phase {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(desc("phase", "1 while the phase of a phased run is under way, 0 once it is over", "phase"),
				prometheus.GaugeValue, v, append(lv, ph)...)
		}
		for role, n := range r.workers {
			if r.done {
				n = 0
			}
			ch <- prometheus.MustNewConstMetric(desc("workers", "workers by role", "role"), prometheus.GaugeValue, float64(n), append(lv, role)...)
		}
		for _, k := range metrics.Kinds() {
			d := desc(k.Info().Prom, "mqbench latency: "+k.Info().Doc+" (seconds)")
			// A copy: the registry writes the metric after Collect returns,
			// while the next Snapshot may be merging into the run's.
			ch <- hdrMetric{desc: d, labels: labelPairs(lv), h: hdr.Import(r.hists[k].Export())}
		}
	}
}

// labelPairs are the run's labels as a histogram carries them: sorted by
// name, as Prometheus expects of a written metric.
func labelPairs(values []string) []*dto.LabelPair {
	out := make([]*dto.LabelPair, len(labelNames))
	for i := range labelNames {
		name := labelNames[i]
		out[i] = &dto.LabelPair{Name: &name, Value: &values[i]}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}
