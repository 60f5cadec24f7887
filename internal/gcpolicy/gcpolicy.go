// Package gcpolicy sets the garbage collector's headroom for a run: about
// one second of the run's allocation instead of the runtime's default (see
// below), and gives the process its own setting back when the run ends.
// GOGC, when set, decides instead.
package gcpolicy

import (
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// The garbage collector's headroom — how much garbage the heap may gather
// between two collections — is set by mqbench, not left at the runtime's
// default of "as much again as is live", which is wrong for a load
// generator both ways:
//
//   - A few fast workers hold a few MB and allocate 100 MB/s or more inside
//     the client library (every frame read and every publish): the default
//     collects 20–40 times a second, a few per cent of the client's CPU and
//     a stop of every goroutine each time, for a heap that fits in cache.
//   - Thousands of paced workers hold tens of MB of long-lived state and
//     allocate a few MB/s: the default keeps as much again of garbage that
//     nothing needs, the largest single part of their memory after their
//     stacks.
//
// Both are answered by one rule: the headroom is about one second of the
// allocation the run has been doing, never under headroomMin and never over
// headroomMax. A collection then comes about once a second whatever the
// shape, up to headroomMax/s of allocation (a fast run keeps at most
// headroomMax of garbage; a slow one about what it allocates in a second).
// GOGC, when set, decides instead.

const (
	// headroomMin is the least garbage the heap may gather: below it a
	// collection's fixed costs dominate.
	headroomMin = 4 << 20
	// headroomMax bounds what a fast run keeps of garbage: at 100 MB/s of
	// allocation it means about three collections a second instead of 25.
	headroomMax = 32 << 20
	// headroomStart is the headroom from the start until the first check
	// has measured the allocation rate.
	headroomStart = 16 << 20
	// CheckEvery is how often Hold measures the allocation rate and
	// re-reads the live heap: about a collection apart, and a read of two
	// runtime metrics costs microseconds.
	CheckEvery = time.Second
)

// Run is one run's hold on the process's GC percentage: Settle takes it,
// Hold keeps the headroom while the run goes on, Restore hands the process
// its own setting back. The percentage is the process's, not the run's: a
// sweep or a capacity search runs many times in one process, and each run
// must find the setting the process had (the runtime's, or GOGC's) rather
// than the last run's headroom, which fits the last run's allocation and
// nothing else. Runs in one process are meant to follow one another; two
// that overlap each restore what they found at their start, so the one
// that started first must end last (nested) for the process to get its own
// setting back.
type Run struct {
	prev  int  // the percentage before the run first changed it
	saved bool // prev is set: the run has changed the percentage
	// stop ends Hold's checks; stopped is closed once they have ended,
	// after which no check can set the percentage again.
	stop, stopped chan struct{}
}

// Settle runs before the start (outside the measured window). Setting up
// thousands of workers leaves garbage the heap would otherwise keep for the
// whole run: it is collected and the pages handed back; the headroom starts
// at headroomStart. Restore must follow, whatever happens to the run.
func Settle() *Run {
	r := &Run{}
	debug.FreeOSMemory()
	if gogcSet() {
		return r
	}
	if scanned, _ := heapReading(); scanned > 0 {
		r.set(gcPercent(scanned, headroomStart))
	}
	return r
}

// set sets the percentage, keeping the process's own from the first time.
func (r *Run) set(p int) {
	old := debug.SetGCPercent(p)
	if !r.saved {
		r.prev, r.saved = old, true
	}
}

// Hold keeps the headroom at about one second of allocation while the run
// goes on: every check measures the allocation since the last one and
// re-reads the live heap and stacks (as of the last collection), which keep
// growing after the start at thousands of workers (their first messages,
// the audit's sets), and sets the percentage again when it has moved.
// Restore stops the checks. Call it at most once.
func (r *Run) Hold(every time.Duration) {
	if gogcSet() {
		return
	}
	r.stop, r.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		last := -1
		_, allocs := heapReading()
		at := time.Now()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
			scanned, total := heapReading()
			now := time.Now()
			perSecond := float64(total-allocs) / now.Sub(at).Seconds()
			allocs, at = total, now
			if scanned == 0 {
				continue
			}
			if p := gcPercent(scanned, uint64(perSecond)); p != last {
				r.set(p)
				last = p
			}
		}
	}()
}

// Restore stops Hold's checks, waits until none can still be under way
// (one that set the percentage after the restore would undo it), and sets
// the percentage back to what it was before Settle. With GOGC set nothing
// was changed, so nothing is restored. Call it once, at the end of the run.
func (r *Run) Restore() {
	if r.stop != nil {
		close(r.stop)
		<-r.stopped // r.prev and r.saved are the checks' no more
	}
	if r.saved {
		debug.SetGCPercent(r.prev)
	}
}

func gogcSet() bool {
	_, set := os.LookupEnv("GOGC")
	return set
}

// heapReading returns what the last collection found to scan — the live
// heap plus the goroutine stacks and globals it scanned (0 before a
// collection) — and the bytes allocated since the process started.
func heapReading() (scanned, allocated uint64) {
	s := []rtmetrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"}, {Name: "/gc/heap/allocs:bytes"},
	}
	rtmetrics.Read(s)
	live := s[0].Value.Uint64()
	if live == 0 {
		return 0, s[3].Value.Uint64()
	}
	return live + s[1].Value.Uint64() + s[2].Value.Uint64(), s[3].Value.Uint64()
}

// runtimeHeapMin is the Go runtime's least heap goal at GOGC=100; it scales
// with the percentage like the rest of the goal.
const runtimeHeapMin = 4 << 20

// gcPercent is the GC percentage that lets the heap grow by headroom, held
// within [headroomMin, headroomMax], before a collection. The runtime sets
// the goal at live + (live + stacks + globals) × percent/100, and never
// under runtimeHeapMin × percent/100. So the percentage is the headroom
// over scanned (live + stacks + globals) — thousands of goroutine stacks
// would otherwise add their share of headroom on top — and, for a heap
// under runtimeHeapMin, what puts that floor at the heap plus the
// headroom: a heap of 1 MiB given 32 MiB as a share of itself (3,200%)
// would have its floor at 128 MiB.
func gcPercent(scanned, headroom uint64) int {
	headroom = min(max(headroom, headroomMin), headroomMax)
	if scanned < runtimeHeapMin {
		return int(100 * (scanned + headroom) / runtimeHeapMin)
	}
	return int(max(1, 100*headroom/scanned))
}
