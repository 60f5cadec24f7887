package main

import (
	"github.com/mqbench/mqbench/internal/scenario"
)

// shapeFlags holds the values of the consumer, message and queue shape
// flags (PerfTest's --nack, --requeue, --polling, --exit-when and the like).
type shapeFlags struct {
	requeue, polling, sac                          bool
	rejectFraction                                 float64
	pollingInterval, exitIdle                      scenario.Duration
	consumerPriority, priority, maxPriority, group int
	streamOffset, exitWhen, leaderLocator          string
}

// addShapes registers the consumer, message and queue shape flags.
func (f *flagSet) addShapes(add addFunc, str bindStr, num bindInt, dur bindDura, set setFunc) {
	v := &f.v.shapes
	fs := f.fs
	boolean := func(p *bool, usage string) func(string) { return func(n string) { fs.BoolVar(p, n, false, usage) } }
	add("requeue", "", "consumers.requeue", boolean(&v.requeue, "with --ack nack or reject: put refused messages back in the queue"), set(func(s *scenario.Scenario) { s.Consumers.Requeue = v.requeue }))
	add("reject-fraction", "", "consumers.reject_fraction", func(n string) {
		fs.Float64Var(&v.rejectFraction, n, 0, "with --ack nack or reject: the share of deliveries refused, the rest acked (default all)")
	}, set(func(s *scenario.Scenario) { s.Consumers.RejectFraction = v.rejectFraction }))
	add("polling", "", "consumers.polling", boolean(&v.polling, "consumers fetch with basic.get instead of subscribing"), set(func(s *scenario.Scenario) { s.Consumers.Polling = v.polling }))
	add("polling-interval", "", "consumers.polling_interval", dur(&v.pollingInterval, "pause of a polling consumer that found its queue empty (default 10ms)"), set(func(s *scenario.Scenario) { s.Consumers.PollingInterval = v.pollingInterval }))
	add("consumer-priority", "", "consumers.priority", num(&v.consumerPriority, "consumer priority (x-priority)"), set(func(s *scenario.Scenario) { s.Consumers.Priority = v.consumerPriority }))
	add("stream-offset", "", "consumers.stream_offset", str(&v.streamOffset, "where stream consumers start: first, last, next (default), an offset, an RFC 3339 time or an age such as 10m"), set(func(s *scenario.Scenario) { s.Consumers.StreamOffset = v.streamOffset }))
	add("exit-when", "", "consumers.exit_when", str(&v.exitWhen, "stop when the consumed queues are empty, or idle: nothing arrived for --exit-idle"), set(func(s *scenario.Scenario) { s.Consumers.ExitWhen = v.exitWhen }))
	add("exit-idle", "", "consumers.exit_idle", dur(&v.exitIdle, "with --exit-when idle: how long nothing must arrive (default 2s)"), set(func(s *scenario.Scenario) { s.Consumers.ExitIdle = v.exitIdle }))
	add("priority", "", "producers.priority", num(&v.priority, "message priority 0–255 (queues need --max-priority)"), set(func(s *scenario.Scenario) { s.Producers.Priority = v.priority }))
	add("max-priority", "", "queues[*].max_priority", num(&v.maxPriority, "declare priority queues (x-max-priority, 1–255)"), allQueues(func(q *scenario.Queue) { q.MaxPriority = v.maxPriority }))
	add("single-active-consumer", "", "queues[*].single_active_consumer", boolean(&v.sac, "declare queues with a single active consumer"), allQueues(func(q *scenario.Queue) { q.SingleActiveConsumer = v.sac }))
	add("initial-group-size", "", "queues[*].initial_group_size", num(&v.group, "replicas of quorum and stream queues (x-quorum-initial-group-size)"), allQueues(func(q *scenario.Queue) { q.InitialGroupSize = v.group }))
	add("leader-locator", "", "queues[*].leader_locator", str(&v.leaderLocator, "where quorum and stream queues put their leader: client-local or balanced"), allQueues(func(q *scenario.Queue) { q.LeaderLocator = v.leaderLocator }))
}
