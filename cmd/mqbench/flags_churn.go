package main

// churnRunFlags are the churn flags; the scenario's churn section mirrors
// them.
func churnRunFlags() []runFlag {
	return []runFlag{
		{name: "connection-churn", arg: "R", path: "churn.connection_rate", usage: "connections opened and closed again per second"},
		{name: "channel-churn", arg: "R", path: "churn.channel_rate",
			usage: "channels opened and closed per second, on a connection of the churn's own"},
		{name: "queue-churn", arg: "R", path: "churn.queue_rate", usage: "queues declared, bound and deleted per second"},
		{name: "churn-concurrency", arg: "N", path: "churn.concurrency",
			usage: "churn operations of each kind under way at once (default 8, at most 50)"},
		{name: "churn-messages", arg: "N", path: "churn.messages",
			usage: "messages published and fetched back on each churned connection, channel or queue"},
	}
}
