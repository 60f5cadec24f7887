package main

import (
	"github.com/mqbench/mqbench/internal/scenario"
)

// churnFlags holds the values of the churn flags.
type churnFlags struct {
	connections, channels, queues float64
	concurrency, messages         int
}

// addChurn registers the churn flags; the scenario's churn section
// mirrors them.
func (f *flagSet) addChurn(add addFunc, num bindInt, set setFunc) {
	v := &f.v.churn
	fs := f.fs
	rate := func(p *float64, usage string) func(string) { return func(n string) { fs.Float64Var(p, n, 0, usage) } }
	add("connection-churn", "", "churn.connection_rate", rate(&v.connections, "connections opened and closed again per second"), set(func(s *scenario.Scenario) { s.Churn.ConnectionRate = v.connections }))
	add("channel-churn", "", "churn.channel_rate", rate(&v.channels, "channels opened and closed per second, on a connection of the churn's own"), set(func(s *scenario.Scenario) { s.Churn.ChannelRate = v.channels }))
	add("queue-churn", "", "churn.queue_rate", rate(&v.queues, "queues declared, bound and deleted per second"), set(func(s *scenario.Scenario) { s.Churn.QueueRate = v.queues }))
	add("churn-concurrency", "", "churn.concurrency", num(&v.concurrency, "churn operations of each kind under way at once (default 8, at most 50)"), set(func(s *scenario.Scenario) { s.Churn.Concurrency = v.concurrency }))
	add("churn-messages", "", "churn.messages", num(&v.messages, "messages published and fetched back on each churned connection, channel or queue"), set(func(s *scenario.Scenario) { s.Churn.Messages = v.messages }))
}
