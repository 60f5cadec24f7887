//go:build !windows

package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a buffer the watch's goroutine writes while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecondSignalAbortsThenBoundsTheSave: the first signal cancels the
// context, the second closes abort (it does not exit), and only a save
// that outlasts the bound ends the process, with the first signal's code;
// a save within the bound is never cut.
func TestSecondSignalAbortsThenBoundsTheSave(t *testing.T) {
	for _, c := range []struct {
		name          string
		first         syscall.Signal
		saveFor       time.Duration
		wantExit      int // 0: must not exit
		wantInMessage string
	}{
		{"save in time", syscall.SIGINT, 50 * time.Millisecond, 0, ""},
		{"save stuck after SIGINT", syscall.SIGINT, time.Second, exitSIGINT, "quitting without a result"},
		{"save stuck after SIGTERM", syscall.SIGTERM, time.Second, exitSIGTERM, "quitting without a result"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr lockedBuffer
			exited := make(chan int, 1)
			ctx, w, stop := watchSignals(&stderr, 300*time.Millisecond, func(code int) { exited <- code })
			self := func(s syscall.Signal) {
				if err := syscall.Kill(os.Getpid(), s); err != nil {
					t.Fatal(err)
				}
			}
			self(c.first)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the first signal did not cancel the context")
			}
			self(syscall.SIGINT)
			select {
			case <-w.abort:
			case <-time.After(5 * time.Second):
				t.Fatal("the second signal did not close abort")
			}
			time.Sleep(c.saveFor) // cleaning up and saving
			stop()
			time.Sleep(400 * time.Millisecond) // past the bound
			select {
			case code := <-exited:
				if code != c.wantExit {
					t.Errorf("exit %d, want %d", code, c.wantExit)
				}
			default:
				if c.wantExit != 0 {
					t.Errorf("no exit after a save stuck past the bound, want %d", c.wantExit)
				}
			}
			if got := stderr.String(); !strings.Contains(got, "interrupted again") || !strings.Contains(got, c.wantInMessage) {
				t.Errorf("stderr %q: want the second interruption said, and %q", got, c.wantInMessage)
			}
			if code := w.exitCode(); code != signalCode(c.first) {
				t.Errorf("exit code %d, want the first signal's %d", code, signalCode(c.first))
			}
		})
	}
}
