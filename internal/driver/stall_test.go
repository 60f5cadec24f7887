package driver

import (
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/metrics"

	"github.com/mqbench/mqbench/internal/brokertest"
	"github.com/mqbench/mqbench/internal/scenario"
)

// TestStallShowsInScheduleLatency stalls the connection (a proxy that stops
// forwarding) for one second of a fixed-rate run with a small confirm
// window. The producer cannot send while the window is full, so messages
// go out late: latency from the schedule shows the stall, latency from the
// actual send hides it — which is why the schedule-based figure is the one
// mqbench reports.
func TestStallShowsInScheduleLatency(t *testing.T) {
	const stall = time.Second
	sc := scenario.Default()
	sc.Duration = scenario.Duration(4 * time.Second)
	sc.Producers = scenario.Producers{Count: 1, Rate: 400, Confirm: 5, Size: 20}
	sc.Consumers = scenario.Consumers{Count: 1, Ack: scenario.AckAuto}
	sc.Queues = []scenario.Queue{{Name: "mqbench-stall"}}
	own(t, &sc)
	u, err := url.Parse(sc.URL)
	if err != nil {
		t.Fatal(err)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5672"
	}
	proxy := brokertest.NewProxy(t, net.JoinHostPort(host, port))
	u.Host = proxy.Addr()
	sc.URL = u.String()

	time.AfterFunc(1500*time.Millisecond, func() {
		proxy.Pause()
		time.AfterFunc(stall, proxy.Resume)
	})
	res := runOK(t, sc)
	sched, actual, lag := res.Latency[metrics.EndToEnd], res.Latency[metrics.EndToEndActual], res.Latency[metrics.SendLag]
	if sched == nil || actual == nil || lag == nil {
		t.Fatalf("paced run without schedule, actual and lag figures: %+v", res.Latency)
	}
	t.Logf("p99: schedule %dµs, actual send %dµs; send lag max %dµs", sched.P99Us, actual.P99Us, lag.MaxUs)
	if sched.P99Us < int64(stall/time.Microsecond)/2 {
		t.Errorf("schedule-based p99 %dµs does not show the %v stall", sched.P99Us, stall)
	}
	if actual.P99Us*4 > sched.P99Us {
		t.Errorf("actual-send p99 %dµs should hide most of the stall (schedule-based %dµs)", actual.P99Us, sched.P99Us)
	}
	if lag.MaxUs < int64(stall/time.Microsecond)/2 {
		t.Errorf("send lag max %dµs does not show the stall", lag.MaxUs)
	}
	if res.Totals.Published != val(res.Totals.Consumed) || val(res.Totals.Confirmed) != res.Totals.Published {
		t.Errorf("published %d confirmed %d consumed %d: a stall must not lose messages",
			res.Totals.Published, val(res.Totals.Confirmed), val(res.Totals.Consumed))
	}
}
