package driver

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	rtmetrics "runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

type profSink struct{ n int }

func (p *profSink) Interval(iv result.Interval) {
	p.n++
	if p.n != 4 {
		return
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	smp := []rtmetrics.Sample{{Name: "/gc/stack/starting-size:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/gc/scan/stack:bytes"}}
	rtmetrics.Read(smp)
	for _, x := range smp {
		fmt.Println(x.Name, x.Value.Uint64())
	}
	st, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(st), "\n") {
		if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
			fmt.Println(l)
		}
	}
	fmt.Printf("heapInuse %d MiB heapAlloc %d MiB heapIdle %d heapReleased %d stackInuse %d MiB sys %d MiB goroutines %d numGC %d\n",
		ms.HeapInuse>>20, ms.HeapAlloc>>20, ms.HeapIdle>>20, ms.HeapReleased>>20, ms.StackInuse>>20, ms.Sys>>20, runtime.NumGoroutine(), ms.NumGC)
	f, _ := os.Create("/tmp/prof/heap.pb.gz")
	pprof.Lookup("heap").WriteTo(f, 0)
	f.Close()
	g, _ := os.Create("/tmp/prof/goroutine.txt")
	pprof.Lookup("goroutine").WriteTo(g, 1)
	g.Close()
}
func (p *profSink) Done(r *result.Result) {}

func TestZZProfile5000(t *testing.T) {
	if os.Getenv("MQBENCH_PROFILE") == "" {
		t.Skip()
	}
	runtime.MemProfileRate = 512
	sc := scenario.Default()
	sc.Duration = scenario.Duration(10 * time.Second)
	sc.Producers = scenario.Producers{Count: 2500, Connections: 100, Rate: 1, StartJitter: scenario.Duration(time.Second)}
	sc.Consumers = scenario.Consumers{Count: 2500, Connections: 100, Ack: scenario.AckAuto}
	sc.Queues = []scenario.Queue{{Name: "mqbench-prof-%d", Count: 50}}
	sc.NoCoalesce = os.Getenv("NOCO") != ""
	if os.Getenv("ONLYP") != "" {
		sc.Consumers.Count = 0
	}
	if os.Getenv("ONLYC") != "" {
		sc.Producers.Count = 0
	}
	own(t, &sc)
	res, err := Run(t.Context(), sc, Options{Sinks: []engine.Sink{&profSink{}}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("RSS %d MiB\n", res.Client.MaxRSSBytes>>20)
}
