package driver

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mqbench/mqbench/internal/scenario"
)

// writeSyscalls is the process's count of write system calls so far, from
// the kernel (/proc/self/io): a clock independent of the code under test.
func writeSyscalls(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscw in /proc/self/io")
	return 0
}

// TestCoalescingCutsWriteSyscalls: with coalesced writes (the default) a
// run of 20,000 confirmed publishes makes far fewer write system calls per
// message than with --no-coalesce, which makes about one per publish (and
// per ack batch) as amqp091-go does alone; the kernel counts them. The
// result records which was used.
func TestCoalescingCutsWriteSyscalls(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts write system calls from /proc")
	}
	perMessage := map[bool]float64{}
	for _, off := range []bool{false, true} {
		sc := scenario.Default()
		sc.Producers = scenario.Producers{Count: 1, Messages: 20_000, Confirm: 1000, Size: 16}
		sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckMultiple, MultiAckEvery: 100, Prefetch: 1000}
		sc.Queues = []scenario.Queue{{Name: "mqbench-coalesce"}}
		sc.NoCoalesce = off
		own(t, &sc)
		before := writeSyscalls(t)
		res := runOK(t, sc)
		writes := writeSyscalls(t) - before
		if res.Scenario.NoCoalesce != off {
			t.Errorf("the result records no_coalesce %v, the run used %v", res.Scenario.NoCoalesce, off)
		}
		perMessage[off] = float64(writes) / float64(res.Totals.Published)
		t.Logf("no_coalesce=%v: %d write syscalls for %d messages (%.3f each), %.0f msg/s",
			off, writes, res.Totals.Published, perMessage[off], *res.Rates.ConsumedPerS)
	}
	if perMessage[true] < 0.8 {
		t.Errorf("--no-coalesce made %.3f write syscalls per message; amqp091-go alone makes about one per publish", perMessage[true])
	}
	if perMessage[false] > 0.5*perMessage[true] {
		t.Errorf("coalesced writes made %.3f write syscalls per message, not half of --no-coalesce's %.3f", perMessage[false], perMessage[true])
	}
}
