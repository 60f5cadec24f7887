package driver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// rpcServer consumes the request queue and answers each request on its
// reply_to address with the request's correlation id, then acks it. Its
// concurrency is the number of requests it works on at once.
type rpcServer struct {
	id         int
	h          *amqpconn.Channel
	tag        string
	deliveries <-chan amqp.Delivery // the current subscription's, replaced by setup
	m          metrics.Worker
	clock      *stamp.Clock
	win        *metrics.Window
	cfg        scenario.RPC
	fail       func(error)
	finished   chan struct{}
}

// cancel stops the subscription (at the end of the run).
func (s *rpcServer) cancel() { s.h.Cancel(s.tag) }

// setup sets the prefetch (the concurrency unless set) and consumes the
// requests with manual acks, on the first channel and after a reconnect.
func (s *rpcServer) setup(ch *amqp.Channel) error {
	prefetch := s.cfg.ServerPrefetch
	if prefetch == 0 {
		prefetch = s.cfg.ServerConcurrency
	}
	if err := ch.Qos(prefetch, 0, false); err != nil {
		return fmt.Errorf("rpc server %d: basic.qos %d: %w", s.id, prefetch, err)
	}
	d, err := ch.Consume(s.cfg.Queue, s.tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("rpc server %d: consume from %s: %w", s.id, s.cfg.Queue, err)
	}
	s.deliveries = d
	return nil
}

// run hands requests to ServerConcurrency workers until the subscription
// ends for good or ctx ends.
func (s *rpcServer) run(ctx context.Context, start <-chan struct{}) {
	defer close(s.finished)
	if !started(ctx, start) {
		return
	}
	jobs := make(chan amqp.Delivery)
	var wg sync.WaitGroup
	for w := 0; w < s.cfg.ServerConcurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s.id), uint64(w)))
			reply := amqp.Publishing{Body: make([]byte, s.cfg.ReplySize)}
			for d := range jobs {
				s.serve(&d, rng, &reply)
			}
		}(w)
	}
	defer func() { close(jobs); wg.Wait() }()
	for {
		select {
		case d, ok := <-s.deliveries:
			if !ok {
				if err := s.h.Recover(ctx); err != nil {
					s.fail(err) // a no-op once the run is finishing
					return
				}
				continue
			}
			select {
			case jobs <- d:
			case <-ctx.Done():
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// serve works on one request for the configured time and answers it.
func (s *rpcServer) serve(d *amqp.Delivery, rng *rand.Rand, reply *amqp.Publishing) {
	received := s.clock.Now()
	if delay := s.delay(rng); delay > 0 {
		time.Sleep(delay)
	}
	if s.cfg.ServerWork == scenario.WorkFibonacci {
		n, err := strconv.Atoi(string(d.Body))
		if err != nil || n < 0 || n > 90 {
			reply.Body = []byte("error: want n in 0..90")
		} else {
			reply.Body = strconv.AppendUint(reply.Body[:0], fib(n), 10)
		}
	}
	reply.CorrelationId = d.CorrelationId
	// The ack goes to the channel the request came on (a delivery tag
	// means nothing on another). Both fail only on a closed channel, whose
	// delivery stream then ends and says why (a lost connection is mended,
	// the request going back to the queue).
	if d.ReplyTo != "" {
		if err := s.h.Ch().Publish("", d.ReplyTo, false, false, *reply); err != nil {
			return
		}
	}
	if err := d.Ack(false); err != nil {
		return
	}
	done := s.clock.Now()
	s.m.Count(metrics.RPCServed, done)
	if s.win.Measured(received) {
		s.m.Record(metrics.RPCServer, time.Duration(done-received))
	}
}

// delay draws one processing time from the configured distribution.
func (s *rpcServer) delay(rng *rand.Rand) time.Duration { return s.cfg.ServerDelay.Draw(rng) }

// fib is the seeds' Fibonacci service, iteratively (fib(0)=0, fib(1)=1).
func fib(n int) uint64 {
	a, b := uint64(0), uint64(1)
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return a
}
