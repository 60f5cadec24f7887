package scenario

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"
)

// MaxChannelsPerConnection is RabbitMQ's default channel_max (2047 usable
// channels); each worker takes one channel on its connection.
const MaxChannelsPerConnection = 2047

// FieldError is one problem with one field.
type FieldError struct {
	Path  string // YAML path, e.g. "consumers.prefetch" or "queues[0].type"
	Value any
	Msg   string
}

// Problems is every problem Validate found. Format it with Explain so that
// each one names where the value came from.
type Problems []FieldError

// Error lists the problems by field path.
func (p Problems) Error() string { return p.Explain(nil, nil) }

// Explain formats the problems one per line, naming the flag that set a
// value (flags maps field paths to flag names) or else the file and line.
func (p Problems) Explain(src *Source, flags map[string]string) string {
	lines := make([]string, 0, len(p))
	for _, e := range p {
		var loc string
		if f, ok := flags[e.Path]; ok {
			loc = "--" + f
		} else if l := src.Line(e.Path); l > 0 {
			loc = fmt.Sprintf("%s:%d: %s", src.File, l, e.Path)
		} else if src != nil {
			loc = src.File + ": " + e.Path
		} else {
			loc = e.Path
		}
		lines = append(lines, fmt.Sprintf("%s = %v: %s", loc, e.Value, e.Msg))
	}
	return strings.Join(lines, "\n")
}

type checker struct{ out Problems }

func (c *checker) check(ok bool, path string, v any, format string, args ...any) {
	if !ok {
		c.out = append(c.out, FieldError{Path: path, Value: v, Msg: fmt.Sprintf(format, args...)})
	}
}

// Validate reports every problem with the scenario (nil when there is none).
// Call Normalize first.
func (s *Scenario) Validate() Problems {
	c := &checker{}
	s.validateRun(c)
	s.validateProducers(c)
	s.validateMessage(c)
	s.validateConsumers(c)
	s.validateConsumerShapes(c)
	s.validateConsumerBehaviour(c)
	s.validateTopology(c)
	s.validateRPC(c)
	s.validateChurn(c)
	s.validateShape(c)
	s.validateTLS(c)
	s.validateAuth(c)
	s.validateShard(c)
	s.validatePhases(c)
	if len(c.out) == 0 {
		return nil
	}
	return c.out
}

func (s *Scenario) validateRun(c *checker) {
	u, err := url.Parse(s.URL)
	c.check(err == nil && (u.Scheme == "amqp" || u.Scheme == "amqps") && u.Host != "", "url", MaskURL(s.URL),
		"must be an amqp:// or amqps:// URI with a host")
	c.check(len(s.URLs) <= 100, "urls", len(s.URLs), "at most 100 nodes")
	for i, raw := range s.URLs {
		u, err := url.Parse(raw)
		c.check(err == nil && (u.Scheme == "amqp" || u.Scheme == "amqps") && u.Host != "", fmt.Sprintf("urls[%d]", i), MaskURL(raw),
			"must be an amqp:// or amqps:// URI with a host")
	}
	c.check(s.ConnectionAllocation == "" || s.ConnectionAllocation == AllocateRoundRobin || s.ConnectionAllocation == AllocateRandom,
		"connection_allocation", s.ConnectionAllocation, "must be round-robin or random")
	if s.ManagementURL != "" {
		m, err := url.Parse(s.ManagementURL)
		c.check(err == nil && (m.Scheme == "http" || m.Scheme == "https") && m.Host != "", "management_url", MaskURL(s.ManagementURL),
			"must be an http:// or https:// URL with a host")
		// With a client certificate's login the AMQP URL has no password
		// to lend the management API, which takes none of its own.
		c.check(s.Auth != AuthExternal || err != nil || m.User != nil, "management_url", MaskURL(s.ManagementURL),
			"with --auth external give the management API's user and password in this URL (http://user:password@host:15672/)")
	}
	c.duration("duration", s.Duration, 0)
	c.duration("warmup", s.Warmup, 0)
	c.check(s.Duration == 0 || s.Warmup < s.Duration, "warmup", s.Warmup,
		"must be shorter than the duration (%v): the warm-up is part of it", s.Duration)
	c.duration("interval", s.Interval, 10*time.Millisecond)
	c.duration("drain_timeout", s.DrainTimeout, 0)
	c.duration("connect_timeout", s.ConnectTimeout, time.Millisecond)
	c.duration("reconnect_timeout", s.ReconnectTimeout, time.Millisecond)
	c.inRange("repeat", int64(s.Repeat), 0, MaxRepeat, "runs per variant")
	if n := s.Matrix.Size(); n > MaxVariants {
		c.check(false, "matrix", fmt.Sprintf("%d combinations", n), "a sweep runs at most %d variants", MaxVariants)
	}
	c.duration("cooldown", s.Cooldown, 0)
	n := s.Producers.Count + s.Consumers.Count + s.RPC.Clients + s.RPC.Servers
	c.check(n <= MaxWorkers, "producers.count", n, "%d workers in all (producers, consumers, RPC clients and servers): at most %d per process, about 15 KB each; shard larger runs", n, MaxWorkers)
}

