package main

// consumerBehaviourFlags are the consumer behaviour flags: start delay,
// rate cap, processing time distribution, crashes.
func consumerBehaviourFlags() []runFlag {
	return []runFlag{
		{name: "consumer-start-delay", arg: "D", path: "consumers.start_delay",
			usage: "consumers subscribe this long after the start (messages wait ready in the queues meanwhile)"},
		{name: "consumer-rate", arg: "R", path: "consumers.rate", usage: "most deliveries per second per consumer (0 = no cap)"},
		{name: "consumer-delay-distribution", arg: "NAME", path: "consumers.delay_distribution",
			usage: "processing time per message: fixed (default), uniform, exponential or lognormal"},
		{name: "consumer-delay-min", arg: "D", path: "consumers.delay_min", usage: "uniform processing time: the shortest"},
		{name: "consumer-delay-max", arg: "D", path: "consumers.delay_max", usage: "uniform processing time: the longest"},
		{name: "consumer-delay-sigma", arg: "S", path: "consumers.delay_sigma",
			usage: "lognormal processing time: the standard deviation of its logarithm (e.g. 0.5)"},
		{name: "consumer-crash-every", arg: "N", path: "consumers.crash_every",
			usage: "each consumer crashes (closes its channel unacked, subscribes again) after every N deliveries"},
	}
}
