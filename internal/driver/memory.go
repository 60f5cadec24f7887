package driver

import (
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// settleMemory runs before the start (outside the measured window).
// Setting up thousands of workers leaves garbage the heap would otherwise
// keep for the whole run: it is collected and the pages handed back. Then
// the garbage collector's headroom is set to a quarter of what the workers
// hold, at least heapHeadroomMin: with the runtime's default (as much
// again as is live) a run of thousands of workers, whose memory is almost
// all their long-lived state, would carry tens of MB of garbage for the
// few messages each sends; a run of a few fast workers, whose live heap is
// small, keeps the default and collects no more often. GOGC, when set,
// decides instead.
func settleMemory() {
	debug.FreeOSMemory()
	if gogcSet() {
		return
	}
	if live := liveHeap(); live > 0 {
		debug.SetGCPercent(gcPercent(live))
	}
}

// holdHeadroom keeps the headroom settleMemory chose while the run goes
// on: the workers' state keeps growing after the start (their first
// messages, the audit's sets), and a percentage fixed at the start would
// let the garbage grow with it — at 5,000 workers the live heap grows by
// half in the first seconds. Every check re-reads the live heap (as of the
// last collection) and sets the percentage again when it has moved; the
// returned func stops the checks. GOGC, when set, decides instead.
func holdHeadroom(every time.Duration) (stop func()) {
	if gogcSet() {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		last := -1
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if live := liveHeap(); live > 0 {
				if p := gcPercent(live); p != last {
					debug.SetGCPercent(p)
					last = p
				}
			}
		}
	}()
	return func() { close(done) }
}

// heapHeadroomCheck is how often holdHeadroom re-reads the live heap: a
// collection or two apart at the rates where it matters, and a read of a
// runtime metric costs microseconds.
const heapHeadroomCheck = time.Second

func gogcSet() bool {
	_, set := os.LookupEnv("GOGC")
	return set
}

// liveHeap is the heap the last collection found live (0 before one).
func liveHeap() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// heapHeadroomMin is the least garbage the heap may gather between
// collections.
const heapHeadroomMin = 16 << 20

// gcPercent is the GC percentage that lets the heap grow by a quarter of
// live, or heapHeadroomMin, before a collection: never more than the
// runtime's default of 100.
func gcPercent(live uint64) int {
	headroom := max(live/4, heapHeadroomMin)
	return int(min(100, 100*headroom/live))
}
