package engine

import (
	"time"

	"github.com/mqbench/mqbench/internal/result"
)

// stopGrace is how much longer than the drain timeout stopping the load
// may take: a producer stuck writing to a connection the broker blocks
// must not hang the run (Finish closes its connection).
const stopGrace = 5 * time.Second

// finishTimeout bounds the clean-up: cancelling consumers, deleting the
// topology, closing connections.
const finishTimeout = 30 * time.Second

// stopAndDrain stops the load and, unless the run failed, drains what is
// queued, reporting each interval while that lasts (marked drain). It
// returns how the drain went and the backlog, read afresh, when the load
// stopped and when the drain ended (nil: could not be read).
func (r *runner) stopAndDrain(drain bool) (out DrainResult, atStop, atEnd *result.Backlog) {
	done := make(chan DrainResult, 1)
	go func() {
		atStop = r.readBacklog() // nothing is published any more (the window closed)
		stopCtx, cancel := r.phase(r.cfg.DrainTimeout+stopGrace, abortGrace)
		r.w.StopLoad(stopCtx)
		cancel()
		out := DrainResult{Ended: result.DrainSkipped}
		if drain {
			drainCtx, cancel := r.phase(r.cfg.DrainTimeout, 0)
			out = r.w.Drain(drainCtx)
			cancel()
		}
		atEnd = r.readBacklog()
		done <- out
	}()
	ticker := time.NewTicker(r.cfg.Interval)
	defer ticker.Stop()
	for {
		select {
		case out = <-done:
			r.endBacklog = atEnd // the last interval ends with the fresh reading
			r.tick(r.cfg.Now(), true)
			return out, atStop, atEnd
		case <-ticker.C:
			r.tick(r.cfg.Now(), true)
		}
	}
}

// readBacklog reads the workload's backlog afresh, nil when it cannot.
func (r *runner) readBacklog() *result.Backlog {
	if b, ok := r.w.ReadBacklog(); ok {
		return &b
	}
	return nil
}
