package main

// shapeRunFlags are the consumer, message and queue shape flags
// (PerfTest's --nack, --requeue, --polling, --exit-when and the like).
func shapeRunFlags() []runFlag {
	return []runFlag{
		{name: "requeue", path: "consumers.requeue", usage: "with --ack nack or reject: put refused messages back in the queue"},
		{name: "reject-fraction", arg: "F", path: "consumers.reject_fraction",
			usage: "with --ack nack or reject: the share of deliveries refused, the rest acked (default all)"},
		{name: "polling", path: "consumers.polling", usage: "consumers fetch with basic.get instead of subscribing"},
		{name: "polling-interval", arg: "D", path: "consumers.polling_interval",
			usage: "pause of a polling consumer that found its queue empty (default 10ms)"},
		{name: "consumer-priority", arg: "N", path: "consumers.priority", usage: "consumer priority (x-priority)"},
		{name: "stream-offset", arg: "O", path: "consumers.stream_offset",
			usage: "where stream consumers start: first, last, next (default), an offset, an RFC 3339 time or an age such as 10m"},
		{name: "exit-when", arg: "W", path: "consumers.exit_when",
			usage: "stop when the consumed queues are empty, or idle: nothing arrived for --exit-idle"},
		{name: "exit-idle", arg: "D", path: "consumers.exit_idle", usage: "with --exit-when idle: how long nothing must arrive (default 2s)"},
		{name: "priority", arg: "N", path: "producers.priority", usage: "message priority 0–255 (queues need --max-priority)"},
		{name: "max-priority", arg: "N", path: "queues[*].max_priority", usage: "declare priority queues (x-max-priority, 1–255)"},
		{name: "single-active-consumer", path: "queues[*].single_active_consumer", usage: "declare queues with a single active consumer"},
		{name: "initial-group-size", arg: "N", path: "queues[*].initial_group_size",
			usage: "replicas of quorum and stream queues (x-quorum-initial-group-size)"},
		{name: "leader-locator", arg: "L", path: "queues[*].leader_locator",
			usage: "where quorum and stream queues put their leader: client-local or balanced"},
	}
}
