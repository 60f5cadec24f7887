// Package metrics records what workers measure without sharing a lock among
// all of them, and merges it once per interval.
//
// Two tiers: each worker owns a Counters block (single writer, atomics so the
// collector can read it at any time), and latencies go into HdrHistograms
// held by a fixed number of shards. Workers are spread over the shards, so
// memory and merge time depend on the shard count, not on the worker count
// (one histogram of 3 significant digits over 1 µs–1 h is ~190 KB).
package metrics

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs to one hour at 3 significant digits.
const (
	LowestMicros  = 1
	HighestMicros = 3_600_000_000
	SigFigs       = 3
)

// NewHistogram returns an empty histogram with mqbench's range and precision.
func NewHistogram() *hdr.Histogram {
	return hdr.New(LowestMicros, HighestMicros, SigFigs)
}

// Kind names a latency that mqbench records.
type Kind int

// The latencies mqbench records. Adding one is a constant here and an entry
// in kinds below: the result's JSON, the tables, the sweep grid, compare's
// gates and every other output take their names from that entry.
const (
	EndToEnd       Kind = iota // consumer receive time minus the send time (the scheduled one for paced producers)
	EndToEndActual             // paced producers: receive time minus the actual send time
	SendLag                    // paced producers: actual send time minus scheduled send time
	Confirm                    // broker confirm arrival minus publish time
	RPC                        // RPC reply arrival minus the request's (scheduled) send time
	RPCServer                  // RPC server: request delivery to reply published
	NumKinds
)

// KindInfo is how one latency kind is named wherever it appears.
type KindInfo struct {
	Key   string // JSON key under "latency" in a result
	Label string // row label in the summary table
	Short string // column prefix in grids and live figures ("e2e" → "e2e p99")
	Prom  string // Prometheus histogram name, without the mqbench_ prefix
	Doc   string // one line saying what it measures
}

// kinds is indexed by Kind; it is never written after initialisation.
var kinds = [NumKinds]KindInfo{
	EndToEnd:       {"end_to_end", "end-to-end", "e2e", "end_to_end_latency_seconds", "consumer receive time minus the send time (the scheduled one for paced producers)"},
	EndToEndActual: {"end_to_end_actual", "e2e from actual send", "e2e actual", "end_to_end_actual_latency_seconds", "paced producers: receive time minus the actual send time"},
	SendLag:        {"send_lag", "send lag", "send lag", "send_lag_seconds", "paced producers: actual send time minus the scheduled one"},
	Confirm:        {"confirm", "confirm", "confirm", "confirm_latency_seconds", "publisher confirm arrival minus publish time"},
	RPC:            {"rpc", "rpc round trip", "rpc", "rpc_latency_seconds", "RPC reply arrival minus the request's (scheduled) send time"},
	RPCServer:      {"rpc_server", "rpc server", "rpc server", "rpc_server_latency_seconds", "mqbench's RPC servers: request delivery to reply published"},
}

// Info returns the kind's names.
func (k Kind) Info() KindInfo { return kinds[k] }

// String returns the JSON key of the latency kind.
func (k Kind) String() string {
	if k < 0 || k >= NumKinds {
		return "unknown"
	}
	return kinds[k].Key
}

