// Package driver runs mqbench scenarios against a real AMQP 0-9-1 broker:
// it declares the topology, spreads producers and consumers over
// connections and channels, and hands them to the engine's timeline.
package driver

import (
	"context"

	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/mgmt"
	"github.com/mqbench/mqbench/internal/proc"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// Options are what a caller adds to a scenario.
type Options struct {
	Version string        // mqbench's version, for the result
	Sinks   []engine.Sink // live progress and other outputs
	// ShardWait is how long after --start-at a shard waits for the other
	// shards to be ready before the run fails (default 60s plus the
	// connect timeout).
	ShardWait time.Duration
}

// SetupError is a failure before the start signal: nothing was measured.
type SetupError struct{ Err error }

// Error returns the setup failure's message.
func (e *SetupError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SetupError) Unwrap() error { return e.Err }

// Run runs a validated scenario and returns its result. The result is
// complete whenever it is non-nil, even when err reports that the run
// failed midway; a *SetupError means nothing was measured.
func Run(ctx context.Context, sc scenario.Scenario, opts Options) (*result.Result, error) {
	clock := stamp.NewClock()
	win := metrics.NewWindow() // nothing counts until the engine opens it
	reg := metrics.NewRegistry(shardCount(sc.Producers.Count+sc.Consumers.Count+sc.RPC.Clients+sc.RPC.Servers), win)
	w, info, err := prepare(ctx, &sc, env{reg: reg, win: win, clock: clock, shardWait: opts.ShardWait})
	if err != nil {
		return nil, &SetupError{err}
	}
	cfg := engine.Config{
		Duration: sc.Duration.D(), Warmup: sc.Warmup.D(), Interval: sc.Interval.D(), DrainTimeout: sc.DrainTimeout.D(),
		Now: clock.Now, CPU: proc.CPUTime, Cores: runtime.GOMAXPROCS(0), Cost: proc.Cost, Registry: reg, Sinks: opts.Sinks,
		Header: result.Header{
			Tool:     result.Tool{Name: "mqbench", Version: opts.Version},
			Scenario: sc.Masked(),
			Broker:   result.Broker{URL: scenario.MaskURL(sc.URL), Product: info.product, Version: info.version},
		},
	}
	if sc.TLS.Insecure {
		cfg.Warnings = append(cfg.Warnings, "--tls-insecure: the broker's certificate was not verified; anyone on the path could have answered")
	}
	if sc.Shard != nil {
		cfg.Header.Shard = &result.Shard{Index: sc.Shard.Index, Count: sc.Shard.Count, RunID: fmt.Sprintf("%016x", w.runID)}
		cfg.IntervalHistograms = true
		if sc.Shard.Sharded() && sc.Shard.Owner() {
			cfg.FinishTimeout = finishWait + w.othersGoneWait()
		}
	}
	if sc.StartAt != nil {
		late, err := waitStart(ctx, *sc.StartAt)
		if err != nil {
			w.abort()
			return nil, &SetupError{fmt.Errorf("interrupted while waiting for --start-at %s: %w", sc.StartAt.Format(time.RFC3339), err)}
		}
		cfg.Header.Start = &result.Start{At: *sc.StartAt, LateS: roundMillis(late)}
		if late >= lateStart {
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("started %.3f s after --start-at %s: this shard was not ready in time "+
				"(it started late, or the other shards kept it waiting); its window is shifted against the others'", late.Seconds(), sc.StartAt.Format(time.RFC3339)))
		}
	}
	return engine.Run(ctx, cfg, w)
}

// lateStart is how late after --start-at a start is reported as late: a
// timer wakes a little after its time, and the shards' clocks differ by
// more than that anyway.
const lateStart = 100 * time.Millisecond

