package driver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/routing"
	"github.com/mqbench/mqbench/internal/scenario"
)

// prepareConsumers declares the queues and subscribes the consumers. An
// exclusive queue is declared on the connection of its first consumer (the
// only connection that may use it); every other queue on the admin one.
func (w *workload) prepareConsumers(ctx context.Context, e env) error {
	sc := w.sc
	if sc.Producers.Count == 0 && sc.Consumers.Count == 0 {
		return nil
	}
	for _, spec := range sc.Queues {
		for _, name := range spec.Names() {
			w.topo.queues = append(w.topo.queues, &queue{spec: spec, name: name, index: len(w.topo.queues)})
		}
	}
	k := sc.Consumers
	var quota *atomic.Int64
	if k.Messages > 0 { // one pool all consumers draw from (sharded runs refuse it)
		quota = &atomic.Int64{}
		quota.Store(k.Messages)
	}
	proc := newProcHists() // the consumers' processing times
	err := w.group(ctx, e, "consumer", k.Count, k.Connections, func(i int, cn *amqpconn.Conn) (err error) {
		q := w.topo.queues[i%len(w.topo.queues)]
		if q.owner == nil {
			owner := w.topo.admin
			if q.spec.Exclusive {
				owner = cn
			}
			if err := w.topo.declareQueue(q, owner); err != nil {
				return err
			}
		}
		q.consumers++
		c := w.newConsumer(i, q, quota, e)
		c.behave.init(i, k, proc)
		if c.h, err = cn.Open(fmt.Sprintf("consumer %d", i), c.setup); err != nil {
			return err
		}
		w.consumers = append(w.consumers, c)
		w.goAndTrack(func() { c.run(w.ctx, w.start) })
		return nil
	})
	if err != nil {
		return err
	}
	for _, q := range w.topo.queues { // queues nobody consumes from
		if q.owner == nil {
			if err := w.topo.declareQueue(q, w.topo.admin); err != nil {
				return err
			}
		}
	}
	return nil
}

// newConsumer is consumer i of queue q, as the scenario shapes it.
func (w *workload) newConsumer(i int, q *queue, quota *atomic.Int64, e env) *consumer {
	sc, k := w.sc, w.sc.Consumers
	c := &consumer{
		id: i, q: q, m: e.reg.NewWorker(), clock: e.clock, win: e.win, tag: fmt.Sprintf("mqbench-consumer-%d", i),
		ack: k.Ack, every: k.MultiAckEvery, prefetch: k.Prefetch,
		quota: quota, onQuota: func() { w.emit(result.StopMessageCount) }, fail: w.fail,
		flush: w.flush, finished: make(chan struct{}), stop: make(chan struct{}),
		requeue: k.Requeue, polling: k.Polling, pollEvery: max(k.PollingInterval.D(), time.Millisecond), args: consumeArgs(k, q.spec),
	}
	if k.Refuses() {
		c.refuse = k.RejectFraction
		if c.refuse == 0 {
			c.refuse = 1 // every delivery
		}
	}
	if k.Polling && k.PollingInterval == 0 {
		c.pollEvery = defaultPollingInterval
	}
	if sc.Producers.Audited() {
		c.runID = w.runID // its audit handle comes with the accounts (prepareAudit)
	}
	return c
}

// prepareProducers opens every producer's channel; they wait for the start
// signal in Start.
func (w *workload) prepareProducers(ctx context.Context, e env) error {
	sc := w.sc
	p := sc.Producers
	w.keys = newKeyRing(w.topo.publishKeys())
	schedule := p.PaceSchedule()
	shape, err := newMessageShape(p, w.keys.n, w.runID)
	if err != nil {
		return err
	}
	w.minBody = shape.minBody(p)
	w.model = newRouteModel(w.topo, w.keys.all(), shape.fixed, shape.deck, p.UserBody(), routing.RulesFor(w.brokerMajor))
	mode := amqp.Transient
	if p.Persistent {
		mode = amqp.Persistent
	}
	return w.group(ctx, e, "producer", p.Count, p.Connections, func(i int, cn *amqpconn.Conn) (err error) {
		pr := &producer{
			id: i, cn: cn, m: e.reg.NewWorker(), clock: e.clock, win: e.win,
			exchange: sc.Exchange.Name, readingEnds: &w.readingEnds, keys: w.keys, mandator: p.Mandatory, schedule: schedule,
			limit: split(p.Messages, p.Count, i), fail: w.fail, refused: w.refusedPublish, window: p.Confirm, runID: w.runID,
			buf: make([]byte, p.MaxSize()), sizes: newSizeDraw(p.SizeDistribution),
			rng: rand.New(rand.NewPCG(uint64(i), rngSeed)),
		}
		if schedule != nil && p.StartJitter > 0 {
			pr.jitter = time.Duration(pr.rng.Int64N(int64(p.StartJitter)))
		}
		if p.Audited() && sc.Consumers.Count > 0 { // consumers in any shard
			pr.audit = audit.NewProducer(p.Confirm > 0)
		}
		pr.msg.DeliveryMode = mode
		pr.msg.Priority = uint8(p.Priority)
		shape.apply(pr)
		if pr.h, err = cn.Open(fmt.Sprintf("producer %d", i), pr.setup); err != nil {
			return err
		}
		w.producers = append(w.producers, pr)
		return nil
	})
}

// group sets up one group of count workers spread over conns connections
// (0 = one each; worker i on connection i mod conns), dialing each
// connection on first use and calling each for every worker in order —
// in a sharded run, for the workers of this shard only, under their
// numbers in the whole run. ctx ending stops it.
func (w *workload) group(ctx context.Context, e env, role string, count, conns int, each func(i int, cn *amqpconn.Conn) error) error {
	pool := make([]*amqpconn.Conn, scenario.ConnectionCount(count, conns))
	for i := 0; i < count; i++ {
		if !w.sc.Shard.Owns(i) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		ci := scenario.ConnectionOf(i, count, conns)
		if pool[ci] == nil {
			c, err := w.dialer.Dial(connName(e.run, role, ci))
			if err != nil {
				return err
			}
			pool[ci] = c
			w.conns = append(w.conns, c)
		}
		if err := each(i, pool[ci]); err != nil {
			return err
		}
	}
	return nil
}

// started waits for the start signal; false when ctx ends first (a setup
// that failed after this worker was prepared).
func started(ctx context.Context, start <-chan struct{}) bool {
	select {
	case <-start:
		return true
	case <-ctx.Done():
		return false
	}
}

// defaultPollingInterval is how long a polling consumer that found its
// queue empty waits before asking again.
const defaultPollingInterval = 10 * time.Millisecond

// consumeArgs are a consumer's basic.consume arguments: its own, its
// priority, and where a stream consumer starts.
func consumeArgs(k scenario.Consumers, q scenario.Queue) amqp.Table {
	args := amqp.Table(scenario.Table(k.Arguments))
	set := func(key string, v any) {
		if args == nil {
			args = amqp.Table{}
		}
		args[key] = v
	}
	if k.Priority != 0 {
		set("x-priority", int64(k.Priority))
	}
	if q.Type == scenario.QueueStream {
		offset, _ := scenario.StreamOffsetValue(k.StreamOffset) // validated
		set("x-stream-offset", offset)
	}
	return args
}

// rngSeed seeds the producers' random draws (sizes, jitter): fixed, so a
// scenario draws the same sequence every run.
const rngSeed = 0x6d7162656e6368
