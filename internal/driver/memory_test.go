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
		live uint64
		want int
	}{
		{1 * mib, 100},   // a few fast workers: the runtime's default
		{16 * mib, 100},  // 16 MiB of headroom is as much again
		{32 * mib, 50},   // the 16 MiB floor
		{64 * mib, 25},   // a quarter of live
		{1024 * mib, 25}, // still a quarter
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", c.live/mib, got, c.want)
		}
	}
}

func gogcPercent() int64 {
	s := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
	rtmetrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestHoldHeadroomFollowsTheLiveHeap: when the live heap grows after the
// start, the percentage follows it (a quarter of a 128 MiB heap is 25%),
// and nothing changes it after stop. Not parallel: the GC percentage is
// the process's.
func TestHoldHeadroomFollowsTheLiveHeap(t *testing.T) {
	if v, set := os.LookupEnv("GOGC"); set {
		os.Unsetenv("GOGC")
		t.Cleanup(func() { os.Setenv("GOGC", v) })
	}
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	live := make([]byte, 128<<20) // reachable until the end: live
	stop := holdHeadroom(5 * time.Millisecond)
	runtime.GC()
	deadline := time.Now().Add(5 * time.Second)
	for gogcPercent() != 25 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := gogcPercent(); got != 25 {
		t.Fatalf("GC percent %d with 128 MiB live, want 25", got)
	}
	stop()
	time.Sleep(20 * time.Millisecond) // a check already under way ends
	debug.SetGCPercent(100)
	time.Sleep(50 * time.Millisecond)
	if got := gogcPercent(); got != 100 {
		t.Fatalf("GC percent %d after stop, want 100 (left alone)", got)
	}
	runtime.KeepAlive(live)
}
