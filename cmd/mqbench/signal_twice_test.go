package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
)

// TestTimeoutSIGINTAlwaysSaves: `timeout 60 mqbench run … & kill -INT
// <timeout>` fifty times. timeout forwards the signal to its child and
// then to its whole process group, so mqbench often sees SIGINT twice
// within a millisecond; the second may skip the drain, never the save.
// Every run must exit 130 with a valid, interrupted result, soon.
func TestTimeoutSIGINTAlwaysSaves(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs coreutils timeout and process groups")
	}
	timeoutBin, err := exec.LookPath("timeout")
	if err != nil {
		t.Fatalf("coreutils timeout is not installed: %v", err)
	}
	url := brokertest.URL(t)
	bin := buildBinary(t)
	admin := brokertest.Conn(t, url)
	suffix := brokertest.Suffix(t)
	// Five at a time: each run is light (500 msg/s), most of its time is
	// spent connecting and cleaning up.
	var twice atomic.Int32
	var wg sync.WaitGroup
	lanes := make(chan struct{}, 5)
	for i := range 50 {
		queue := fmt.Sprintf("mqbench-timeout-%s-%d", suffix, i)
		t.Cleanup(func() { brokertest.DeleteQueue(admin, queue) })
		out := filepath.Join(t.TempDir(), "r.json")
		wg.Add(1)
		lanes <- struct{}{}
		go func() {
			defer func() { <-lanes; wg.Done() }()
			if timeoutRun(t, i+1, timeoutBin, bin, url, queue, out) {
				twice.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d of 50 runs saw the second signal", twice.Load())
}

// timeoutRun is one run of TestTimeoutSIGINTAlwaysSaves; it reports
// whether the run was interrupted twice.
func timeoutRun(t *testing.T, n int, timeoutBin, bin, url, queue, out string) bool {
	r, took := interruptUnderTimeout(t, timeoutBin, bin, url, queue, out)
	if r == nil {
		return false
	}
	if r.StopReason != result.StopInterrupted || r.Totals.Published == 0 {
		t.Errorf("run %d: stop %q, published %d: want interrupted with traffic", n, r.StopReason, r.Totals.Published)
	}
	twice := r.StopDetail == result.StopDetailSecondSignal
	if twice && !hasWarning(r, "interrupted twice") {
		t.Errorf("run %d: interrupted twice, but no warning says so: %q", n, r.Warnings)
	}
	if took > 10*time.Second {
		t.Errorf("run %d: took %v after the signal to quit", n, took)
	}
	c, err := amqp.Dial(url)
	if err != nil {
		t.Errorf("run %d: %v", n, err)
		return twice
	}
	defer c.Close()
	if ch, err := c.Channel(); err == nil {
		if _, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil); err == nil {
			t.Errorf("run %d: queue %s left on the broker (the clean-up may be cut short, not skipped)", n, queue)
		}
		ch.Close()
	}
	return twice
}

// interruptUnderTimeout runs mqbench under timeout, sends SIGINT to
// timeout once the load runs, and returns the saved result (nil when
// none was written, after failing the test) and how long the process took
// to end after the signal.
func interruptUnderTimeout(t *testing.T, timeoutBin, bin, url, queue, out string) (*result.Result, time.Duration) {
	cmd := exec.Command(timeoutBin, "60", bin, "run", "--url", url, "--rate", "500", "-z", "60s", "--interval", "100ms",
		"--queue", queue, "--durable", "--out", out)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return nil, 0
	}
	lines := bufio.NewReader(stderr)
	var seen bytes.Buffer
	for { // the first progress line: the load is running
		line, err := lines.ReadString('\n')
		seen.WriteString(line)
		if strings.Contains(line, "pub ") || err != nil {
			break
		}
	}
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT)
	_, _ = io.Copy(&seen, lines)
	err := cmd.Wait()
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitSIGINT {
		t.Errorf("exit: %v, want %d\n%s", err, exitSIGINT, seen.String())
	}
	r, lerr := result.Load(out)
	if lerr != nil {
		t.Errorf("no valid result after the signal: %v\n%s", lerr, seen.String())
		return nil, took
	}
	return r, took
}

// hasWarning reports whether one of r's warnings contains s.
func hasWarning(r *result.Result, s string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}
