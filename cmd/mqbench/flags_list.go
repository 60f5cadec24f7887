package main

import (
	"fmt"

	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// runFlags is every `mqbench run` flag, in the order of the flag table
// (docs/reference/flags.md, generated from this list by TestFlagTable).
// Each is declared here once; see runFlag.
func runFlags() []runFlag {
	var all []runFlag
	for _, group := range [][]runFlag{
		connectionFlags(), shardRunFlags(), workerFlags(), timingFlags(), tlsFlags(), producerFlags(), propRunFlags(), consumerFlags(), consumerBehaviourFlags(),
		topologyFlags(), resultFlags(), rpcRunFlags(), churnRunFlags(), shapeRunFlags(), outputRunFlags(), sweepRunFlags(),
	} {
		all = append(all, group...)
	}
	return all
}

func connectionFlags() []runFlag {
	return []runFlag{
		{name: "url", arg: "URI", path: "urls",
			usage: "broker URI (default $MQBENCH_URL, else amqp://guest:guest@localhost:5672/); repeat it for the nodes of a cluster"},
		{name: "connection-allocation", arg: "A", path: "connection_allocation",
			usage: "how connections spread over the --url nodes: round-robin (default) or random"},
	}
}

func workerFlags() []runFlag {
	return []runFlag{
		{name: "producers", alias: "x", arg: "N", path: "producers.count", usage: "number of producers (default 1)"},
		{name: "consumers", alias: "y", arg: "N", path: "consumers.count", usage: "number of consumers (default 1)"},
		{name: "producer-connections", arg: "N", path: "producers.connections",
			usage: "connections the producers are spread over, one channel per producer (0 = one per producer)"},
		{name: "consumer-connections", arg: "N", path: "consumers.connections",
			usage: "connections the consumers are spread over, one channel per consumer (0 = one per consumer)"},
	}
}

func timingFlags() []runFlag {
	return []runFlag{
		{name: "duration", alias: "z", arg: "D", path: "duration",
			usage: "measured run length, e.g. 30s (a bare number is seconds; 0 = until a message count or Ctrl-C)"},
		{name: "warmup", arg: "D", path: "warmup", usage: "time at the start excluded from all statistics (part of the duration)"},
		{name: "interval", alias: "i", arg: "D", path: "interval", usage: "live progress interval (default 1s)"},
		{name: "drain-timeout", arg: "D", path: "drain_timeout", usage: "longest time consumers may drain after the load stops (default 10s)"},
		{name: "connect-timeout", arg: "D", path: "connect_timeout", usage: "TCP connect and AMQP handshake timeout (default 10s)"},
		{name: "no-reconnect", path: "no_reconnect",
			usage: "a lost connection ends the run (exit 1, partial result saved) instead of reconnecting"},
		{name: "no-coalesce", path: "no_coalesce",
			usage: "one socket write per publish (as amqp091-go does), instead of gathering the writes that queue up behind one in progress"},
		{name: "reconnect-timeout", arg: "D", path: "reconnect_timeout", usage: "how long to keep reconnecting a lost connection (default 60s)"},
	}
}

func tlsFlags() []runFlag {
	return []runFlag{
		{name: "tls-ca", arg: "FILE", path: "tls.ca",
			usage: "CA certificate (PEM) to verify the broker with (amqps://); default: the system's roots"},
		{name: "tls-cert", arg: "FILE", path: "tls.cert", usage: "client certificate (PEM) for amqps://"},
		{name: "tls-key", arg: "FILE", path: "tls.key", usage: "client certificate's key (PEM)"},
		{name: "tls-server-name", arg: "NAME", path: "tls.server_name",
			usage: "name to verify the broker's certificate against (default: the URL's host)"},
		{name: "tls-insecure", path: "tls.insecure",
			usage: "do NOT verify the broker's certificate (printed as a warning, recorded in the result)"},
		{name: "auth", arg: "MECHANISM", path: "auth",
			usage: "how to log in: plain (the URL's user and password; default) or external " +
				"(SASL EXTERNAL: the client certificate, --tls-cert and --tls-key, names the user; amqps:// only)"},
	}
}

func producerFlags() []runFlag {
	return []runFlag{
		{name: "pmessages", alias: "C", arg: "N", path: "producers.messages",
			usage: "stop after this many published messages in total (split exactly over the producers)"},
		{name: "rate", alias: "r", arg: "R", path: "producers.rate", usage: "messages per second per producer (0 = unlimited)"},
		{name: "total-rate", arg: "R", path: "producers.total_rate",
			usage: "messages per second over all producers, spread evenly (instead of --rate)"},
		{name: "size", alias: "s", arg: "BYTES", path: "producers.size", usage: fmt.Sprintf(
			"message body size in bytes (minimum 12, or 20 when paced; default %d, which turns the delivery audit on)", stamp.AuditSize)},
		{name: "persistent", path: "producers.persistent", usage: "publish persistent messages (delivery mode 2)"},
		{name: "mandatory", path: "producers.mandatory", usage: "set the mandatory flag; returned messages are counted"},
		{name: "confirm", alias: "c", arg: "N", path: "producers.confirm",
			usage: "publisher confirms with at most N unconfirmed per producer (0 = off)"},
	}
}

func consumerFlags() []runFlag {
	return []runFlag{
		{name: "cmessages", alias: "D", arg: "N", path: "consumers.messages", usage: "stop after this many consumed messages in total"},
		{name: "ack", arg: "MODE", path: "consumers.ack", usage: "auto, manual, multiple, nack or reject (default manual)"},
		{name: "multi-ack-every", alias: "A", arg: "N", path: "consumers.multi_ack_every",
			usage: "with --ack multiple, ack every N deliveries (one ack with multiple=true)"},
		{name: "prefetch", alias: "q", arg: "N", path: "consumers.prefetch", usage: "basic.qos prefetch per consumer (0 = unlimited)"},
		{name: "consumer-delay", arg: "D", path: "consumers.delay", usage: "simulated processing time per message, e.g. 5ms"},
	}
}

func topologyFlags() []runFlag {
	return []runFlag{
		{name: "exchange", alias: "e", arg: "NAME", path: "exchange.name", usage: "exchange name (empty = the default exchange)"},
		{name: "exchange-type", alias: "t", arg: "T", path: "exchange.type", usage: "direct, fanout, topic or headers"},
		{name: "queue", alias: "u", arg: "NAME", path: "queues[0].name", usage: "queue name or pattern with %d (empty = server-named)"},
		{name: "queues", arg: "N", path: "queues[0].count",
			usage: "number of queues, named from the --queue pattern (%d = 1..N; a name without %d gets -%d)"},
		{name: "routing-key", alias: "k", arg: "K[,K…]", path: "producers.routing_keys",
			usage: "routing key(s) to publish with, comma-separated (chosen round-robin)",
			own:   converted(func(keys string, _ any) any { return splitList(keys) })},
		{name: "durable", path: "queues[*].durable", usage: "declare durable queues (every queue entry)"},
		{name: "exclusive", path: "queues[*].exclusive", usage: "declare exclusive queues (every queue entry)"},
		{name: "auto-delete", path: "queues[*].auto_delete", usage: "declare auto-delete queues (every queue entry)"},
		{name: "queue-type", arg: "T", path: "queues[*].type", usage: "classic, quorum or stream (quorum and stream queues are always durable)"},
	}
}

func resultFlags() []runFlag {
	return []runFlag{
		{name: "out", alias: "o", arg: "FILE", path: "out",
			usage: "where the JSON result goes (- = stdout, the table then goes to stderr; default results/<UTC time>-<name>.json)"},
		{name: "keep", path: "keep", usage: "do not delete what mqbench declared"},
		{name: "name", arg: "NAME", path: "name", usage: "scenario name (used in the result file name)"},
		{name: "management-url", arg: "URL", path: "management_url",
			usage: "sample the broker's management API every interval: http://[user:password@]host:15672/"},
	}
}

func sweepRunFlags() []runFlag {
	return []runFlag{
		{name: "sweep", arg: "NAME=V1,V2,…", path: "matrix",
			usage: "sweep a parameter: NAME=V1,V2,... (repeatable; every combination runs), e.g. prefetch=1,10,100",
			own:   converted(func(s sweepFlag, cur any) any { return cur.(scenario.Matrix).Merge(s) })},
		{name: "repeat", arg: "N", path: "repeat", usage: "run each variant N times and report medians with min–max spreads"},
		{name: "cooldown", arg: "D", path: "cooldown", usage: "pause between the runs of a sweep"},
	}
}
