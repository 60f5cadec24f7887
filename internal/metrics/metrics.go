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
	"sync"
	"sync/atomic"

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

// The latencies mqbench records.
const (
	EndToEnd  Kind = iota // consumer receive time minus the send time in the body
	Confirm               // broker confirm arrival minus publish time
	RPC                   // RPC reply arrival minus the request's (intended) send time
	RPCServer             // RPC server: request delivery to reply published
	NumKinds
)

// String returns the JSON key of the latency kind.
func (k Kind) String() string {
	switch k {
	case EndToEnd:
		return "end_to_end"
	case Confirm:
		return "confirm"
	case RPC:
		return "rpc"
	case RPCServer:
		return "rpc_server"
	}
	return "unknown"
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
	NumCounters
)

// Counts is a snapshot of every counter.
type Counts [NumCounters]int64

// Sub returns c minus o, counter by counter.
func (c Counts) Sub(o Counts) Counts {
	for i := range c {
		c[i] -= o[i]
	}
	return c
}

// Counters is one worker's event counts. Only the owning worker writes it;
// the collector reads it concurrently, hence the atomics. The padding keeps
// two workers' blocks off one cache line so they never contend.
type Counters struct {
	v [NumCounters]atomic.Int64
	_ [64]byte
}

// Add adds n to counter k.
func (c *Counters) Add(k Counter, n int64) { c.v[k].Add(n) }

// Load returns the current value of counter k.
func (c *Counters) Load(k Counter) int64 { return c.v[k].Load() }

// Shard holds the live histograms that a subset of workers record into.
// The mutex is only contended by the workers of this shard and, for a
// pointer swap once per interval, by the collector.
type Shard struct {
	mu     sync.Mutex
	active [NumKinds]*hdr.Histogram
	_      [64]byte
}

// Record adds one latency sample in microseconds. Values outside the
// histogram's range are clamped to it. It does not allocate.
func (s *Shard) Record(k Kind, micros int64) {
	if micros < 0 {
		micros = 0
	} else if micros > HighestMicros {
		micros = HighestMicros
	}
	s.mu.Lock()
	_ = s.active[k].RecordValue(micros) // cannot fail: clamped to the range
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

// Registry owns the shards and every worker's counters.
type Registry struct {
	mu      sync.Mutex // guards workers; taken only when workers are created
	shards  []*Shard
	workers []*Counters
}

// NewRegistry returns a registry with the given number of histogram shards
// (at least one).
func NewRegistry(shards int) *Registry {
	if shards < 1 {
		shards = 1
	}
	r := &Registry{shards: make([]*Shard, shards)}
	for i := range r.shards {
		s := &Shard{}
		for k := range s.active {
			s.active[k] = NewHistogram()
		}
		r.shards[i] = s
	}
	return r
}

// NewWorker registers a worker and returns its recording handle. Workers are
// assigned to shards round-robin in registration order.
func (r *Registry) NewWorker() Worker {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := &Counters{}
	w := Worker{Counters: c, Shard: r.shards[len(r.workers)%len(r.shards)]}
	r.workers = append(r.workers, c)
	return w
}

// Counts sums every worker's counters.
func (r *Registry) Counts() Counts {
	r.mu.Lock()
	ws := r.workers
	r.mu.Unlock()
	var out Counts
	for _, w := range ws {
		for k := range out {
			out[k] += w.v[k].Load()
		}
	}
	return out
}
