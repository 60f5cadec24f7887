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
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/gcpolicy"
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
	// Abort, once closed (a second Ctrl-C), skips the drain and bounds
	// the clean-up; the result is still built (engine.Config.Abort).
	Abort <-chan struct{}
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
	reg := metrics.NewRegistryOf(shardCount(workers(sc)), win, recordedKinds(sc))
	w, info, err := prepare(ctx, &sc, env{reg: reg, win: win, clock: clock, shardWait: opts.ShardWait})
	if err != nil {
		return nil, &SetupError{err}
	}
	cfg := engine.Config{
		Duration: sc.Duration.D(), Warmup: sc.Warmup.D(), Interval: sc.Interval.D(), DrainTimeout: sc.DrainTimeout.D(),
		Now: clock.Now, CPU: proc.CPUTime, Cores: runtime.GOMAXPROCS(0), Host: hostname(), Cost: proc.Cost, Registry: reg, Sinks: opts.Sinks,
		Abort: opts.Abort,
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
	gc := gcpolicy.Settle()
	defer gc.Restore() // a sweep's or a capacity search's next run starts from the process's setting
	if sc.StartAt != nil {
		if err := w.releaseAt(ctx, &cfg); err != nil {
			w.abort()
			return nil, &SetupError{err}
		}
	}
	gc.Hold(gcpolicy.CheckEvery)
	return engine.Run(ctx, cfg, w)
}

// releaseAt waits for --start-at; in a sharded run it checks that every
// shard is still there. It records how late the start is.
func (w *workload) releaseAt(ctx context.Context, cfg *engine.Config) error {
	at := *w.sc.StartAt
	if err := waitStart(ctx, at); err != nil {
		return fmt.Errorf("interrupted while waiting for --start-at %s: %w", at.Format(time.RFC3339), err)
	}
	if w.sc.Shard.Sharded() {
		if err := w.stillThere(); err != nil {
			return err
		}
	}
	late := max(0, time.Since(at))
	cfg.Header.Start = &result.Start{At: at, LateS: roundMillis(late)}
	if late >= lateStart {
		cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("started %.3f s after --start-at %s: this shard was not ready in time "+
			"(it started late, or the other shards kept it waiting); its window is shifted against the others'", late.Seconds(), at.Format(time.RFC3339)))
	}
	return nil
}

// lateStart is how late after --start-at a start is reported as late: a
// timer wakes a little after its time, and the shards' clocks differ by
// more than that anyway.
const lateStart = 100 * time.Millisecond

func roundMillis(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

// hostname is the machine's name ("" when it cannot be read).
func hostname() string {
	h, _ := os.Hostname()
	return h
}

// shardCount bounds the histogram shards: enough that workers rarely wait
// for one (two per core: a record holds a shard's lock for tens of
// nanoseconds), few enough that memory and merge time stay flat at
// thousands of workers and on large machines (each shard holds two
// histograms of about 190 KB per latency kind).
func shardCount(workers int) int {
	return max(min(2*runtime.GOMAXPROCS(0), maxShards, workers), 1)
}

// maxShards caps the histogram shards on large machines.
const maxShards = 32

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
		ConnectTimeout: sc.ConnectTimeout.D(), TLS: sc.TLS, Auth: sc.Auth,
		Reconnect: !sc.NoReconnect, ReconnectTimeout: sc.ReconnectTimeout.D(), NoCoalesce: sc.NoCoalesce})
	if err != nil {
		cancel()
		return nil, info, err
	}
	e.run = runName()
	w = &workload{
		ctx: life, cancel: cancel, sc: sc, dialer: d, runID: runIdentity(sc), shardWait: e.shardWait,
		start: make(chan struct{}), stop: make(chan struct{}), abandon: make(chan struct{}),
		flush: make(chan struct{}), events: make(chan engine.Event, 1),
	}
	defer func() {
		if err != nil {
			w.abort()
			w = nil
		}
	}()
	if w.mgmt, err = managementClient(sc); err != nil {
		return w, info, err
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
	for _, r := range roles() {
		rl := running{kind: r.kind, role: r.new()}
		w.roles = append(w.roles, rl)
		if err = rl.prepare(ctx, w, e); err != nil {
			return w, info, err
		}
	}
	w.prepareAudit()
	w.phases = newPhaseControl(w)
	w.checkpoints = w.progressEvery()
	w.limited.Store(w.limitedWorkers())
	w.topo.renamed = func() { w.keys.set(w.topo.publishKeys()) }
	for _, c := range w.conns {
		c.OnRecover(w.topo.redeclare)
	}
	admin.Watch()
	if sc.Shard.Sharded() {
		if err = w.prepareShardStop(); err == nil {
			err = w.awaitShards(ctx)
		}
	}
	return w, info, err
}

// managementClient is the management API's client, nil without
// --management-url; the AMQP URL's credentials serve when it has none.
func managementClient(sc *scenario.Scenario) (*mgmt.Client, error) {
	if sc.ManagementURL == "" {
		return nil, nil
	}
	u, _ := amqp.ParseURI(sc.URL) // validated
	return mgmt.New(sc.ManagementURL, u.Username, u.Password)
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
	for _, r := range w.roles {
		n += r.limited()
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

// runIdentity is the run's identity: shared by every shard of a sharded
// run, random otherwise.
func runIdentity(sc *scenario.Scenario) uint64 {
	if sc.Shard.Sharded() {
		return shardRunID(sc)
	}
	return runID()
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
