package engine

import (
	"time"

	"github.com/mqbench/mqbench/internal/result"
)

// stopAndDrain stops the load and, unless the run failed, drains what is
// queued, reporting each interval while that lasts (marked drain).
func (r *runner) stopAndDrain(drain bool) DrainResult {
	done := make(chan DrainResult, 1)
	go func() {
		stopCtx, cancel := r.phase(r.cfg.DrainTimeout+stopGrace, abortGrace)
		r.w.StopLoad(stopCtx)
		cancel()
		out := DrainResult{Ended: result.DrainSkipped}
		if drain {
			drainCtx, cancel := r.phase(r.cfg.DrainTimeout, 0)
			out = r.w.Drain(drainCtx)
			cancel()
		}
		done <- out
	}()
	ticker := time.NewTicker(r.cfg.Interval)
	defer ticker.Stop()
	for {
		select {
		case out := <-done:
			r.tick(r.cfg.Now(), true)
			return out
		case <-ticker.C:
			r.tick(r.cfg.Now(), true)
		}
	}
}

// backlog is the workload's backlog now, nil when unknown.
func (r *runner) backlog() *result.Backlog {
	if b, ok := r.w.Backlog(); ok {
		return &b
	}
	return nil
}
