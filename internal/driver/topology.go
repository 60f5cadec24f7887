package driver

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/scenario"
)

// queue is one declared queue.
type queue struct {
	spec      scenario.Queue
	index     int                // in the scenario's queue order (the RPC request queue comes last)
	name      string             // resolved (server-named queues get theirs on declare)
	owner     *amqpconn.Conn     // the connection that declared it; the only one that may use an exclusive queue
	created   bool               // false when it existed before the run: then it is left in place
	consumers int                // consumers, or RPC servers for the request queue
	rpc       bool               // the RPC request queue: producers do not publish to it
	bound     []scenario.Binding // the bindings made, for the audit's routing
	// before is the number of ready messages an existing queue held when
	// the run declared it: not this run's.
	before int64
	// consumersBefore is the consumers an existing queue had when the
	// run declared it (another application's): the end waits for the
	// broker to list no more than these.
	consumersBefore int
	// maxDepth is the most ready messages the backlog sampler saw in it
	// (the evidence that a length limit was reached).
	maxDepth atomic.Int64
}

// topology is everything the run declares, so it can all be deleted again.
type topology struct {
	mu              sync.Mutex // one re-declaration at a time, whichever connection recovers
	sc              *scenario.Scenario
	admin           *amqpconn.Conn
	exchangeCreated bool
	queues          []*queue
	// renamed is called after a re-declaration gave a server-named queue
	// a new name, so that routing keys follow it.
	renamed func()
	// passive is set in the shards of a sharded run that do not own the
	// topology: they look it up, and neither declare nor delete it.
	passive bool
	// marker is this shard's marker queue (shards.go), "" when unsharded;
	// loadMarker its load marker while it holds one (shardstop.go).
	marker, loadMarker string
}

// declareExchange declares the scenario's exchange unless it is predeclared
// or already exists.
func (t *topology) declareExchange() error {
	ex := t.sc.Exchange
	if ex.Predeclared() {
		return nil
	}
	perr := t.admin.Control(func(ch *amqp.Channel) error {
		return ch.ExchangeDeclarePassive(ex.Name, ex.Type, ex.Durable, ex.AutoDelete, false, false, nil)
	})
	if t.passive {
		if perr != nil {
			return fmt.Errorf("look up exchange %q, which the owner shard declared: %w", ex.Name, perr)
		}
		return nil
	}
	exists := perr == nil
	err := t.admin.Control(func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(ex.Name, ex.Type, ex.Durable, ex.AutoDelete, false, false, nil)
	})
	if err != nil {
		return fmt.Errorf("declare exchange %q (%s): %w", ex.Name, ex.Type, err)
	}
	t.exchangeCreated = !exists
	return nil
}

// redeclare re-declares, after c was re-established, what c owns: the
// exchange and the shared queues for the admin connection, a consumer
// connection's exclusive queues. Durable queues that survived are found
// again; others come back empty. A server-named queue gets a new name:
// consumers subscribe to the new one, and routing keys that were the old
// name become the new one.
func (t *topology) redeclare(_ context.Context, c *amqpconn.Conn) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.restore(c); err != nil {
		return err
	}
	if c == t.admin && t.loadMarker != "" {
		if err := declareMarker(c, t.loadMarker); err != nil {
			return fmt.Errorf("re-declare the shard's load marker %s: %w", t.loadMarker, err)
		}
	}
	// The shard's marker last: to the other shards it says the topology
	// is in place.
	if c == t.admin && t.marker != "" {
		if err := declareMarker(c, t.marker); err != nil {
			return fmt.Errorf("re-declare the shard's marker queue %s: %w", t.marker, err)
		}
	}
	return nil
}

