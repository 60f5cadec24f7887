// Package scenario describes one benchmark run: what to declare, how many
// workers, how fast, for how long. A Scenario comes from a YAML file, from
// flags, or both (flags win), and is validated in one place.
package scenario

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Scenario is the whole description of a run. Its YAML and JSON forms use
// the same field names; the JSON form is embedded, fully resolved and with
// the password masked, in every result.
type Scenario struct {
	Name string `yaml:"name" json:"name"`
	URL  string `yaml:"url" json:"url"`
	// URLs are the nodes of a cluster (URL is the first of them); the
	// connections are spread over them as ConnectionAllocation says.
	URLs                 []string `yaml:"urls" json:"urls,omitempty"`
	ConnectionAllocation string   `yaml:"connection_allocation" json:"connection_allocation,omitempty"`
	TLS                  TLS      `yaml:"tls" json:"tls"`
	Auth                 string   `yaml:"auth" json:"auth,omitempty"` // how to log in: AuthPlain ("" means it) or AuthExternal
	Duration             Duration `yaml:"duration" json:"duration"`
	Warmup               Duration `yaml:"warmup" json:"warmup"`
	Interval             Duration `yaml:"interval" json:"interval"`
	DrainTimeout         Duration `yaml:"drain_timeout" json:"drain_timeout"`
	ConnectTimeout       Duration `yaml:"connect_timeout" json:"connect_timeout"`
	// NoReconnect makes a lost connection end the run (exit 1, partial
	// result saved); otherwise mqbench reconnects for up to
	// ReconnectTimeout, re-declares its topology and carries on.
	NoReconnect bool `yaml:"no_reconnect" json:"no_reconnect"`
	// NoCoalesce writes each of the client library's flushes to the
	// socket at once (one system call per publish), instead of gathering
	// those that arrive while a write is in progress into one.
	NoCoalesce       bool      `yaml:"no_coalesce" json:"no_coalesce"`
	ReconnectTimeout Duration  `yaml:"reconnect_timeout" json:"reconnect_timeout"`
	Producers        Producers `yaml:"producers" json:"producers"`
	Consumers        Consumers `yaml:"consumers" json:"consumers"`
	Exchange         Exchange  `yaml:"exchange" json:"exchange"`
	Queues           []Queue   `yaml:"queues" json:"queues"`
	RPC              RPC       `yaml:"rpc" json:"rpc"`
	// Phases make the run a sequence of phases, each changing the load
	// (phases.go); none: one steady load.
	Phases []Phase `yaml:"phases" json:"phases,omitempty"`
	Churn  Churn   `yaml:"churn" json:"churn,omitzero"`
	// Matrix makes the file a sweep: every combination of these parameters
	// is run in turn. A single run's resolved scenario has none.
	Matrix Matrix `yaml:"matrix" json:"-"`
	// Repeat runs each variant this many times (default 1); Cooldown is
	// the pause between runs of a sweep.
	Repeat   int      `yaml:"repeat" json:"-"`
	Cooldown Duration `yaml:"cooldown" json:"-"`
	Keep     bool     `yaml:"keep" json:"keep"`
	Out      string   `yaml:"out" json:"out,omitempty"`
	// ManagementURL, when set, is sampled every interval for the broker's
	// side: http(s)://[user:password@]host:port/ (the AMQP URL's
	// credentials when it has none).
	ManagementURL string `yaml:"management_url" json:"management_url,omitempty"`
	// Shard is this process's part of a sharded run (--shard I/N), nil
	// when the run is not sharded; StartAt is the wall-clock time the
	// workers are released (--start-at). Both come from flags only: one
	// scenario file serves every shard.
	Shard   *Shard     `yaml:"-" json:"shard,omitempty"`
	StartAt *time.Time `yaml:"-" json:"start_at,omitempty"`
}

