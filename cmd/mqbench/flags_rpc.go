package main

import "github.com/mqbench/mqbench/internal/scenario"

// rpcRunFlags are the RPC flags; the scenario's rpc section mirrors them.
func rpcRunFlags() []runFlag {
	return []runFlag{
		{name: "rpc-clients", arg: "N", path: "rpc.clients", usage: "RPC clients (0 = no RPC)"},
		{name: "rpc-client-connections", arg: "N", path: "rpc.client_connections",
			usage: "connections the RPC clients are spread over (0 = one per client)"},
		{name: "rpc-concurrency", arg: "N", path: "rpc.concurrency", usage: "outstanding requests per RPC client (default 1)"},
		{name: "rpc-rate", arg: "R", path: "rpc.rate", usage: "requests per second per RPC client (0 = closed loop)"},
		{name: "rpc-requests", arg: "N", path: "rpc.requests",
			usage: "stop after this many RPC requests in total (each answered or timed out)"},
		{name: "rpc-timeout", arg: "D", path: "rpc.timeout", usage: "RPC request timeout (default 5s)"},
		{name: "rpc-reply-mode", arg: "M", path: "rpc.reply_mode",
			usage: "exclusive (a callback queue per client, the default) or direct (amq.rabbitmq.reply-to)"},
		{name: "rpc-servers", arg: "N", path: "rpc.servers", usage: "mqbench's own RPC servers (0 = profile an existing service)"},
		{name: "rpc-server-connections", arg: "N", path: "rpc.server_connections",
			usage: "connections the RPC servers are spread over (0 = one per server)"},
		{name: "rpc-server-concurrency", arg: "N", path: "rpc.server_concurrency",
			usage: "requests each RPC server handles at once (default 1)"},
		// A flag gives a fixed delay; its distributions are the file's.
		{name: "rpc-server-delay", arg: "D", path: "rpc.server_delay",
			usage: "fixed processing time per request (distributions: scenario file)",
			own: converted(func(d scenario.Duration, _ any) any {
				return scenario.Delay{Distribution: scenario.DelayFixed, Mean: d}
			})},
		{name: "rpc-queue", arg: "NAME", path: "rpc.queue", usage: "RPC request queue (created unless it exists; default mqbench-rpc)"},
		{name: "rpc-body", arg: "FILE", path: "rpc.body", usage: "file whose content is every request's body"},
		{name: "rpc-request-size", arg: "N", path: "rpc.request_size", usage: "request body size without --rpc-body (default 12)"},
		{name: "rpc-reply-size", arg: "N", path: "rpc.reply_size", usage: "reply body size of mqbench's RPC servers (default 12)"},
	}
}