// restore re-declares what c owns (see redeclare); under t.mu.
func (t *topology) restore(c *amqpconn.Conn) error {
	if t.passive {
		return nil // the owner restores the topology
	}
	if c == t.admin && !t.sc.Exchange.Predeclared() {
		created := t.exchangeCreated
		if err := t.declareExchange(); err != nil {
			return err
		}
		t.exchangeCreated = created
	}
	renamed := false
	for _, q := range t.queues {
		if q.owner != c || (q.rpc && !q.created) { // someone else's request queue is theirs to restore
			continue
		}
		old := q.currentName()
		if err := t.declare(q, c, true); err != nil {
			return err
		}
		renamed = renamed || q.currentName() != old
	}
	if renamed && t.renamed != nil {
		t.renamed()
	}
	return nil
}

// currentName is the queue's name now: a server-named queue is renamed by
// a re-declaration, under its owner's lock.
func (q *queue) currentName() (name string) {
	q.owner.Locked(func() { name = q.name })
	return name
}

// declareQueue declares q on owner and binds it to the exchange. A named
// queue that already exists is used (it must have compatible properties,
// or the broker answers PRECONDITION_FAILED) and is not deleted afterwards.
func (t *topology) declareQueue(q *queue, owner *amqpconn.Conn) error {
	return t.declare(q, owner, false)
}

