package gcpolicy

import (
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name              string
		scanned, headroom uint64
		want              int
	}{
		{"fast run: capped at headroomMax", 8 * mib, 200 * mib, 400},
		{"fast run, one second of allocation", 8 * mib, 20 * mib, 250},
		{"tiny heap: the runtime's 4 MiB floor lifted to heap + headroom", 1 * mib, 32 * mib, 825},
		{"paced run, large heap and stacks: a second of allocation", 64 * mib, 8 * mib, 12},
		{"idle: the floor", 40 * mib, 0, 10},
		{"huge heap, idle: at least 1%", 4096 * mib, 0, 1},
	} {
		if got := gcPercent(c.scanned, c.headroom); got != c.want {
			t.Errorf("%s: gcPercent(%d MiB, %d MiB) = %d, want %d", c.name, c.scanned/mib, c.headroom/mib, got, c.want)
		}
	}
}

// TestGCPercentBoundsTheGarbage: whatever the heap, the garbage the
// runtime then allows (its goal, from its own formula, minus live) stays
// within [headroomMin, headroomMax] (give or take rounding, and the heap
// itself once more when it is under the runtime's floor): a check of the
// percentage against what it is for, not against its own arithmetic.
func TestGCPercentBoundsTheGarbage(t *testing.T) {
	const mib = 1 << 20
	for _, live := range []uint64{mib / 2, 1 * mib, 3 * mib, 40 * mib, 1024 * mib} {
		for _, stacks := range []uint64{0, 25 * mib} {
			for _, rate := range []uint64{0, 5 * mib, 300 * mib} {
				pct := uint64(gcPercent(live+stacks, rate))
				goal := max(live+(live+stacks)*pct/100, runtimeHeapMin*pct/100)
				garbage := goal - live
				// Under the runtime's floor the goal lands between live +
				// headroom and twice live + headroom.
				most := headroomMax + min(live, runtimeHeapMin) + mib/2
				if garbage > most || (garbage < headroomMin*9/10 && pct > 1) {
					t.Errorf("live %d MiB, stacks %d MiB, %d MiB/s: %d%% allows %.1f MiB of garbage, want %d to %d",
						live/mib, stacks/mib, rate/mib, pct, float64(garbage)/mib, headroomMin/mib, headroomMax/mib)
				}
			}
		}
	}
}

func gogcPercent() int64 { return int64(readMetric("/gc/gogc:percent")) }

func runtimeGoal() uint64 { return readMetric("/gc/heap/goal:bytes") }
func liveNow() uint64     { return readMetric("/gc/heap/live:bytes") }