func (s *Scenario) validateProducers(c *checker) {
	p := s.Producers
	c.workers("producers", "producers.count", "producers.connections", p.Count, p.Connections)
	c.inRange("producers.messages", p.Messages, 0, int64(max(p.Count, 1))*MaxMessagesPerWorker, "0 = no limit; sequence numbers are 32-bit per producer")
	c.check(p.Messages == 0 || p.Count > 0, "producers.messages", p.Messages, "there are no producers to publish them")
	c.inRange("producers.confirm", int64(p.Confirm), 0, MaxConfirmWindow, "0 = no confirms; each unconfirmed publish costs memory")
	if p.Confirm > 0 && p.Count > 0 {
		slots := int64(p.Confirm) * int64(p.Count)
		c.check(slots <= MaxConfirmSlots, "producers.confirm", p.Confirm,
			"%d producers × %d = %d unconfirmed publishes at most; keep it under %d (about 130 bytes each)", p.Count, p.Confirm, slots, MaxConfirmSlots)
	}
}

func (s *Scenario) validateConsumers(c *checker) {
	k := s.Consumers
	c.workers("consumers", "consumers.count", "consumers.connections", k.Count, k.Connections)
	c.inRange("consumers.messages", k.Messages, 0, math.MaxInt64/2, "0 = no limit")
	c.check(k.Messages == 0 || k.Count > 0, "consumers.messages", k.Messages, "there are no consumers to count them: the run could never stop by this count")
	c.check(k.Ack == AckAuto || k.Ack == AckManual || k.Ack == AckMultiple || k.Refuses(), "consumers.ack", k.Ack,
		"must be auto, manual, multiple, nack or reject")
	if k.Ack == AckMultiple {
		c.inRange("consumers.multi_ack_every", int64(k.MultiAckEvery), 1, MaxUint16, "with ack multiple; at most the largest prefetch")
		c.check(k.Prefetch == 0 || k.MultiAckEvery <= k.Prefetch, "consumers.multi_ack_every", k.MultiAckEvery,
			"must not exceed the prefetch (%d): the consumer would stall waiting for deliveries the broker will not send", k.Prefetch)
	} else {
		c.check(k.MultiAckEvery == 0, "consumers.multi_ack_every", k.MultiAckEvery, "only applies to ack multiple")
	}
	c.check(k.Prefetch >= 0 && k.Prefetch <= MaxUint16, "consumers.prefetch", k.Prefetch, "must be 0 (unlimited) to 65535")
	c.check(k.Count == 0 || len(s.Queues) > 0, "consumers.count", k.Count, "consumers need at least one queue")
}

var exchangeTypes = map[string]bool{ExchangeDirect: true, ExchangeFanout: true, ExchangeTopic: true, ExchangeHeaders: true}