// Producers describes the publishing workers.
type Producers struct {
	Count       int        `yaml:"count" json:"count"`
	Connections int        `yaml:"connections" json:"connections"` // 0 = one per producer
	Rate        float64    `yaml:"rate" json:"rate"`               // messages/s per producer; 0 = unlimited
	TotalRate   float64    `yaml:"total_rate" json:"total_rate"`   // messages/s over all producers, spread evenly
	Schedule    []RateStep `yaml:"schedule" json:"schedule,omitempty"`
	StartJitter Duration   `yaml:"start_jitter" json:"start_jitter"` // paced producers start at a random offset below this
	Messages    int64      `yaml:"messages" json:"messages"`         // total over all producers; 0 = no limit
	Size        int        `yaml:"size" json:"size"`                 // 0 = the smallest that carries the stamp
	// SizeDistribution, when set, draws each body's size instead of Size.
	SizeDistribution *SizeDistribution `yaml:"size_distribution" json:"size_distribution,omitempty"`
	Persistent       bool              `yaml:"persistent" json:"persistent"`
	Mandatory        bool              `yaml:"mandatory" json:"mandatory"`
	Confirm          int               `yaml:"confirm" json:"confirm"` // max unconfirmed per producer; 0 = no confirms
	RoutingKeys      []string          `yaml:"routing_keys" json:"routing_keys"`
	// Headers are each message's headers: a scalar is sent as it is, a
	// mapping draws the value per message (headers.go).
	Headers  map[string]any `yaml:"headers" json:"headers,omitempty"`
	Priority int            `yaml:"priority" json:"priority,omitempty"` // message priority, 0–255
	// Properties are the other basic properties; Body what the bodies
	// hold (message.go). Nil: none, and the stamp with zeros.
	Properties *Properties `yaml:"properties" json:"properties,omitempty"`
	Body       *Body       `yaml:"body" json:"body,omitempty"`
}

// Ack modes.
const (
	AckAuto     = "auto"
	AckManual   = "manual"
	AckMultiple = "multiple"
	AckNack     = "nack"   // basic.nack each refused delivery (PerfTest --nack)
	AckReject   = "reject" // basic.reject each refused delivery
)

// Consumers describes the consuming workers.
type Consumers struct {
	Count         int      `yaml:"count" json:"count"`
	Connections   int      `yaml:"connections" json:"connections"` // 0 = one per consumer
	Messages      int64    `yaml:"messages" json:"messages"`       // total over all consumers; 0 = no limit
	Ack           string   `yaml:"ack" json:"ack"`
	MultiAckEvery int      `yaml:"multi_ack_every" json:"multi_ack_every"`
	Prefetch      int      `yaml:"prefetch" json:"prefetch"`
	Delay         Duration `yaml:"delay" json:"delay"`
	// DelayDistribution draws each message's processing time: fixed (""
	// too: Delay), uniform (DelayMin to DelayMax), exponential or
	// lognormal (mean Delay; DelaySigma shapes the log-normal's tail).
	DelayDistribution string   `yaml:"delay_distribution" json:"delay_distribution,omitempty"`
	DelayMin          Duration `yaml:"delay_min" json:"delay_min,omitempty"`
	DelayMax          Duration `yaml:"delay_max" json:"delay_max,omitempty"`
	DelaySigma        float64  `yaml:"delay_sigma" json:"delay_sigma,omitempty"`
	// StartDelay holds every subscription until this long after the start
	// signal; Rate caps each consumer's deliveries per second (0 = no
	// cap); CrashEvery makes each consumer close its channel unacked
	// after every this many deliveries (0 = never). See
	// consumer_behaviour.go.
	StartDelay Duration `yaml:"start_delay" json:"start_delay,omitempty"`
	Rate       float64  `yaml:"rate" json:"rate,omitempty"`
	CrashEvery int64    `yaml:"crash_every" json:"crash_every,omitempty"`
	// Requeue and RejectFraction shape ack nack and reject: the share of
	// deliveries refused (the others are acked; 0 = all), and whether a
	// refused message goes back to the queue.
	Requeue        bool    `yaml:"requeue" json:"requeue"`
	RejectFraction float64 `yaml:"reject_fraction" json:"reject_fraction,omitempty"`
	// Polling consumers fetch with basic.get, pausing PollingInterval when
	// the queue is empty, instead of subscribing.
	Polling         bool     `yaml:"polling" json:"polling"`
	PollingInterval Duration `yaml:"polling_interval" json:"polling_interval,omitempty"`
	// Priority is the consumer priority (x-priority; 0 = none); Arguments
	// are further basic.consume arguments.
	Priority  int            `yaml:"priority" json:"priority,omitempty"`
	Arguments map[string]any `yaml:"arguments" json:"arguments,omitempty"`
	// StreamOffset is where stream consumers start: first, last, next (the
	// default), an offset, an RFC 3339 time, or an age such as 10m or 1D.
	StreamOffset string `yaml:"stream_offset" json:"stream_offset,omitempty"`
	// ExitWhen stops the run when the consumed queues are empty or nothing
	// arrived for ExitIdle (PerfTest --exit-when): "", empty or idle.
	ExitWhen string   `yaml:"exit_when" json:"exit_when,omitempty"`
	ExitIdle Duration `yaml:"exit_idle" json:"exit_idle,omitempty"`
}

