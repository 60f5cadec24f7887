package main

import (
	"bufio"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/sweep"
)

// buildBinary builds mqbench once for the tests that need a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mqbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSignalsStopDrainAndSave: the first SIGINT or SIGTERM stops the load,
// drains, cleans up and writes a valid result with stop_reason interrupted
// (exit 130 or 143).
func TestSignalsStopDrainAndSave(t *testing.T) {
	url := brokertest.URL(t)
	bin := buildBinary(t)
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, exitSIGINT}, {syscall.SIGTERM, exitSIGTERM}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.json")
			queue := "mqbench-signal-" + brokertest.Suffix(t)
			cmd := exec.Command(bin, "run", "--url", url, "--duration", "60s", "--confirm", "100", "--queue", queue, "--durable", "--out", out)
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stderr)
			for lines.Scan() { // the first progress line: the load is running
				if strings.Contains(lines.Text(), "pub ") {
					break
				}
			}
			start := time.Now()
			_ = cmd.Process.Signal(c.sig)
			go func() {
				for lines.Scan() {
				}
			}()
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != c.code {
				t.Fatalf("exit: %v, want %d", err, c.code)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v to stop", d)
			}
			r, err := result.Load(out)
			if err != nil {
				t.Fatalf("no valid result after the signal: %v", err)
			}
			if r.StopReason != result.StopInterrupted || r.Totals.Published == 0 || *r.Totals.Confirmed != r.Totals.Published {
				t.Errorf("result: %s, %+v", r.StopReason, r.Totals)
			}
			if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".mqbench-*")); len(matches) > 0 {
				t.Errorf("temporary files left: %v", matches)
			}
			c := brokertest.Conn(t, url)
			if brokertest.QueueExists(t, c, queue) {
				t.Errorf("queue %s left on the broker", queue)
			}
		})
	}
}

// TestSecondSignalSkipsTheDrainAndSaves: a second SIGINT during the
// (long) drain ends it at once, cuts the clean-up short and still saves
// what was measured, marked, with exit 130, within seconds — whether the
// first signal stopped the run, or the run had stopped by its duration
// and both came in its drain.
func TestSecondSignalSkipsTheDrainAndSaves(t *testing.T) {
	url := brokertest.URL(t)
	bin := buildBinary(t)
	for _, c := range []struct {
		name     string
		duration string
		wait     time.Duration // after two progress lines, before the first signal
		stop     string
	}{
		{"interrupted", "60s", 0, result.StopInterrupted},
		{"in the drain after its duration", "2s", 1500 * time.Millisecond, result.StopDuration},
	} {
		t.Run(c.name, func(t *testing.T) {
			queue := "mqbench-signal2-" + brokertest.Suffix(t)
			conn := brokertest.Conn(t, url)
			t.Cleanup(func() { brokertest.DeleteQueue(conn, queue) })
			out := filepath.Join(t.TempDir(), "r.json")
			// A backlog that would take the whole 60 s drain timeout to consume.
			cmd := exec.Command(bin, "run", "--url", url, "--duration", c.duration, "--rate", "2000", "--consumer-delay", "20ms",
				"--drain-timeout", "60s", "--queue", queue, "--durable", "--out", out)
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stderr)
			for seen := 0; seen < 2 && lines.Scan(); { // two progress lines: a backlog has built up
				if strings.Contains(lines.Text(), "pub ") {
					seen++
				}
			}
			go func() {
				for lines.Scan() {
				}
			}()
			time.Sleep(c.wait)
			_ = cmd.Process.Signal(syscall.SIGINT)
			time.Sleep(500 * time.Millisecond)
			start := time.Now()
			_ = cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitSIGINT {
				t.Fatalf("exit: %v, want %d", err, exitSIGINT)
			}
			d := time.Since(start)
			t.Logf("quit %v after the second signal", d)
			if d > 6*time.Second {
				t.Errorf("took %v after the second signal, want a few seconds at most", d)
			}
			r, err := result.Load(out)
			if err != nil {
				t.Fatalf("no valid result after the second signal: %v", err)
			}
			if r.StopReason != c.stop || r.StopDetail != result.StopDetailSecondSignal || r.Totals.Published == 0 {
				t.Errorf("stop %q, detail %q, published %d: want %s, %s, with traffic", r.StopReason, r.StopDetail, r.Totals.Published, c.stop, result.StopDetailSecondSignal)
			}
			if !hasWarning(r, "interrupted twice") {
				t.Errorf("warnings %q: want one saying the run was interrupted twice", r.Warnings)
			}
			if brokertest.QueueExists(t, conn, queue) {
				t.Errorf("queue %s left on the broker: the clean-up is cut short, not skipped", queue)
			}
		})
	}
}

// TestSweepSIGTERM: a sweep stopped by SIGTERM exits 143 (not 130), saves
// what it measured, flags the interrupted run and leaves it out of the
// variant's median.
func TestSweepSIGTERM(t *testing.T) {
	url := brokertest.URL(t)
	bin := buildBinary(t)
	out := filepath.Join(t.TempDir(), "s.json")
	queue := "mqbench-sweep-signal-" + brokertest.Suffix(t)
	cmd := exec.Command(bin, "run", "--url", url, "--duration", "3s", "--repeat", "3", "--sweep", "prefetch=100",
		"--queue", queue, "--durable", "--out", out)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	for lines.Scan() { // the second run has started and is publishing
		if strings.Contains(lines.Text(), "run 2/3") {
			for lines.Scan() && !strings.Contains(lines.Text(), "pub ") {
			}
			break
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	go func() {
		for lines.Scan() {
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitSIGTERM {
		t.Fatalf("exit: %v, want %d", err, exitSIGTERM)
	}
	doc, err := sweep.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	v := doc.Variants[0]
	if doc.StopReason != result.StopInterrupted || len(v.Runs) != 2 || len(v.Excluded) != 1 || v.Excluded[0] != 1 {
		t.Fatalf("stop %s, %d runs, excluded %v: want 2 runs, the second interrupted and left out", doc.StopReason, len(v.Runs), v.Excluded)
	}
	first, _ := v.Runs[0].Rates.ConsumedPerS, 0
	med, ok := v.Summary.Stat("rates.consumed_per_s", v.Counted())
	if !ok || first == nil || med.Median != *first {
		t.Errorf("median %+v: want the one completed run's %v", med, first)
	}
}
