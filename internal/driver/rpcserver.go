package driver

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// rpcServer consumes the request queue and answers each request on its
// reply_to address with the request's correlation id, then acks it. Its
// concurrency is the number of requests it works on at once.
type rpcServer struct {
	id       int
	conn     *conn
	ch       *amqp.Channel
	tag      string
	m        metrics.Worker
	clock    *stamp.Clock
	win      *metrics.Window
	cfg      scenario.RPC
	fail     func(error)
	closed   closeWatch
	finished chan struct{}
	gen      int64
	chMu     sync.Mutex // guards ch: workers publish on it while a resubscription replaces it
}

func (s *rpcServer) channel() *amqp.Channel {
	s.chMu.Lock()
	defer s.chMu.Unlock()
	return s.ch
}

// cancel stops the subscription (at the end of the run).
func (s *rpcServer) cancel() {
	if ch := s.channel(); ch != nil {
		_ = ch.Cancel(s.tag, false)
	}
}

// subscribe opens the channel, sets the prefetch (the concurrency unless
// set) and starts consuming requests with manual acks.
func (s *rpcServer) subscribe() (<-chan amqp.Delivery, error) {
	s.gen = s.conn.gen.Load()
	ch, err := s.conn.channel()
	if err != nil {
		return nil, err
	}
	s.chMu.Lock()
	s.ch = ch
	s.chMu.Unlock()
	s.closed = watch(ch)
	prefetch := s.cfg.ServerPrefetch
	if prefetch == 0 {
		prefetch = s.cfg.ServerConcurrency
	}
	if err := ch.Qos(prefetch, 0, false); err != nil {
		return nil, fmt.Errorf("rpc server %d: basic.qos %d: %w", s.id, prefetch, err)
	}
	s.tag = fmt.Sprintf("mqbench-rpc-server-%d", s.id)
	d, err := ch.Consume(s.cfg.Queue, s.tag, false, false, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("rpc server %d: consume from %s: %w", s.id, s.cfg.Queue, err)
	}
	return d, nil
}

// run hands requests to ServerConcurrency workers until the subscription ends.
func (s *rpcServer) run(start <-chan struct{}, deliveries <-chan amqp.Delivery) {
	defer close(s.finished)
	<-start
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
	for {
		for d := range deliveries {
			jobs <- d
		}
		if !s.conn.lost() {
			break // cancelled at the end of the run, or by the broker
		}
		var err error
		if deliveries, err = s.resubscribe(); err != nil {
			s.fail(err)
			break
		}
	}
	close(jobs)
	s.fail(s.closed.err(fmt.Sprintf("rpc server %d", s.id))) // a no-op when we cancelled it
	wg.Wait()
}

// resubscribe waits for the lost connection and consumes the request
// queue again (retrying while the queue is being re-declared).
func (s *rpcServer) resubscribe() (d <-chan amqp.Delivery, err error) {
	err = s.conn.reopen(fmt.Sprintf("rpc server %d", s.id), func() int64 { return s.gen }, func() error {
		d, err = s.subscribe()
		return err
	}, 50)
	return d, err
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
	ch := s.channel()
	if d.ReplyTo != "" {
		if err := ch.Publish("", d.ReplyTo, false, false, *reply); err != nil {
			if !s.conn.lost() {
				s.fail(fmt.Errorf("rpc server %d: publish reply: %w", s.id, err))
			}
			return // a lost connection: the request goes back to the queue
		}
	}
	if err := ch.Ack(d.DeliveryTag, false); err != nil {
		if !s.conn.lost() {
			s.fail(fmt.Errorf("rpc server %d: ack request: %w", s.id, err))
		}
		return
	}
	done := s.clock.Now()
	s.m.Count(metrics.RPCServed, done)
	if s.win.Measured(received) {
		s.m.Record(metrics.RPCServer, (done-received)/1000)
	}
}

// delay draws one processing time from the configured distribution.
func (s *rpcServer) delay(rng *rand.Rand) time.Duration {
	d := s.cfg.ServerDelay
	switch d.Distribution {
	case scenario.DelayUniform:
		span := int64(d.Max - d.Min)
		if span <= 0 {
			return d.Min.D()
		}
		return time.Duration(int64(d.Min) + rng.Int64N(span+1))
	case scenario.DelayExponential:
		return time.Duration(rng.ExpFloat64() * float64(d.Mean))
	}
	return d.Mean.D()
}

// fib is the seeds' Fibonacci service, iteratively (fib(0)=0, fib(1)=1).
func fib(n int) uint64 {
	a, b := uint64(0), uint64(1)
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return a
}