// Exchange is where producers publish. An empty name is the default
// exchange, which is never declared or deleted; neither are amq.* ones.
type Exchange struct {
	Name       string `yaml:"name" json:"name"`
	Type       string `yaml:"type" json:"type"`
	Durable    bool   `yaml:"durable" json:"durable"`
	AutoDelete bool   `yaml:"auto_delete" json:"auto_delete"`
}

// Exchange types.
const (
	ExchangeDirect  = "direct"
	ExchangeFanout  = "fanout"
	ExchangeTopic   = "topic"
	ExchangeHeaders = "headers"
)

// Connection allocations over a cluster's nodes.
const (
	AllocateRoundRobin = "round-robin" // connection k on node k mod N, in the order they are opened
	AllocateRandom     = "random"      // each connection on a node drawn at random (seeded by the run)
)

// Nodes are the broker URLs connections are spread over: URLs, or URL.
func (s Scenario) Nodes() []string {
	if len(s.URLs) > 0 {
		return s.URLs
	}
	return []string{s.URL}
}

// x-match modes of a headers binding, the values RabbitMQ accepts.
const (
	XMatchAll      = "all"
	XMatchAny      = "any"
	XMatchAllWithX = "all-with-x"
	XMatchAnyWithX = "any-with-x"
)

// Predeclared reports whether the exchange exists on every broker and must
// not be declared or deleted.
func (e Exchange) Predeclared() bool {
	return e.Name == "" || strings.HasPrefix(e.Name, "amq.")
}

// Queue types.
const (
	QueueClassic = "classic"
	QueueQuorum  = "quorum"
	QueueStream  = "stream"
)

// Queue describes one queue, or Count queues named from a %d pattern.
type Queue struct {
	Name       string         `yaml:"name" json:"name"` // "" = server-named
	Count      int            `yaml:"count" json:"count"`
	Type       string         `yaml:"type" json:"type"`
	Durable    bool           `yaml:"durable" json:"durable"`
	Exclusive  bool           `yaml:"exclusive" json:"exclusive"`
	AutoDelete bool           `yaml:"auto_delete" json:"auto_delete"`
	Arguments  map[string]any `yaml:"arguments" json:"arguments,omitempty"`
	Bindings   []Binding      `yaml:"bindings" json:"bindings,omitempty"`
	// SingleActiveConsumer, MaxPriority (1–255), InitialGroupSize and
	// LeaderLocator (client-local or balanced) become the queue arguments
	// x-single-active-consumer, x-max-priority,
	// x-quorum-initial-group-size and x-queue-leader-locator.
	SingleActiveConsumer bool   `yaml:"single_active_consumer" json:"single_active_consumer,omitempty"`
	MaxPriority          int    `yaml:"max_priority" json:"max_priority,omitempty"`
	InitialGroupSize     int    `yaml:"initial_group_size" json:"initial_group_size,omitempty"`
	LeaderLocator        string `yaml:"leader_locator" json:"leader_locator,omitempty"`
}

// DeclareArguments are the queue's arguments as declared: its own, the
// queue type and the fields that stand for arguments.
func (q Queue) DeclareArguments() map[string]any {
	args := Table(q.Arguments)
	set := func(k string, v any) {
		if args == nil {
			args = map[string]any{}
		}
		args[k] = v
	}
	if q.Type != QueueClassic && q.Type != "" {
		set("x-queue-type", q.Type)
	}
	if q.SingleActiveConsumer {
		set("x-single-active-consumer", true)
	}
	if q.MaxPriority > 0 {
		set("x-max-priority", int64(q.MaxPriority))
	}
	if q.InitialGroupSize > 0 {
		set("x-quorum-initial-group-size", int64(q.InitialGroupSize))
	}
	if q.LeaderLocator != "" {
		set("x-queue-leader-locator", q.LeaderLocator)
	}
	return args
}

// Binding binds a queue to the scenario's exchange.
type Binding struct {
	Key       string         `yaml:"key" json:"key"`
	Arguments map[string]any `yaml:"arguments" json:"arguments,omitempty"`
}

// Names expands the queue's name pattern: Count names, "%d" replaced by
// 1..Count (a name without "%d" gets "-%d" appended when Count > 1). A
// server-named queue expands to Count empty names.
func (q Queue) Names() []string {
	n := q.Count
	if n < 1 {
		n = 1
	}
	out := make([]string, n)
	if q.Name == "" {
		return out
	}
	pattern := q.Name
	if !strings.Contains(pattern, "%d") {
		if n == 1 {
			out[0] = pattern
			return out
		}
		pattern += "-%d"
	}
	for i := range out {
		out[i] = strings.ReplaceAll(pattern, "%d", fmt.Sprint(i+1))
	}
	return out
}