// declare declares and binds q; again is a re-declaration after a
// reconnect, which keeps whether the queue is ours to delete.
func (t *topology) declare(q *queue, owner *amqpconn.Conn, again bool) error {
	if q.owner != owner {
		q.owner = owner
	}
	if t.passive {
		return t.lookUp(q)
	}
	existed := false
	name := q.name
	if q.spec.Name == "" {
		name = "" // server-named: a (re-)declare always gets a fresh name
	}
	if name != "" {
		var ready, consumers int
		err := owner.Control(func(ch *amqp.Channel) error {
			dq, err := ch.QueueDeclarePassive(q.name, false, false, false, false, nil)
			ready, consumers = dq.Messages, dq.Consumers
			return err
		})
		switch {
		case err == nil:
			existed = true
			if !again {
				q.before, q.consumersBefore = int64(ready), consumers
			}
		case amqpconn.IsCode(err, amqp.ResourceLocked):
			return fmt.Errorf("queue %q exists and is exclusive to another connection", q.name)
		}
	}
	args := amqp.Table(q.spec.DeclareArguments())
	err := owner.Control(func(ch *amqp.Channel) error {
		dq, err := ch.QueueDeclare(name, q.spec.Durable, q.spec.AutoDelete, q.spec.Exclusive, false, args)
		if err == nil && dq.Name != q.name {
			q.name = dq.Name // only server-named queues: named ones are never rewritten
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("declare queue %s: %w%s", displayName(name), err, deprecationAdvice(err))
	}
	if !again {
		q.created = !existed
	}
	return t.bind(q, again)
}

// lookUp finds a queue the owner shard declared (a passive declare) and
// records the bindings the owner made, for the audit's routing.
func (t *topology) lookUp(q *queue) error {
	err := q.owner.Control(func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive(q.name, false, false, false, false, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("look up queue %s, which the owner shard declared: %w", displayName(q.name), err)
	}
	q.bound = t.bindings(q)
	return nil
}

// bindings are q's bindings as its spec says, or by the default rule:
// fanout and headers bind everything; direct and topic bind the producers'
// routing keys when given, else the queue's own name. None on the default
// exchange.
func (t *topology) bindings(q *queue) []scenario.Binding {
	ex := t.sc.Exchange
	if ex.Name == "" {
		return nil // the default exchange routes by queue name
	}
	bindings := q.spec.Bindings
	if len(bindings) == 0 {
		switch {
		case ex.Type == scenario.ExchangeFanout || ex.Type == scenario.ExchangeHeaders:
			bindings = []scenario.Binding{{}}
		case len(t.sc.Producers.RoutingKeys) > 0:
			for _, k := range t.sc.Producers.RoutingKeys {
				bindings = append(bindings, scenario.Binding{Key: k})
			}
		default:
			bindings = []scenario.Binding{{Key: q.name}}
		}
	}
	return bindings
}

// bind binds q (see bindings).
func (t *topology) bind(q *queue, again bool) error {
	ex := t.sc.Exchange
	bindings := t.bindings(q)
	if !again {
		q.bound = bindings
	}
	for _, b := range bindings {
		err := q.owner.Control(func(ch *amqp.Channel) error {
			return ch.QueueBind(q.name, b.Key, ex.Name, false, amqp.Table(scenario.Table(b.Arguments)))
		})
		if err != nil {
			return fmt.Errorf("bind queue %s to exchange %q with key %q: %w", q.name, ex.Name, b.Key, err)
		}
	}
	return nil
}

// publishKeys returns the routing keys producers cycle through, chosen so
// that every queue gets traffic.
func (t *topology) publishKeys() []string {
	sc := t.sc
	if len(sc.Producers.RoutingKeys) > 0 {
		return sc.Producers.RoutingKeys
	}
	if sc.Exchange.Name != "" && (sc.Exchange.Type == scenario.ExchangeFanout || sc.Exchange.Type == scenario.ExchangeHeaders) {
		return []string{""}
	}
	var keys []string
	seen := map[string]bool{}
	for _, q := range t.queues {
		if q.rpc {
			continue
		}
		ks := []string{q.currentName()}
		if sc.Exchange.Name != "" && len(q.spec.Bindings) > 0 {
			ks = ks[:0]
			for _, b := range q.spec.Bindings {
				ks = append(ks, b.Key)
			}
		}
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		keys = []string{""}
	}
	return keys
}

// depth returns the number of ready messages in q.
func (q *queue) depth() (int64, error) {
	n, _, err := q.stat()
	return n, err
}

// stat is the queue's ready messages and consumers, as the broker lists
// them now.
// It gives up after statTimeout: a broker too busy to answer leaves the
// figure unknown rather than the run waiting.
func (q *queue) stat() (ready int64, consumers int, err error) {
	name := q.currentName()
	// Written by the call's goroutine, read only when it returned in time.
	dq := new(amqp.Queue)
	err = q.owner.ControlWithin(statTimeout, func(ch *amqp.Channel) error {
		var err error
		*dq, err = ch.QueueDeclarePassive(name, false, false, false, false, nil)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return int64(dq.Messages), dq.Consumers, nil
}

// statTimeout bounds one depth read, and deleteTimeout one deletion at
// the end.
const (
	statTimeout   = 30 * time.Second
	deleteTimeout = 60 * time.Second
)

// teardown deletes what the run created, queues first. It keeps going past
// failures and returns the first.
func (t *topology) teardown() error {
	var first error
	for _, q := range t.queues {
		if !q.created || q.owner == nil || q.name == "" {
			continue
		}
		name := q.currentName()
		err := q.owner.ControlWithin(deleteTimeout, func(ch *amqp.Channel) error {
			_, err := ch.QueueDelete(name, false, false, false)
			return err
		})
		if err != nil && !amqpconn.IsCode(err, amqp.NotFound) && first == nil {
			first = fmt.Errorf("delete queue %s: %w", name, err)
		}
	}
	if t.exchangeCreated {
		exchange := t.sc.Exchange.Name
		err := t.admin.ControlWithin(deleteTimeout, func(ch *amqp.Channel) error {
			return ch.ExchangeDelete(exchange, false, false)
		})
		if err != nil && !amqpconn.IsCode(err, amqp.NotFound) && first == nil {
			first = fmt.Errorf("delete exchange %q: %w", t.sc.Exchange.Name, err)
		}
	}
	return first
}

func displayName(name string) string {
	if name == "" {
		return "(server-named)"
	}
	return fmt.Sprintf("%q", name)
}

// deprecationAdvice says what to do when the broker refuses a feature it
// has deprecated (RabbitMQ 4.3 refuses transient non-exclusive queues by
// default), or "".
func deprecationAdvice(err error) string {
	if err != nil && strings.Contains(err.Error(), "transient_nonexcl_queues") {
		return " — the broker refuses transient non-exclusive queues (the deprecated feature transient_nonexcl_queues, " +
			"refused by default from RabbitMQ 4.3): declare the queue --durable (queues[].durable) or --exclusive, or use a quorum queue"
	}
	return ""
}
