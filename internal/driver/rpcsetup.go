package driver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/scenario"
)

// prepareRPC declares the request queue (unless it exists) and subscribes
// the servers (the clients, rpcClientRole, open their reply consumers).
func (w *workload) prepareRPC(ctx context.Context, e env) error {
	r := w.sc.RPC
	if !r.Enabled() {
		return nil
	}
	// Durable: RabbitMQ 4.3 refuses transient non-exclusive queues, and an
	// exclusive one could only be consumed on the admin connection.
	q := &queue{spec: scenario.Queue{Name: r.Queue, Count: 1, Type: scenario.QueueClassic, Durable: true}, name: r.Queue, rpc: true,
		consumers: w.sc.Shard.Share(r.Servers), index: len(w.topo.queues)}
	if r.Servers == 0 {
		err := w.topo.admin.Control(func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclarePassive(r.Queue, false, false, false, false, nil)
			return err
		})
		switch {
		case amqpconn.IsCode(err, amqp.AccessRefused):
			return fmt.Errorf("rpc: the broker refused access to the request queue %q: %w", r.Queue, err)
		case amqpconn.IsCode(err, amqp.NotFound):
			return fmt.Errorf("rpc: the request queue %q does not exist and there are no RPC servers: nothing would answer (start your service, or give --rpc-servers)", r.Queue)
		case err != nil:
			return fmt.Errorf("rpc: check the request queue %q: %w", r.Queue, err)
		}
		q.owner = w.topo.admin
	} else if err := w.topo.declareQueue(q, w.topo.admin); err != nil {
		return err
	}
	w.topo.queues = append(w.topo.queues, q)
	return w.prepareRPCServers(ctx, e)
}

func (w *workload) prepareRPCServers(ctx context.Context, e env) error {
	r := w.sc.RPC
	return w.group(ctx, e, "rpc-server", r.Servers, r.ServerConnections, func(i int, c *amqpconn.Conn) (err error) {
		s := &rpcServer{id: i, m: e.reg.NewWorker(), clock: e.clock, win: e.win, cfg: r, fail: w.fail,
			tag: fmt.Sprintf("mqbench-rpc-server-%d", i), finished: make(chan struct{})}
		if s.h, err = c.Open(fmt.Sprintf("rpc server %d", i), s.setup); err != nil {
			return err
		}
		w.rpcServers = append(w.rpcServers, s)
		w.goAndTrack(func() { s.run(w.ctx, w.start) })
		return nil
	})
}

func (w *workload) prepareRPCClients(ctx context.Context, e env) error {
	r := w.sc.RPC
	body, err := requestBody(r)
	if err != nil {
		return err
	}
	schedule := r.PaceSchedule()
	return w.group(ctx, e, "rpc-client", r.Clients, r.ClientConnections, func(i int, cn *amqpconn.Conn) (err error) {
		c := &rpcClient{
			id: i, m: e.reg.NewWorker(), clock: e.clock, win: e.win, queue: r.Queue,
			manual: r.ReplyAck == scenario.AckManual, schedule: schedule, timeout: int64(r.Timeout),
			limit: split(r.Requests, r.Clients, i), fail: w.fail, finished: make(chan struct{}),
		}
		if schedule != nil && r.StartJitter > 0 {
			c.jitter = time.Duration(rand.New(rand.NewPCG(uint64(i), rngSeed+1)).Int64N(int64(r.StartJitter)))
		}
		c.msg.Body = body
		c.init(r)
		if c.h, err = cn.Open(fmt.Sprintf("rpc client %d", i), c.setup); err != nil {
			return err
		}
		w.rpcClients = append(w.rpcClients, c)
		return nil
	})
}

// requestBody is the body of every request: the file's content, the
// Fibonacci argument, or request_size zero bytes.
func requestBody(r scenario.RPC) ([]byte, error) {
	switch {
	case r.Body != "":
		b, err := os.ReadFile(r.Body)
		if err != nil {
			return nil, fmt.Errorf("rpc: request body: %w", err)
		}
		return b, nil
	case r.ServerWork == scenario.WorkFibonacci:
		return []byte(strconv.Itoa(r.FibonacciN)), nil
	}
	return make([]byte, r.RequestSize), nil
}
