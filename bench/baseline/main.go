// Command baseline is the reference mqbench is measured against: the
// smallest amqp091-go publish/consume loop that does the same work (one
// producer, one consumer, the same 12-byte body stamp, confirms and acks as
// asked), with no histograms, no pacing and no bookkeeping beyond counters.
// scripts/bench-baseline.sh runs it beside mqbench and compares client CPU
// per million messages and throughput.
//
//	baseline -duration 20s -size 16 [-confirm 1000 -prefetch 1000 -multi-ack 100] [-persistent -durable]
//	baseline -compare A=loop.json,mqbench.json[,nocoalesce.json] B=... (print the comparison table)
//	baseline -latency L=coalesced.json,nocoalesce.json (compare end-to-end latency)
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/mqbench/mqbench/internal/proc"
	amqp "github.com/rabbitmq/amqp091-go"
)

type config struct {
	url                     string
	duration                time.Duration
	size, confirm, prefetch int
	multiAck                int
	persistent, durable     bool
	out                     string
}

func main() {
	var c config
	var compare bool
	flag.StringVar(&c.url, "url", envOr("MQBENCH_URL", "amqp://guest:guest@localhost:5672/"), "broker URI")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "measured run length")
	flag.IntVar(&c.size, "size", 16, "body size (>= 12)")
	flag.IntVar(&c.confirm, "confirm", 0, "publisher-confirm window (0 = no confirms)")
	flag.IntVar(&c.prefetch, "prefetch", 0, "consumer prefetch (0 = unlimited)")
	flag.IntVar(&c.multiAck, "multi-ack", 0, "ack with multiple=true every N deliveries (0 = auto ack)")
	flag.BoolVar(&c.persistent, "persistent", false, "persistent messages")
	flag.BoolVar(&c.durable, "durable", false, "durable queue")
	flag.StringVar(&c.out, "out", "-", "where the JSON figures go")
	flag.BoolVar(&compare, "compare", false, "compare saved figures: args are NAME=LOOP.json,MQBENCH.json")
	var scale, latency, soak bool
	flag.BoolVar(&soak, "summarize-soak", false, "print a bench-soak.sh row: args are NAME CURVE.csv RESULT.json HELD")
	flag.BoolVar(&scale, "summarize-scale", false, "print a bench-scale.sh row: args are NAME WORKERS CONNECTIONS RESULT.json")
	flag.BoolVar(&latency, "latency", false, "compare end-to-end latency with and without coalescing: args are NAME=ON.json,OFF.json")
	flag.Parse()
	if latency {
		if err := printLatency(flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(2)
		}
		return
	}
	if soak {
		if err := printSoakRow(flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(2)
		}
		return
	}
	if scale {
		if err := printScaleRow(flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(2)
		}
		return
	}
	if compare {
		if err := printComparison(flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(2)
		}
		return
	}
	if c.size < 12 {
		fmt.Fprintln(os.Stderr, "baseline: -size must be at least 12")
		os.Exit(2)
	}
	fig, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	w := os.Stdout
	if c.out != "-" {
		if w, err = os.Create(c.out); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		defer w.Close()
	}
	_ = json.NewEncoder(w).Encode(fig)
}

// figures uses the same keys as mqbench's result for what both measure.
type figures struct {
	Rates struct {
		PublishedPerS float64 `json:"published_per_s"`
		ConsumedPerS  float64 `json:"consumed_per_s"`
	} `json:"rates"`
	Totals struct {
		Published int64 `json:"published"`
		Consumed  int64 `json:"consumed"`
	} `json:"totals"`
	Client struct {
		CPUS float64 `json:"cpu_s"`
	} `json:"client"`
	MeasuredS float64 `json:"measured_s"`
}