// Default returns the scenario mqbench runs when nothing is said: one
// producer and one consumer on one server-named queue of the default
// exchange, unbounded until interrupted.
func Default() Scenario {
	return Scenario{
		Name:             "adhoc",
		URL:              "amqp://guest:guest@localhost:5672/",
		Interval:         Duration(time.Second),
		DrainTimeout:     Duration(10 * time.Second),
		ConnectTimeout:   Duration(10 * time.Second),
		ReconnectTimeout: Duration(time.Minute),
		Producers:        Producers{Count: 1},
		Consumers:        Consumers{Count: 1, Ack: AckManual},
		Exchange:         Exchange{Type: ExchangeDirect},
		Queues:           []Queue{{Count: 1, Type: QueueClassic}},
		RPC:              defaultRPC(),
	}
}

// Normalize fills what other fields imply: quorum and stream queues are
// always durable, an unset queue count is one, an unset queue type is
// classic. Call it after flags are applied and before Validate.
func (s *Scenario) Normalize() {
	for i := range s.Queues {
		q := &s.Queues[i]
		if q.Count == 0 {
			q.Count = 1
		}
		if q.Type == "" {
			q.Type = QueueClassic
		}
		if q.Type == QueueQuorum || q.Type == QueueStream {
			q.Durable = true
		}
	}
	if s.Exchange.Type == "" {
		s.Exchange.Type = ExchangeDirect
	}
	if len(s.URLs) > 0 {
		s.URL = s.URLs[0]
	}
	if len(s.URLs) > 1 && s.ConnectionAllocation == "" {
		s.ConnectionAllocation = AllocateRoundRobin
	}
	if s.Producers.Size == 0 && !s.Producers.UserBody() { // the files say how large
		s.Producers.Size = s.Producers.defaultSize()
	}
	s.placeServerNamed()
	s.Churn.normalize()
}

// placeServerNamed decides what a server-named classic queue that is
// neither durable nor exclusive becomes: exclusive (as pika's tutorials
// declare them) when each of its queues has all its consumers on one
// connection, which then owns it; durable otherwise. RabbitMQ 4.3 refuses
// transient non-exclusive queues by default (the deprecated feature
// transient_nonexcl_queues), and both choices work on every release.
func (s *Scenario) placeServerNamed() {
	total := 0
	for _, q := range s.Queues {
		total += max(q.Count, 0)
	}
	if total == 0 || total > MaxQueues || s.Consumers.Count > MaxWorkers {
		return // Validate refuses it
	}
	first := 0
	for i := range s.Queues {
		q := &s.Queues[i]
		if q.Name == "" && q.Type == QueueClassic && !q.Durable && !q.Exclusive {
			q.Exclusive = true
			for qi := first; qi < first+q.Count; qi++ {
				q.Exclusive = q.Exclusive && s.oneConnection(qi, total)
			}
			q.Durable = !q.Exclusive
		}
		first += max(q.Count, 0)
	}
}

// oneConnection reports whether every consumer of queue index qi (of
// total queues; consumer i consumes queue i mod total) is on one
// connection.
func (s *Scenario) oneConnection(qi, total int) bool {
	conn := -1
	for i := qi; i < s.Consumers.Count; i += total {
		c := ConnectionOf(i, s.Consumers.Count, s.Consumers.Connections)
		if conn >= 0 && c != conn {
			return false
		}
		conn = c
	}
	return true
}

// QueueNames lists every queue name in declaration order (empty names are
// server-named queues).
func (s *Scenario) QueueNames() []string {
	var out []string
	for _, q := range s.Queues {
		out = append(out, q.Names()...)
	}
	return out
}

// MaskURL returns raw with any password replaced by "xxxxx". A URL that does
// not parse is reduced to a placeholder rather than risk echoing a secret.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Masked returns a copy of s that is safe to print or save.
func (s Scenario) Masked() Scenario {
	s.URL = MaskURL(s.URL)
	if len(s.URLs) > 0 {
		masked := make([]string, len(s.URLs))
		for i, u := range s.URLs {
			masked[i] = MaskURL(u)
		}
		s.URLs = masked
	}
	if s.ManagementURL != "" {
		s.ManagementURL = MaskURL(s.ManagementURL)
	}
	return s
}