// Kinds lists every latency kind in result order.
func Kinds() []Kind {
	out := make([]Kind, NumKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// Counter names an event count.
type Counter int

// The events mqbench counts.
const (
	Published Counter = iota
	Confirmed
	Nacked
	Returned
	Consumed
	RPCRequests   // requests sent by RPC clients
	RPCReplies    // replies matched to an outstanding request
	RPCTimeouts   // requests that got no reply within the timeout
	RPCUnmatched  // replies whose correlation id matches no request
	RPCLate       // replies to requests that had already timed out
	RPCDuplicates // second replies to a request already answered
	RPCServed     // requests answered by mqbench's RPC servers
	Foreign       // deliveries that are not this run's (an earlier run's, another tool's)
	Unstamped     // deliveries whose send time could not be read
	MillisStamped // deliveries stamped in milliseconds (measured at that resolution)
	Refused       // deliveries refused by consumers (basic.nack or basic.reject)
	NumCounters
)

// counterProm is each counter's Prometheus name, without the mqbench_
// prefix; it is never written after initialisation.
var counterProm = [NumCounters]string{
	Published: "messages_published_total", Confirmed: "messages_confirmed_total", Nacked: "messages_nacked_total",
	Returned: "messages_returned_total", Consumed: "messages_consumed_total", RPCRequests: "rpc_requests_total",
	RPCReplies: "rpc_replies_total", RPCTimeouts: "rpc_timeouts_total", RPCUnmatched: "rpc_unmatched_total",
	RPCLate: "rpc_late_total", RPCDuplicates: "rpc_duplicates_total", RPCServed: "rpc_served_total",
	Foreign: "messages_foreign_total", Unstamped: "messages_unstamped_total",
	MillisStamped: "messages_millisecond_stamps_total", Refused: "messages_refused_total",
}

// Prom is the counter's Prometheus name, without the mqbench_ prefix.
func (c Counter) Prom() string { return counterProm[c] }

// Counts is a snapshot of every counter.
type Counts [NumCounters]int64

// Sub returns c minus o, counter by counter.
func (c Counts) Sub(o Counts) Counts {
	for i := range c {
		c[i] -= o[i]
	}
	return c
}

// Window is the measured window's start as workers see it. Set once
// before the start signal and only read afterwards, so reading it on every
// event costs no contention.
type Window struct {
	start atomic.Int64 // Unix nanoseconds
	end   atomic.Int64 // Unix nanoseconds; MaxInt64 when the run has no set length
}

// NewWindow returns a window that has not opened: nothing is measured until
// Set is called.
func NewWindow() *Window {
	w := &Window{}
	w.start.Store(math.MaxInt64)
	w.end.Store(math.MaxInt64)
	return w
}

// End returns when the measured window closes (Unix ns), or MaxInt64.
// Paced workers send nothing due at or after it, so a run of D seconds at
// R msg/s publishes R·D messages, not one more; and no producer sends at
// or after it (the engine moves it to when the run decided to stop), so
// every message published is the window's.
func (w *Window) End() int64 {
	if e := w.end.Load(); e != 0 {
		return e
	}
	return math.MaxInt64
}

// SetEnd sets when the measured window closes (Unix ns).
func (w *Window) SetEnd(end int64) { w.end.Store(end) }

// Start returns the window's start in Unix nanoseconds.
func (w *Window) Start() int64 { return w.start.Load() }

// Set sets the window's start (Unix nanoseconds).
func (w *Window) Set(start int64) { w.start.Store(start) }

// Measured reports whether something that happened (or, for a latency,
// was sent) at the given time belongs to the measured window.
func (w *Window) Measured(at int64) bool { return at >= w.start.Load() }

// Counters is one worker's event counts: every event, and those that
// happened in the measured window (by the event's own timestamp, so warm-up
// is excluded exactly, not from whenever a timer fired). Only the owning
// worker writes; the collector reads concurrently, hence the atomics. The
// padding keeps two workers' blocks off one cache line.
type Counters struct {
	all [NumCounters]atomic.Int64
	in  [NumCounters]atomic.Int64
	win *Window
	_   [64]byte
}

// Count counts one event of kind k that happened at at (Unix nanoseconds).
func (c *Counters) Count(k Counter, at int64) {
	c.all[k].Add(1)
	if c.win.Measured(at) {
		c.in[k].Add(1)
	}
}

// Load returns the number of events of kind k so far, warm-up included.
func (c *Counters) Load(k Counter) int64 { return c.all[k].Load() }

// LoadMeasured returns the number of events of kind k in the measured window.
func (c *Counters) LoadMeasured(k Counter) int64 { return c.in[k].Load() }

// Shard holds the live histograms that a subset of workers record into.
// The mutex is only contended by the workers of this shard and, for a
// pointer swap once per interval, by the collector.
type Shard struct {
	mu     sync.Mutex
	active [NumKinds]*hdr.Histogram
	_      [64]byte
}

// Record adds one latency sample. Histograms hold whole microseconds;
// values outside their range are clamped to it. It does not allocate. A
// kind the registry was not made for (NewRegistryOf) is not recorded.
func (s *Shard) Record(k Kind, d time.Duration) {
	micros := int64(d / time.Microsecond)
	if micros < 0 {
		micros = 0
	} else if micros > HighestMicros {
		micros = HighestMicros
	}
	s.mu.Lock()
	if h := s.active[k]; h != nil {
		_ = h.RecordValue(micros) // cannot fail: clamped to the range
	}
	s.mu.Unlock()
}

// swap replaces the shard's histograms with fresh and returns the old ones.
func (s *Shard) swap(fresh [NumKinds]*hdr.Histogram) [NumKinds]*hdr.Histogram {
	s.mu.Lock()
	old := s.active
	s.active = fresh
	s.mu.Unlock()
	return old
}

// Worker is what one worker records into: its own counters and its shard.
type Worker struct {
	*Counters
	*Shard
}

// Registry owns the shards, the measured window and every worker's counters.
type Registry struct {
	mu      sync.Mutex // guards workers; taken only when workers are created
	shards  []*Shard
	workers []*Counters
	win     *Window
	kinds   KindSet // the latencies it holds histograms for
}

// KindSet says which latency kinds a run records.
type KindSet [NumKinds]bool

// AllKinds is every kind.
func AllKinds() KindSet {
	var s KindSet
	for k := range s {
		s[k] = true
	}
	return s
}

// NewRegistry returns a registry with the given number of histogram shards
// (at least one) whose counters split events at win's start, holding every
// latency kind.
func NewRegistry(shards int, win *Window) *Registry { return NewRegistryOf(shards, win, AllKinds()) }

// NewRegistryOf is NewRegistry for the kinds a run can record only: each
// kind costs a histogram (about 190 KB) per shard and two more in the
// collector, so a run without RPC or confirms does not carry theirs.
func NewRegistryOf(shards int, win *Window, kinds KindSet) *Registry {
	if shards < 1 {
		shards = 1
	}
	r := &Registry{shards: make([]*Shard, shards), win: win, kinds: kinds}
	for i := range r.shards {
		r.shards[i] = &Shard{active: r.histograms()}
	}
	return r
}

// histograms is a fresh histogram of each of the registry's kinds (nil
// for the others).
func (r *Registry) histograms() [NumKinds]*hdr.Histogram {
	var out [NumKinds]*hdr.Histogram
	for k, used := range r.kinds {
		if used {
			out[k] = NewHistogram()
		}
	}
	return out
}

// NewWorker registers a worker and returns its recording handle. Workers are
// assigned to shards round-robin in registration order.
func (r *Registry) NewWorker() Worker {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := &Counters{win: r.win}
	w := Worker{Counters: c, Shard: r.shards[len(r.workers)%len(r.shards)]}
	r.workers = append(r.workers, c)
	return w
}

// Counts sums every worker's counters, warm-up included.
func (r *Registry) Counts() Counts {
	return r.sum(func(c *Counters) *[NumCounters]atomic.Int64 { return &c.all })
}

// Measured sums the events that happened in the measured window.
func (r *Registry) Measured() Counts {
	return r.sum(func(c *Counters) *[NumCounters]atomic.Int64 { return &c.in })
}

// Window returns the measured window the counters split events at.
func (r *Registry) Window() *Window { return r.win }

func (r *Registry) sum(set func(*Counters) *[NumCounters]atomic.Int64) Counts {
	r.mu.Lock()
	ws := r.workers
	r.mu.Unlock()
	var out Counts
	for _, w := range ws {
		v := set(w)
		for k := range out {
			out[k] += v[k].Load()
		}
	}
	return out
}
