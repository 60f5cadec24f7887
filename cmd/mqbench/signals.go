package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// signalWatch follows a command's interruptions. The first SIGINT or
// SIGTERM cancels the run's context: stop, drain, clean up, save. The
// second closes abort: the drain is skipped and the clean-up bounded, but
// what was measured is still saved, since wrappers such as timeout(1) or a
// CI runner signalling the process group deliver one signal twice within
// a millisecond. Only SIGKILL, or a save stuck for saveBound, loses it.
type signalWatch struct {
	sig   chan os.Signal // the first signal, read once by exitCode
	abort chan struct{}  // closed by the second signal
}

// saveBound is how long after the second signal the process may still
// take to clean up and save before it quits without a result: the engine
// needs at most twice its abort grace (2 s) and the save a moment, so
// only a broker or disk that stopped answering reaches it.
const saveBound = 10 * time.Second

func (s *signalWatch) received() os.Signal {
	select {
	case v := <-s.sig:
		return v
	default:
		return syscall.SIGINT
	}
}

// exitCode is the exit code of a run the first signal interrupted: 130
// for SIGINT, 143 for SIGTERM.
func (s *signalWatch) exitCode() int {
	return signalCode(s.received())
}

func signalCode(s os.Signal) int {
	if s == syscall.SIGTERM {
		return exitSIGTERM
	}
	return exitSIGINT
}

// interruptContext returns the context the first SIGINT or SIGTERM
// cancels, the watch whose abort channel the second closes, and the
// function that stops watching (call it before returning).
func interruptContext() (context.Context, *signalWatch, func()) {
	return watchSignals(os.Stderr, saveBound, func(code int) { os.Exit(code) })
}

// watchSignals is interruptContext with its messages, bound and exit
// passed in.
func watchSignals(stderr io.Writer, bound time.Duration, exit func(int)) (context.Context, *signalWatch, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	w := &signalWatch{sig: make(chan os.Signal, 1), abort: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-ch:
			w.sig <- first
			fmt.Fprintln(stderr, "\nmqbench: interrupted; stopping, draining and saving the result (again to skip the drain)")
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			fmt.Fprintln(stderr, "\nmqbench: interrupted again; skipping the drain, cleaning up briefly and saving what was measured")
			close(w.abort)
		case <-done:
			return
		}
		// Later signals are never read: the end is already as short as it
		// can be without losing the result, and bounded here.
		t := time.NewTimer(bound)
		defer t.Stop()
		select {
		case <-t.C:
			fmt.Fprintf(stderr, "mqbench: could not clean up and save within %v of the second signal; quitting without a result\n", bound)
			exit(signalCode(first))
		case <-done:
		}
	}()
	return ctx, w, func() { signal.Stop(ch); close(done); cancel() }
}