func run(c config) (*figures, error) {
	conn, err := amqp.Dial(c.url)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	admin, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	q, err := admin.QueueDeclare(fmt.Sprintf("mqbench-baseline-%d", os.Getpid()), c.durable, false, false, false, nil)
	if err != nil {
		return nil, err
	}
	defer admin.QueueDelete(q.Name, false, false, false)

	pconn, err := amqp.Dial(c.url)
	if err != nil {
		return nil, err
	}
	defer pconn.Close()
	pch, err := pconn.Channel()
	if err != nil {
		return nil, err
	}
	var confirms chan amqp.Confirmation
	if c.confirm > 0 {
		if err := pch.Confirm(false); err != nil {
			return nil, err
		}
		confirms = pch.NotifyPublish(make(chan amqp.Confirmation, c.confirm))
	}
	cch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if c.prefetch > 0 {
		if err := cch.Qos(c.prefetch, 0, false); err != nil {
			return nil, err
		}
	}
	deliveries, err := cch.Consume(q.Name, "", c.multiAck == 0, false, false, false, nil)
	if err != nil {
		return nil, err
	}

	var published, consumed, latencySum atomic.Int64
	var stop atomic.Bool
	go func() {
		var n int64
		for d := range deliveries {
			now := time.Now().UnixNano()
			latencySum.Add(now - int64(binary.BigEndian.Uint64(d.Body[4:12])))
			consumed.Add(1)
			n++
			if c.multiAck > 0 && n%int64(c.multiAck) == 0 {
				_ = d.Ack(true)
			}
		}
	}()
	mode := uint8(1)
	if c.persistent {
		mode = 2
	}
	msg := amqp.Publishing{DeliveryMode: mode, Body: make([]byte, c.size)}
	done := make(chan struct{})
	start := time.Now()
	cpu0 := cpuSeconds()
	go func() {
		defer close(done)
		outstanding := 0
		for seq := uint32(0); !stop.Load(); seq++ {
			for confirms != nil && outstanding >= c.confirm {
				<-confirms
				outstanding--
			}
			binary.BigEndian.PutUint32(msg.Body[0:4], seq)
			binary.BigEndian.PutUint64(msg.Body[4:12], uint64(time.Now().UnixNano()))
			if err := pch.Publish("", q.Name, false, false, msg); err != nil {
				fmt.Fprintln(os.Stderr, "baseline: publish:", err)
				return
			}
			published.Add(1)
			if confirms != nil {
				outstanding++
				for drained := false; !drained; {
					select {
					case <-confirms:
						outstanding--
					default:
						drained = true
					}
				}
			}
		}
	}()
	time.Sleep(c.duration)
	stop.Store(true)
	<-done
	elapsed := time.Since(start).Seconds()
	f := &figures{MeasuredS: elapsed}
	f.Client.CPUS = cpuSeconds() - cpu0
	f.Totals.Published, f.Totals.Consumed = published.Load(), consumed.Load()
	f.Rates.PublishedPerS = float64(f.Totals.Published) / elapsed
	f.Rates.ConsumedPerS = float64(f.Totals.Consumed) / elapsed
	return f, nil
}

func cpuSeconds() float64 { return proc.CPUTime().Seconds() }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// printScaleRow prints one row of scripts/bench-scale.sh's table from an
// mqbench result.
func printScaleRow(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want NAME WORKERS CONNECTIONS RESULT.json")
	}
	var r struct {
		Rates struct {
			PublishedPerS float64 `json:"published_per_s"`
		} `json:"rates"`
		Client struct {
			MaxRSSBytes   int64   `json:"max_rss_bytes"`
			CollectMeanUs float64 `json:"collect_mean_us"`
			CollectMaxUs  float64 `json:"collect_max_us"`
		} `json:"client"`
	}
	if err := readJSON(args[3], &r); err != nil {
		return err
	}
	fmt.Printf("| %s | %s | %s | %d | %.0f, %.0f | %.0f |\n", args[0], args[1], args[2], r.Client.MaxRSSBytes>>20,
		r.Client.CollectMeanUs, r.Client.CollectMaxUs, r.Rates.PublishedPerS)
	return nil
}