func (s *Scenario) validateTopology(c *checker) {
	c.check(exchangeTypes[s.Exchange.Type], "exchange.type", s.Exchange.Type, "must be direct, fanout, topic or headers")
	c.check(s.Exchange.Name != "" || s.Exchange.Type == ExchangeDirect, "exchange.type", s.Exchange.Type,
		"the default exchange (empty name) is a direct exchange; name an exchange to use %s", s.Exchange.Type)
	c.check(s.Exchange.Name != "" || !hasBindings(s.Queues), "queues.bindings", "(set)",
		"queues cannot be bound to the default exchange; name an exchange")
	total := 0
	for i, q := range s.Queues {
		c.inRange(fmt.Sprintf("queues[%d].count", i), int64(q.Count), 1, MaxQueues, "queues from this entry")
		total += min(max(q.Count, 0), MaxQueues+1)
	}
	if total > MaxQueues {
		c.check(false, "queues", total, "%d queues in all: at most %d per run", total, MaxQueues)
		return // naming them all would take long and prove nothing more
	}
	seen := map[string]bool{}
	for i, q := range s.Queues {
		p := fmt.Sprintf("queues[%d]", i)
		c.check(q.Type == QueueClassic || q.Type == QueueQuorum || q.Type == QueueStream, p+".type", q.Type,
			"must be classic, quorum or stream")
		if q.Type == QueueQuorum || q.Type == QueueStream {
			c.check(q.Name != "", p+".name", `""`, "%s queues cannot be server-named; give a name", q.Type)
			c.check(!q.Exclusive, p+".exclusive", q.Exclusive, "%s queues cannot be exclusive", q.Type)
			c.check(!q.AutoDelete, p+".auto_delete", q.AutoDelete, "%s queues cannot be auto-delete", q.Type)
		}
		if q.Type == QueueStream && s.Consumers.Count > 0 {
			c.check(s.Consumers.Ack != AckAuto, "consumers.ack", s.Consumers.Ack, "stream queues need manual or multiple acks")
			c.check(s.Consumers.Prefetch > 0, "consumers.prefetch", s.Consumers.Prefetch, "stream queues need a prefetch above 0")
		}
		for _, n := range q.Names() {
			c.check(n == "" || !seen[n], p+".name", n, "queue name used twice")
			seen[n] = true
		}
		c.table(p+".arguments", q.Arguments)
		for j, b := range q.Bindings {
			for k, v := range b.Arguments {
				_, err := tableValue(v)
				path := fmt.Sprintf("%s.bindings[%d].arguments.%s", p, j, k)
				c.check(err == nil, path, v, "%v", err)
				if k == "x-match" {
					c.check(v == XMatchAll || v == XMatchAny || v == XMatchAllWithX || v == XMatchAnyWithX, path, v,
						"must be all, any, all-with-x or any-with-x (the values RabbitMQ accepts)")
				}
			}
		}
	}
	s.validateExclusivePlacement(c)
}

// validateExclusivePlacement checks that every consumer of an exclusive
// queue is on the one connection that may use it.
func (s *Scenario) validateExclusivePlacement(c *checker) {
	names := s.QueueNames()
	if len(names) == 0 {
		return
	}
	excl := s.exclusiveByIndex()
	conns := map[int]map[int]bool{} // queue index → consumer connections
	for i := 0; i < s.Consumers.Count; i++ {
		qi := i % len(names)
		if !excl[qi] {
			continue
		}
		if conns[qi] == nil {
			conns[qi] = map[int]bool{}
		}
		conns[qi][ConnectionOf(i, s.Consumers.Count, s.Consumers.Connections)] = true
	}
	var bad []int
	for qi, cs := range conns {
		if len(cs) > 1 {
			bad = append(bad, qi)
		}
	}
	sort.Ints(bad)
	for _, qi := range bad {
		c.check(false, "consumers.connections", s.Consumers.Connections,
			"exclusive queue #%d has consumers on %d connections; an exclusive queue can only be used by one connection",
			qi+1, len(conns[qi]))
	}
}

func (s *Scenario) exclusiveByIndex() []bool {
	var out []bool
	for _, q := range s.Queues {
		for range q.Names() {
			out = append(out, q.Exclusive)
		}
	}
	return out
}

func hasBindings(qs []Queue) bool {
	for _, q := range qs {
		if len(q.Bindings) > 0 {
			return true
		}
	}
	return false
}

// ConnectionOf returns the connection index of worker i when count workers
// are spread over conns connections (0 = one per worker). Workers are dealt
// round-robin, so neighbours share no connection unless they must.
func ConnectionOf(i, count, conns int) int {
	if conns <= 0 || conns >= count {
		return i
	}
	return i % conns
}

// ConnectionCount is how many connections count workers use.
func ConnectionCount(count, conns int) int {
	if conns <= 0 || conns > count {
		return count
	}
	return conns
}

// workers checks a worker group's count and connections: each worker takes
// one channel, and a connection has at most MaxChannelsPerConnection.
func (c *checker) workers(what, countPath, connPath string, count, conns int) {
	c.inRange(countPath, int64(count), 0, MaxWorkers, "workers per process")
	c.inRange(connPath, int64(conns), 0, MaxWorkers, "0 = one per worker")
	if count < 0 || count > MaxWorkers || conns < 0 {
		return
	}
	c.check(perConnection(count, conns) <= MaxChannelsPerConnection, connPath, conns,
		"%d %s need at least %d connections (at most %d channels each)",
		count, what, (count+MaxChannelsPerConnection-1)/MaxChannelsPerConnection, MaxChannelsPerConnection)
}

func perConnection(count, conns int) int {
	n := ConnectionCount(count, conns)
	if n == 0 {
		return 0
	}
	return (count + n - 1) / n
}
