package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/mqbench/mqbench/internal/scenario"
)

// runFlag is one `mqbench run` flag: its long name (a contract scripts rely
// on), an optional PerfTest-style short alias, the scenario field it sets
// (for error messages) and how it sets it.
type runFlag struct {
	name, alias, path string
	apply             func(sc *scenario.Scenario) error
}

// flagSet holds the parsed values of every run flag.
type flagSet struct {
	fs    *flag.FlagSet
	specs []runFlag
	out   outputFlags // where progress goes: not part of the scenario
	v     struct {
		ack, exchange, exchangeType, queue, routingKey, queueType, out, name, mgmt, allocation string
		urls                                                                                   listFlag
		producers, consumers, pconns, cconns, size, confirm, multiAck, prefetch, queues        int
		pmessages, cmessages                                                                   int64
		rate, totalRate                                                                        float64
		duration, warmup, interval, drain, connect, delay                                      scenario.Duration
		persistent, mandatory, durable, exclusive, autoDelete, keep, noReconnect, noCoalesce   bool
		reconnect                                                                              scenario.Duration
		rpc                                                                                    rpcFlags
		shapes                                                                                 shapeFlags
		props                                                                                  propFlags
		shards                                                                                 shardFlags
		tls                                                                                    scenario.TLS
		sweeps                                                                                 sweepFlag
		repeat                                                                                 int
		cooldown                                                                               scenario.Duration
	}
}

// listFlag collects a repeated string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set appends one value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// sweepFlag collects repeated --sweep NAME=V1,V2 arguments.
type sweepFlag []scenario.Param

func (s *sweepFlag) String() string { return fmt.Sprint(len(*s), " parameters") }

func (s *sweepFlag) Set(v string) error {
	p, err := scenario.ParseSweepFlag(v)
	if err != nil {
		return err
	}
	*s = append(*s, p)
	return nil
}

// rpcFlags holds the values of the --rpc-* flags.
type rpcFlags struct {
	clients, clientConns, concurrency, servers, serverConns, serverConc, reqSize, replySize int
	requests                                                                                int64
	rate                                                                                    float64
	timeout, delay                                                                          scenario.Duration
	replyMode, queue, body                                                                  string
}

// newFlagSet is the flags of `mqbench run` (sweeps parse theirs too).
func newFlagSet() *flagSet { return newNamedFlagSet("mqbench run") }

