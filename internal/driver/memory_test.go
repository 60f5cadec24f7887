package driver

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
		name           string
		live, headroom uint64
		want           int
	}{
		{"fast run, small heap: capped at headroomMax", 4 * mib, 200 * mib, 800},
		{"fast run, one second of allocation", 4 * mib, 20 * mib, 500},
		{"paced run, large heap: a second of allocation", 40 * mib, 5 * mib, 12},
		{"idle: the floor", 40 * mib, 0, 10},
		{"huge heap, idle: at least 1%", 4096 * mib, 0, 1},
	} {
		if got := gcPercent(c.live, c.headroom); got != c.want {
			t.Errorf("%s: gcPercent(%d MiB, %d MiB) = %d, want %d", c.name, c.live/mib, c.headroom/mib, got, c.want)
		}
	}
}

func gogcPercent() int64 {
	s := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
	rtmetrics.Read(s)
	return int64(s[0].Value.Uint64())
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
// gets the floor (4 MiB: 3%) and one allocating far above headroomMax a
// second gets the ceiling (32 MiB: 25%, a little less with the test's own
// heap on top of the 128 MiB); nothing changes the percentage
// after stop. Not parallel: the GC percentage is the process's.
func TestHoldHeadroomFollowsAllocation(t *testing.T) {
	if v, set := os.LookupEnv("GOGC"); set {
		os.Unsetenv("GOGC")
		t.Cleanup(func() { os.Setenv("GOGC", v) })
	}
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	live := make([]byte, 128<<20) // reachable until the end: live
	for i := range live {
		live[i] = byte(i) // touched, so the heap really holds it
	}
	runtime.GC()
	stop := holdHeadroom(20 * time.Millisecond)
	waitPercent(t, 3, 3, "with 128 MiB live and nothing allocated")

	// About 1 MiB every 100 µs: 10 GB/s nominal, far above the ceiling
	// however slow the machine.
	churn := make(chan struct{})
	go func() {
		var keep []byte
		for {
			select {
			case <-churn:
				runtime.KeepAlive(keep)
				return
			default:
			}
			keep = make([]byte, 1<<20)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	waitPercent(t, 22, 25, "with 128 MiB live while allocating fast")
	close(churn)

	stop()
	time.Sleep(50 * time.Millisecond) // a check already under way ends
	debug.SetGCPercent(100)
	time.Sleep(100 * time.Millisecond)
	if got := gogcPercent(); got != 100 {
		t.Fatalf("GC percent %d after stop, want 100 (left alone)", got)
	}
	runtime.KeepAlive(live)
}
