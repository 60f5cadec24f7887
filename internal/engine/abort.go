package engine

import (
	"context"
	"time"
)

// abortGrace is how long stopping the load and the clean-up may each
// still take once the run is aborted: long enough to delete the topology
// and close the connections on a broker that answers, short enough that a
// second Ctrl-C is obeyed within seconds.
const abortGrace = 2 * time.Second

// abortedWarning marks a result whose end a second interruption hurried.
const abortedWarning = "interrupted twice: the drain was skipped or cut short, and the clean-up bounded; " +
	"the measured window is whole, but the totals and the audit may miss what was still in flight"

// phase returns the context of one step of the run's end: it ends after
// d, or grace after the abort (at once with grace 0), whichever comes
// first. The caller cancels it when the step is over, which also ends the
// goroutine that watches the abort.
func (r *runner) phase(d, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	if r.cfg.Abort == nil {
		return ctx, cancel
	}
	go func() {
		select {
		case <-r.cfg.Abort:
		case <-ctx.Done():
			return
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// aborted reports whether the run has been aborted.
func (r *runner) aborted() bool {
	select {
	case <-r.cfg.Abort:
		return true
	default:
		return false
	}
}