func readMetric(name string) uint64 {
	s := []rtmetrics.Sample{{Name: name}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// waitPercent waits up to 5 s for the GC percentage to come within
// [lo, hi].
func waitPercent(t *testing.T, lo, hi int64, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	in := func(p int64) bool { return p >= lo && p <= hi }
	for !in(gogcPercent()) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := gogcPercent(); !in(got) {
		t.Fatalf("GC percent %d %s, want %d to %d", got, what, lo, hi)
	}
}

// TestHoldHeadroomFollowsAllocation: with 128 MiB live, an idle process
// gets the floor (4 MiB: 3%, 2% once the test binary's own heap passes a
// few MiB) and one allocating far above headroomMax a
// second gets the ceiling (32 MiB: 25%, a little less with the test's own
// heap on top of the 128 MiB); Restore puts back the process's 100 and
// nothing changes it after. Not parallel: the GC percentage is the
// process's.
func TestHoldHeadroomFollowsAllocation(t *testing.T) {
	unsetGOGC(t, 100)
	live := make([]byte, 128<<20) // reachable until the end: live
	for i := range live {
		live[i] = byte(i) // touched, so the heap really holds it
	}
	runtime.GC()
	r := &Run{} // no Settle: the checks alone set the percentage
	r.Hold(20 * time.Millisecond)
	waitPercent(t, 2, 3, "with 128 MiB live and nothing allocated")
	// The runtime's own goal, not this package's arithmetic: what it now
	// lets the heap gather is about headroomMin (2% of the scanned heap,
	// after integer truncation, is 2.7 MiB).
	runtime.GC()
	if garbage := runtimeGoal() - liveNow(); garbage < headroomMin*6/10 || garbage > headroomMin*12/10 {
		t.Errorf("the runtime allows %.1f MiB of garbage, want about %d MiB", float64(garbage)/(1<<20), headroomMin>>20)
	}

	// About 1 MiB every 100 µs: 10 GB/s nominal, far above the ceiling
	// however slow the machine.
	stop := make(chan struct{})
	go churn(stop)
	waitPercent(t, 22, 25, "with 128 MiB live while allocating fast")
	close(stop)

	r.Restore()
	if got := gogcPercent(); got != 100 {
		t.Fatalf("GC percent %d after Restore, want the process's 100", got)
	}
	time.Sleep(100 * time.Millisecond) // five check intervals: none comes
	if got := gogcPercent(); got != 100 {
		t.Fatalf("GC percent %d after Restore, want 100 (left alone)", got)
	}
	runtime.KeepAlive(live)
}

// unsetGOGC runs the test without GOGC (the policy applies), restoring
// the variable and the process's percentage after it.
func unsetGOGC(t *testing.T, percent int) {
	t.Helper()
	if v, set := os.LookupEnv("GOGC"); set {
		os.Unsetenv("GOGC")
		t.Cleanup(func() { os.Setenv("GOGC", v) })
	}
	prev := debug.SetGCPercent(percent)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
}

// churn allocates about 1 MiB every 100 µs until stop is closed: far
// above headroomMax a second, so the checks move the percentage.
func churn(stop <-chan struct{}) {
	var keep []byte
	for {
		select {
		case <-stop:
			runtime.KeepAlive(keep)
			return
		default:
		}
		keep = make([]byte, 1<<20)
		time.Sleep(100 * time.Microsecond)
	}
}

// TestRunsRestoreTheProcessSetting: the runs of a sweep or a capacity
// search follow one another in one process; each changes the GC
// percentage while it goes on (Settle, then Hold's checks under fast
// allocation) and hands back the process's own (137 here, no value the
// policy picks) when it ends — also a run that ends before Hold (a failed
// --start-at). Not parallel: the GC percentage is the process's.
func TestRunsRestoreTheProcessSetting(t *testing.T) {
	const own = 137
	unsetGOGC(t, own)
	live := make([]byte, 64<<20) // live: the policy's percentages are far from 137
	for i := range live {
		live[i] = byte(i)
	}
	runtime.GC()
	for run := 1; run <= 3; run++ {
		r := Settle()
		if got := gogcPercent(); got == own {
			t.Fatalf("run %d: Settle left the percentage at %d: the test could not see a restore", run, got)
		}
		r.Hold(5 * time.Millisecond)
		stop := make(chan struct{})
		go churn(stop)
		waitPercent(t, 1, 60, "while allocating fast")
		close(stop)
		r.Restore()
		if got := gogcPercent(); got != own {
			t.Fatalf("run %d: GC percent %d after the run, want the process's %d", run, got, own)
		}
	}
	r := Settle() // a run that fails before it starts
	r.Restore()
	if got := gogcPercent(); got != own {
		t.Fatalf("GC percent %d after a run that never started, want %d", got, own)
	}
	runtime.KeepAlive(live)
}

// TestGOGCDecides: with GOGC set, a run never touches the percentage —
// not at Settle, not during the run, not at Restore.
func TestGOGCDecides(t *testing.T) {
	const own = 137
	t.Setenv("GOGC", "137")
	prev := debug.SetGCPercent(own)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	live := make([]byte, 64<<20)
	runtime.GC()
	r := Settle()
	r.Hold(5 * time.Millisecond)
	stop := make(chan struct{})
	go churn(stop)
	time.Sleep(100 * time.Millisecond) // twenty check intervals
	close(stop)
	during := gogcPercent()
	r.Restore()
	if after := gogcPercent(); during != own || after != own {
		t.Fatalf("with GOGC=137 the percentage was %d during the run and %d after, want %d", during, after, own)
	}
	runtime.KeepAlive(live)
}
