package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Exit conditions of --exit-when.
const (
	ExitEmpty = "empty" // the consumed queues are empty
	ExitIdle  = "idle"  // nothing arrived for exit_idle
)

// Leader locators of quorum and stream queues.
const (
	LocatorClientLocal = "client-local"
	LocatorBalanced    = "balanced"
)

// Stream offsets that are words.
const (
	OffsetFirst = "first"
	OffsetLast  = "last"
	OffsetNext  = "next"
)

// Refuses reports whether the consumers refuse deliveries (nack or
// reject) rather than acknowledge them.
func (k Consumers) Refuses() bool { return k.Ack == AckNack || k.Ack == AckReject }

// streamAge is an x-stream-offset interval: a number and a unit (years,
// months, days, hours, minutes, seconds).
var streamAge = regexp.MustCompile(`^[0-9]+[YMDhms]$`)

// StreamOffsetValue is the x-stream-offset argument for the offset: a
// word, an offset (int64), a time (an AMQP timestamp) or an age string.
func StreamOffsetValue(offset string) (any, error) {
	switch offset {
	case "", OffsetNext:
		return OffsetNext, nil
	case OffsetFirst, OffsetLast:
		return offset, nil
	}
	if n, err := strconv.ParseInt(offset, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	if t, err := time.Parse(time.RFC3339, offset); err == nil {
		return t, nil
	}
	if streamAge.MatchString(offset) {
		return offset, nil
	}
	return nil, fmt.Errorf("must be first, last, next, an offset (0 or more), an RFC 3339 time or an age such as 10m or 1D")
}

func (s *Scenario) validateConsumerShapes(c *checker) {
	k := s.Consumers
	if k.Refuses() {
		c.check(k.RejectFraction >= 0 && k.RejectFraction <= 1, "consumers.reject_fraction", k.RejectFraction,
			"must be 0 to 1: the share of deliveries refused (0 = all)")
	} else {
		c.check(k.RejectFraction == 0 && !k.Requeue, "consumers.requeue", k.Requeue, "requeue and reject_fraction only apply to ack nack or reject")
	}
	c.check(k.Polling || k.PollingInterval == 0, "consumers.polling_interval", k.PollingInterval, "only applies to polling consumers")
	c.duration("consumers.polling_interval", k.PollingInterval, 0)
	c.check(!k.Polling || k.Ack != AckMultiple, "consumers.ack", k.Ack, "polling consumers ack each message (manual) or fetch with automatic acks")
	c.inRange("consumers.priority", int64(k.Priority), -MaxUint16, MaxUint16, "consumer priority, x-priority")
	c.table("consumers.arguments", k.Arguments)
	_, err := StreamOffsetValue(k.StreamOffset)
	c.check(err == nil, "consumers.stream_offset", k.StreamOffset, "%v", err)
	c.check(k.ExitWhen == "" || k.ExitWhen == ExitEmpty || k.ExitWhen == ExitIdle, "consumers.exit_when", k.ExitWhen, "must be empty or idle")
	c.check(k.ExitWhen == "" || k.Count > 0, "consumers.exit_when", k.ExitWhen, "needs consumers")
	c.check(k.ExitWhen == ExitIdle || k.ExitIdle == 0, "consumers.exit_idle", k.ExitIdle, "only applies to exit_when idle")
	c.duration("consumers.exit_idle", k.ExitIdle, 0)
	c.inRange("producers.priority", int64(s.Producers.Priority), 0, 255, "message priority, an octet")
	for i, q := range s.Queues {
		p := fmt.Sprintf("queues[%d]", i)
		c.inRange(p+".max_priority", int64(q.MaxPriority), 0, 255, "x-max-priority; RabbitMQ recommends at most 10")
		replicated := q.Type == QueueQuorum || q.Type == QueueStream
		c.check(q.InitialGroupSize == 0 || replicated, p+".initial_group_size", q.InitialGroupSize, "only applies to quorum and stream queues")
		c.inRange(p+".initial_group_size", int64(q.InitialGroupSize), 0, 255, "replicas of a quorum or stream queue")
		c.check(q.LeaderLocator == "" || (replicated && (q.LeaderLocator == LocatorClientLocal || q.LeaderLocator == LocatorBalanced)),
			p+".leader_locator", q.LeaderLocator, "must be client-local or balanced, on a quorum or stream queue")
		c.check(!q.SingleActiveConsumer || q.Type != QueueStream, p+".single_active_consumer", q.SingleActiveConsumer,
			"a stream's single active consumer needs the stream protocol, which mqbench does not speak")
		c.check(q.MaxPriority == 0 || q.Type == QueueClassic, p+".max_priority", q.MaxPriority, "only classic queues have priorities")
		if q.Type == QueueStream && k.Count > 0 {
			c.check(!k.Polling, "consumers.polling", k.Polling, "stream queues cannot be read with basic.get")
			c.check(!k.Refuses(), "consumers.ack", k.Ack, "stream consumers ack; a stream keeps every message, nack and reject mean nothing to it")
		}
	}
}