// newNamedFlagSet is the run flags under another command's name (its
// usage line says which command it is).
func newNamedFlagSet(name string) *flagSet {
	f := &flagSet{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	v := &f.v
	fs := f.fs
	add := func(name, alias, path string, bind func(name string), apply func(*scenario.Scenario) error) {
		bind(name)
		if alias != "" {
			bind(alias)
		}
		f.specs = append(f.specs, runFlag{name: name, alias: alias, path: path, apply: apply})
	}
	str := func(p *string, usage string) func(string) {
		return func(n string) { fs.StringVar(p, n, "", usage) }
	}
	num := func(p *int, usage string) func(string) { return func(n string) { fs.IntVar(p, n, 0, usage) } }
	num64 := func(p *int64, usage string) func(string) { return func(n string) { fs.Int64Var(p, n, 0, usage) } }
	boolean := func(p *bool, usage string) func(string) { return func(n string) { fs.BoolVar(p, n, false, usage) } }
	dur := func(p *scenario.Duration, usage string) func(string) { return func(n string) { fs.Var(p, n, usage) } }
	set := func(fn func(*scenario.Scenario)) func(*scenario.Scenario) error {
		return func(sc *scenario.Scenario) error { fn(sc); return nil }
	}

	add("url", "", "urls", func(n string) {
		fs.Var(&v.urls, n, "broker URI (default $MQBENCH_URL, else amqp://guest:guest@localhost:5672/); repeat it for the nodes of a cluster")
	}, set(func(s *scenario.Scenario) { s.URLs, s.URL = v.urls, v.urls[0] }))
	add("connection-allocation", "", "connection_allocation", str(&v.allocation, "how connections spread over the --url nodes: round-robin (default) or random"), set(func(s *scenario.Scenario) { s.ConnectionAllocation = v.allocation }))
	add("producers", "x", "producers.count", num(&v.producers, "number of producers (default 1)"), set(func(s *scenario.Scenario) { s.Producers.Count = v.producers }))
	add("consumers", "y", "consumers.count", num(&v.consumers, "number of consumers (default 1)"), set(func(s *scenario.Scenario) { s.Consumers.Count = v.consumers }))
	add("producer-connections", "", "producers.connections", num(&v.pconns, "connections the producers are spread over (0 = one per producer)"), set(func(s *scenario.Scenario) { s.Producers.Connections = v.pconns }))
	add("consumer-connections", "", "consumers.connections", num(&v.cconns, "connections the consumers are spread over (0 = one per consumer)"), set(func(s *scenario.Scenario) { s.Consumers.Connections = v.cconns }))
	add("duration", "z", "duration", dur(&v.duration, "measured run length, e.g. 30s (a bare number is seconds; 0 = until a message count or Ctrl-C)"), set(func(s *scenario.Scenario) { s.Duration = v.duration }))
	add("warmup", "", "warmup", dur(&v.warmup, "time at the start excluded from all statistics"), set(func(s *scenario.Scenario) { s.Warmup = v.warmup }))
	add("interval", "i", "interval", dur(&v.interval, "live progress interval (default 1s)"), set(func(s *scenario.Scenario) { s.Interval = v.interval }))
	add("drain-timeout", "", "drain_timeout", dur(&v.drain, "longest time consumers may drain after the load stops (default 10s)"), set(func(s *scenario.Scenario) { s.DrainTimeout = v.drain }))
	add("no-reconnect", "", "no_reconnect", boolean(&v.noReconnect, "a lost connection ends the run (exit 1, partial result saved) instead of reconnecting"), set(func(s *scenario.Scenario) { s.NoReconnect = v.noReconnect }))
	add("no-coalesce", "", "no_coalesce", boolean(&v.noCoalesce, "one socket write per publish (as amqp091-go does), instead of gathering the writes that queue up behind one in progress"), set(func(s *scenario.Scenario) { s.NoCoalesce = v.noCoalesce }))
	add("reconnect-timeout", "", "reconnect_timeout", dur(&v.reconnect, "how long to keep reconnecting a lost connection (default 60s)"), set(func(s *scenario.Scenario) { s.ReconnectTimeout = v.reconnect }))
	add("connect-timeout", "", "connect_timeout", dur(&v.connect, "TCP connect timeout (default 10s)"), set(func(s *scenario.Scenario) { s.ConnectTimeout = v.connect }))
	add("pmessages", "C", "producers.messages", num64(&v.pmessages, "stop after this many published messages in total"), set(func(s *scenario.Scenario) { s.Producers.Messages = v.pmessages }))
	add("cmessages", "D", "consumers.messages", num64(&v.cmessages, "stop after this many consumed messages in total"), set(func(s *scenario.Scenario) { s.Consumers.Messages = v.cmessages }))
	add("rate", "r", "producers.rate", func(n string) { fs.Float64Var(&v.rate, n, 0, "messages per second per producer (0 = unlimited)") }, set(func(s *scenario.Scenario) { s.Producers.Rate = v.rate }))
	add("total-rate", "", "producers.total_rate", func(n string) {
		fs.Float64Var(&v.totalRate, n, 0, "messages per second over all producers, spread evenly (instead of --rate)")
	}, set(func(s *scenario.Scenario) { s.Producers.TotalRate = v.totalRate }))
	add("size", "s", "producers.size", num(&v.size, "message body size in bytes (minimum 12, or 20 when paced; default 24, which turns the delivery audit on)"), set(func(s *scenario.Scenario) { s.Producers.Size = v.size }))
	add("persistent", "", "producers.persistent", boolean(&v.persistent, "publish persistent messages (delivery mode 2)"), set(func(s *scenario.Scenario) { s.Producers.Persistent = v.persistent }))
	add("mandatory", "", "producers.mandatory", boolean(&v.mandatory, "set the mandatory flag; returned messages are counted"), set(func(s *scenario.Scenario) { s.Producers.Mandatory = v.mandatory }))
	add("confirm", "c", "producers.confirm", num(&v.confirm, "publisher confirms with at most N unconfirmed per producer (0 = off)"), set(func(s *scenario.Scenario) { s.Producers.Confirm = v.confirm }))
	add("ack", "", "consumers.ack", str(&v.ack, "auto, manual, multiple, nack or reject (default manual)"), set(func(s *scenario.Scenario) { s.Consumers.Ack = v.ack }))
	add("multi-ack-every", "A", "consumers.multi_ack_every", num(&v.multiAck, "with --ack multiple, ack every N deliveries"), set(func(s *scenario.Scenario) { s.Consumers.MultiAckEvery = v.multiAck }))
	add("prefetch", "q", "consumers.prefetch", num(&v.prefetch, "basic.qos prefetch per consumer (0 = unlimited)"), set(func(s *scenario.Scenario) { s.Consumers.Prefetch = v.prefetch }))
	add("consumer-delay", "", "consumers.delay", dur(&v.delay, "simulated processing time per message, e.g. 5ms"), set(func(s *scenario.Scenario) { s.Consumers.Delay = v.delay }))
	add("exchange", "e", "exchange.name", str(&v.exchange, "exchange name (empty = the default exchange)"), set(func(s *scenario.Scenario) { s.Exchange.Name = v.exchange }))
	add("exchange-type", "t", "exchange.type", str(&v.exchangeType, "direct, fanout, topic or headers"), set(func(s *scenario.Scenario) { s.Exchange.Type = v.exchangeType }))
	add("queue", "u", "queues[0].name", str(&v.queue, "queue name or pattern with %d (empty = server-named)"), oneQueue("queue", func(q *scenario.Queue) { q.Name = v.queue }))
	add("queues", "", "queues[0].count", num(&v.queues, "number of queues, named from the --queue pattern"), oneQueue("queues", func(q *scenario.Queue) { q.Count = v.queues }))
	add("routing-key", "k", "producers.routing_keys", str(&v.routingKey, "routing key(s) to publish with, comma-separated (chosen round-robin)"), set(func(s *scenario.Scenario) { s.Producers.RoutingKeys = splitList(v.routingKey) }))
	add("durable", "", "queues[*].durable", boolean(&v.durable, "declare durable queues"), allQueues(func(q *scenario.Queue) { q.Durable = v.durable }))
	add("exclusive", "", "queues[*].exclusive", boolean(&v.exclusive, "declare exclusive queues"), allQueues(func(q *scenario.Queue) { q.Exclusive = v.exclusive }))
	add("auto-delete", "", "queues[*].auto_delete", boolean(&v.autoDelete, "declare auto-delete queues"), allQueues(func(q *scenario.Queue) { q.AutoDelete = v.autoDelete }))
	add("queue-type", "", "queues[*].type", str(&v.queueType, "classic, quorum or stream"), allQueues(func(q *scenario.Queue) { q.Type = v.queueType }))
	add("out", "o", "out", str(&v.out, "where the JSON result goes (- = stdout; default results/<UTC time>-<name>.json)"), set(func(s *scenario.Scenario) { s.Out = v.out }))
	add("management-url", "", "management_url", str(&v.mgmt, "sample the broker's management API every interval: http://[user:password@]host:15672/"), set(func(s *scenario.Scenario) { s.ManagementURL = v.mgmt }))
	add("keep", "", "keep", boolean(&v.keep, "do not delete what mqbench declared"), set(func(s *scenario.Scenario) { s.Keep = v.keep }))
	add("name", "", "name", str(&v.name, "scenario name (used in the result file name)"), set(func(s *scenario.Scenario) { s.Name = v.name }))
	f.addRPC(add, str, num, num64, dur, set)
	f.addShapes(add, str, num, dur, set)
	f.addProps(add, str, dur, set)
	f.addShards(add)
	add("tls-ca", "", "tls.ca", str(&v.tls.CA, "CA certificate (PEM) to verify the broker with (amqps://); default: the system's roots"), set(func(s *scenario.Scenario) { s.TLS.CA = v.tls.CA }))
	add("tls-cert", "", "tls.cert", str(&v.tls.Cert, "client certificate (PEM) for amqps://"), set(func(s *scenario.Scenario) { s.TLS.Cert = v.tls.Cert }))
	add("tls-key", "", "tls.key", str(&v.tls.Key, "client certificate's key (PEM)"), set(func(s *scenario.Scenario) { s.TLS.Key = v.tls.Key }))
	add("tls-server-name", "", "tls.server_name", str(&v.tls.ServerName, "name to verify the broker's certificate against (default: the URL's host)"), set(func(s *scenario.Scenario) { s.TLS.ServerName = v.tls.ServerName }))
	add("tls-insecure", "", "tls.insecure", boolean(&v.tls.Insecure, "do NOT verify the broker's certificate (printed as a warning)"), set(func(s *scenario.Scenario) { s.TLS.Insecure = v.tls.Insecure }))
	add("repeat", "", "repeat", num(&v.repeat, "run each variant N times and report medians with min–max spreads"), set(func(s *scenario.Scenario) { s.Repeat = v.repeat }))
	add("cooldown", "", "cooldown", dur(&v.cooldown, "pause between the runs of a sweep"), set(func(s *scenario.Scenario) { s.Cooldown = v.cooldown }))
	add("sweep", "", "matrix", func(n string) {
		fs.Var(&v.sweeps, n, "sweep a parameter: NAME=V1,V2,... (repeatable; every combination runs), e.g. prefetch=1,10,100")
	}, set(func(s *scenario.Scenario) { s.Matrix = s.Matrix.Merge(v.sweeps) }))
	f.out.register(f)
	return f
}

type (
	addFunc  func(name, alias, path string, bind func(name string), apply func(*scenario.Scenario) error)
	setFunc  func(fn func(*scenario.Scenario)) func(*scenario.Scenario) error
	bindStr  func(p *string, usage string) func(string)
	bindInt  func(p *int, usage string) func(string)
	bindI64  func(p *int64, usage string) func(string)
	bindDura func(p *scenario.Duration, usage string) func(string)
)

// addRPC registers the RPC flags; the scenario's rpc section mirrors them.
func (f *flagSet) addRPC(add addFunc, str bindStr, num bindInt, num64 bindI64, dur bindDura, set setFunc) {
	r := &f.v.rpc
	fs := f.fs
	add("rpc-clients", "", "rpc.clients", num(&r.clients, "RPC clients (0 = no RPC)"), set(func(s *scenario.Scenario) { s.RPC.Clients = r.clients }))
	add("rpc-client-connections", "", "rpc.client_connections", num(&r.clientConns, "connections the RPC clients are spread over (0 = one per client)"), set(func(s *scenario.Scenario) { s.RPC.ClientConnections = r.clientConns }))
	add("rpc-concurrency", "", "rpc.concurrency", num(&r.concurrency, "outstanding requests per RPC client (default 1)"), set(func(s *scenario.Scenario) { s.RPC.Concurrency = r.concurrency }))
	add("rpc-rate", "", "rpc.rate", func(n string) { fs.Float64Var(&r.rate, n, 0, "requests per second per RPC client (0 = closed loop)") }, set(func(s *scenario.Scenario) { s.RPC.Rate = r.rate }))
	add("rpc-requests", "", "rpc.requests", num64(&r.requests, "stop after this many RPC requests in total (each answered or timed out)"), set(func(s *scenario.Scenario) { s.RPC.Requests = r.requests }))
	add("rpc-timeout", "", "rpc.timeout", dur(&r.timeout, "RPC request timeout (default 5s)"), set(func(s *scenario.Scenario) { s.RPC.Timeout = r.timeout }))
	add("rpc-reply-mode", "", "rpc.reply_mode", str(&r.replyMode, "exclusive (a callback queue per client) or direct (amq.rabbitmq.reply-to)"), set(func(s *scenario.Scenario) { s.RPC.ReplyMode = r.replyMode }))
	add("rpc-servers", "", "rpc.servers", num(&r.servers, "mqbench's own RPC servers (0 = profile an existing service)"), set(func(s *scenario.Scenario) { s.RPC.Servers = r.servers }))
	add("rpc-server-connections", "", "rpc.server_connections", num(&r.serverConns, "connections the RPC servers are spread over (0 = one per server)"), set(func(s *scenario.Scenario) { s.RPC.ServerConnections = r.serverConns }))
	add("rpc-server-concurrency", "", "rpc.server_concurrency", num(&r.serverConc, "requests each RPC server handles at once (default 1)"), set(func(s *scenario.Scenario) { s.RPC.ServerConcurrency = r.serverConc }))
	add("rpc-server-delay", "", "rpc.server_delay", dur(&r.delay, "fixed processing time per request (distributions: scenario file)"), set(func(s *scenario.Scenario) {
		s.RPC.ServerDelay = scenario.Delay{Distribution: scenario.DelayFixed, Mean: r.delay}
	}))
	add("rpc-queue", "", "rpc.queue", str(&r.queue, "RPC request queue (created unless it exists; default mqbench-rpc)"), set(func(s *scenario.Scenario) { s.RPC.Queue = r.queue }))
	add("rpc-body", "", "rpc.body", str(&r.body, "file whose content is every request's body"), set(func(s *scenario.Scenario) { s.RPC.Body = r.body }))
	add("rpc-request-size", "", "rpc.request_size", num(&r.reqSize, "request body size without --rpc-body (default 12)"), set(func(s *scenario.Scenario) { s.RPC.RequestSize = r.reqSize }))
	add("rpc-reply-size", "", "rpc.reply_size", num(&r.replySize, "reply body size of mqbench's RPC servers (default 12)"), set(func(s *scenario.Scenario) { s.RPC.ReplySize = r.replySize }))
}

// oneQueue applies a flag to the only queue entry; a scenario with several
// entries cannot be overridden by one name.
func oneQueue(flagName string, fn func(*scenario.Queue)) func(*scenario.Scenario) error {
	return func(s *scenario.Scenario) error {
		switch len(s.Queues) {
		case 0:
			s.Queues = []scenario.Queue{{Count: 1}}
		case 1:
		default:
			return usagef("--%s: the scenario has %d queue entries; change them in the file", flagName, len(s.Queues))
		}
		fn(&s.Queues[0])
		return nil
	}
}

func allQueues(fn func(*scenario.Queue)) func(*scenario.Scenario) error {
	return func(s *scenario.Scenario) error {
		for i := range s.Queues {
			fn(&s.Queues[i])
		}
		return nil
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parse parses args, which may hold one scenario file anywhere among the
// flags, and returns the file (or "").
func (f *flagSet) parse(args []string) (string, error) {
	var files []string
	for {
		if err := f.fs.Parse(args); err != nil {
			return "", asUsage(err)
		}
		if f.fs.NArg() == 0 {
			break
		}
		files = append(files, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
	if len(files) > 1 {
		return "", usagef("one scenario file at most, got %d: %s", len(files), strings.Join(files, ", "))
	}
	if len(files) == 1 {
		return files[0], nil
	}
	return "", nil
}

// apply overrides sc with the flags the user set and returns which field
// paths they set (path → flag name, for error messages).
func (f *flagSet) apply(sc *scenario.Scenario) (map[string]string, error) {
	byName := map[string]runFlag{}
	for _, s := range f.specs {
		byName[s.name] = s
		if s.alias != "" {
			byName[s.alias] = s
		}
	}
	paths := map[string]string{}
	var err error
	f.fs.Visit(func(fl *flag.Flag) {
		s, ok := byName[fl.Name]
		if !ok || err != nil {
			return
		}
		if err = s.apply(sc); err != nil {
			return
		}
		if strings.Contains(s.path, "[*]") || strings.HasPrefix(s.path, "queues[0]") {
			field := s.path[strings.LastIndex(s.path, ".")+1:]
			for i := range sc.Queues {
				paths[fmt.Sprintf("queues[%d].%s", i, field)] = s.name
			}
		} else {
			paths[s.path] = s.name
		}
	})
	return paths, err
}