func roundMillis(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

// shardCount bounds the histogram shards: enough that workers rarely share
// one, few enough that memory and merge time stay flat at thousands of
// workers.
func shardCount(workers int) int {
	n := 4 * runtime.GOMAXPROCS(0)
	if workers < n {
		n = workers
	}
	return max(n, 1)
}

// env is what every worker records with.
type env struct {
	reg   *metrics.Registry
	win   *metrics.Window
	clock *stamp.Clock
	run   string // the run's id in connection names
	// shardWait is Options.ShardWait.
	shardWait time.Duration
}

type brokerProps struct{ product, version string }

// prepare connects, declares and subscribes everything, so that all that is
// left at the start signal is to publish. On failure it undoes what it did,
// every goroutine it started included.
func prepare(ctx context.Context, sc *scenario.Scenario, e env) (w *workload, info brokerProps, err error) {
	life, cancel := context.WithCancel(context.Background())
	d, err := amqpconn.NewDialer(life, amqpconn.Options{URLs: sc.Nodes(), Allocation: sc.ConnectionAllocation, Seed: rngSeed,
		ConnectTimeout: sc.ConnectTimeout.D(), TLS: sc.TLS,
		Reconnect: !sc.NoReconnect, ReconnectTimeout: sc.ReconnectTimeout.D()})
	if err != nil {
		cancel()
		return nil, info, err
	}
	e.run = runName()
	id := runID()
	if sc.Shard.Sharded() {
		id = shardRunID(sc)
	}
	w = &workload{
		ctx: life, cancel: cancel, sc: sc, dialer: d, runID: id, shardWait: e.shardWait,
		start: make(chan struct{}), stop: make(chan struct{}), abandon: make(chan struct{}),
		flush: make(chan struct{}), events: make(chan engine.Event, 1),
	}
	defer func() {
		if err != nil {
			w.abort()
			w = nil
		}
	}()
	if sc.ManagementURL != "" {
		u, _ := amqp.ParseURI(sc.URL) // validated
		if w.mgmt, err = mgmt.New(sc.ManagementURL, u.Username, u.Password); err != nil {
			return w, info, err
		}
	}
	admin, err := d.Dial(connName(e.run, "admin", 0))
	if err != nil {
		return w, info, err
	}
	w.conns = append(w.conns, admin)
	info = brokerInfo(admin)
	w.brokerMajor = majorVersion(info.version)
	w.topo = &topology{sc: sc, admin: admin, passive: !sc.Shard.Owner()}
	if sc.Shard.Sharded() && !sc.Shard.Owner() {
		if err = w.awaitOwner(ctx); err != nil {
			return w, info, err
		}
	}
	if err = w.topo.declareExchange(); err != nil {
		return w, info, err
	}
	steps := []func(context.Context, env) error{w.prepareConsumers, w.prepareRPC, w.prepareProducers}
	for _, step := range steps {
		if err = step(ctx, e); err != nil {
			return w, info, err
		}
	}
	w.limited.Store(w.limitedWorkers())
	w.topo.renamed = func() { w.keys.set(w.topo.publishKeys()) }
	for _, c := range w.conns {
		c.OnRecover(w.topo.redeclare)
	}
	admin.Watch()
	if sc.Shard.Sharded() {
		err = w.awaitShards(ctx)
	}
	return w, info, err
}

// abort undoes a setup that failed part-way: the workers' goroutines end
// (their context is cancelled), what was declared is deleted, every
// connection is closed.
func (w *workload) abort() {
	w.closing.Store(true)
	w.cancel()
	if w.topo != nil && !w.sc.Keep {
		_ = w.topo.teardown()
	}
	ctx, cancel := context.WithTimeout(context.Background(), finishWait)
	defer cancel()
	w.closeAll(ctx)
}

// finishWait bounds how long a failed setup waits for its goroutines.
const finishWait = 30 * time.Second

// limitedWorkers counts the workers that stop by themselves at a limit.
func (w *workload) limitedWorkers() int64 {
	var n int64
	for _, p := range w.producers {
		if p.limit >= 0 {
			n++
		}
	}
	for _, c := range w.rpcClients {
		if c.limit >= 0 {
			n++
		}
	}
	return n
}

// split gives worker i its share of total messages over n workers (the
// first total%n get one more), so the shares add up exactly; without a
// total (0) there is no limit (-1).
func split(total int64, n, i int) int64 {
	if total <= 0 || n <= 0 {
		return -1
	}
	q := total / int64(n)
	if int64(i) < total%int64(n) {
		q++
	}
	return q
}

// runName is a short random name for the run's connections.
func runName() string {
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// runID is the run's identity in message bodies: random and never zero
// (zero padding means "no identity").
func runID() uint64 {
	for {
		var b [8]byte
		_, _ = crand.Read(b[:])
		if v := binary.BigEndian.Uint64(b[:]); v != 0 {
			return v
		}
	}
}

// brokerInfo reads the product and version the broker announced.
func brokerInfo(c *amqpconn.Conn) brokerProps {
	p, _ := c.Properties()["product"].(string)
	v, _ := c.Properties()["version"].(string)
	return brokerProps{p, v}
}

// majorVersion reads the major version from "4.0.5"; 0 when it cannot.
func majorVersion(v string) int {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0
	}
	return n
}

func connName(run, role string, i int) string { return fmt.Sprintf("mqbench-%s-%s-%d", run, role, i) }
