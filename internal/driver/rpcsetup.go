package driver

import (
	"fmt"
	"os"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// prepareRPC declares the request queue (unless it exists), subscribes the
// servers and opens the clients with their reply consumers.
func (w *workload) prepareRPC(d *dialer, run string, reg *metrics.Registry, win *metrics.Window, clock *stamp.Clock) error {
	r := w.sc.RPC
	if !r.Enabled() {
		return nil
	}
	q := &queue{spec: scenario.Queue{Name: r.Queue, Count: 1, Type: scenario.QueueClassic}, name: r.Queue, rpc: true, consumers: r.Servers}
	if r.Servers == 0 {
		exists := w.topo.admin.withControl(func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclarePassive(r.Queue, false, false, false, false, nil)
			return err
		}) == nil
		if !exists {
			return fmt.Errorf("rpc: the request queue %q does not exist and there are no RPC servers: nothing would answer (start your service, or give --rpc-servers)", r.Queue)
		}
		q.owner = w.topo.admin
	} else if err := w.topo.declareQueue(q, w.topo.admin); err != nil {
		return err
	}
	w.topo.queues = append(w.topo.queues, q)
	if err := w.prepareRPCServers(d, run, reg, win, clock); err != nil {
		return err
	}
	return w.prepareRPCClients(d, run, reg, win, clock)
}

func (w *workload) prepareRPCServers(d *dialer, run string, reg *metrics.Registry, win *metrics.Window, clock *stamp.Clock) error {
	r := w.sc.RPC
	conns := make([]*conn, scenario.ConnectionCount(r.Servers, r.ServerConnections))
	for i := 0; i < r.Servers; i++ {
		c, err := w.connFor(d, conns, scenario.ConnectionOf(i, r.Servers, r.ServerConnections), run, "rpc-server")
		if err != nil {
			return err
		}
		s := &rpcServer{id: i, conn: c, m: reg.NewWorker(), clock: clock, win: win, cfg: r, fail: w.fail, finished: make(chan struct{})}
		deliveries, err := s.subscribe()
		if err != nil {
			return err
		}
		w.rpcServers = append(w.rpcServers, s)
		go s.run(w.start, deliveries)
	}
	return nil
}

func (w *workload) prepareRPCClients(d *dialer, run string, reg *metrics.Registry, win *metrics.Window, clock *stamp.Clock) error {
	r := w.sc.RPC
	body, err := requestBody(r)
	if err != nil {
		return err
	}
	var interval time.Duration
	if r.Rate > 0 {
		interval = time.Duration(float64(time.Second) / r.Rate)
	}
	conns := make([]*conn, scenario.ConnectionCount(r.Clients, r.ClientConnections))
	for i := 0; i < r.Clients; i++ {
		cn, err := w.connFor(d, conns, scenario.ConnectionOf(i, r.Clients, r.ClientConnections), run, "rpc-client")
		if err != nil {
			return err
		}
		c := &rpcClient{
			id: i, conn: cn, m: reg.NewWorker(), clock: clock, win: win, queue: r.Queue,
			manual: r.ReplyAck == scenario.AckManual, interval: interval, timeout: int64(r.Timeout),
			limit: split(r.Requests, r.Clients, i), fail: w.fail, finished: make(chan struct{}),
		}
		c.msg.Body = body
		if err := c.open(r); err != nil {
			return err
		}
		w.rpcClients = append(w.rpcClients, c)
	}
	return nil
}

// connFor returns connection ci of a worker group, dialing it on first use.
func (w *workload) connFor(d *dialer, conns []*conn, ci int, run, role string) (*conn, error) {
	if conns[ci] == nil {
		c, err := d.dial(connName(run, role, ci))
		if err != nil {
			return nil, err
		}
		conns[ci] = c
		w.conns = append(w.conns, c)
	}
	return conns[ci], nil
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
