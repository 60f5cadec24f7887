package main

import (
	"github.com/mqbench/mqbench/internal/scenario"
)

// consumerFlags holds the values of the consumer behaviour flags: start
// delay, rate cap, processing time distribution, crashes.
type consumerFlags struct {
	startDelay, delayMin, delayMax scenario.Duration
	rate, delaySigma               float64
	delayDistribution              string
	crashEvery                     int64
}

// addConsumerBehaviour registers the consumer behaviour flags.
func (f *flagSet) addConsumerBehaviour(add addFunc, str bindStr, num64 bindI64, dur bindDura, set setFunc) {
	v := &f.v.consumer
	fs := f.fs
	add("consumer-start-delay", "", "consumers.start_delay", dur(&v.startDelay, "consumers subscribe this long after the start (messages wait ready in the queues meanwhile)"), set(func(s *scenario.Scenario) { s.Consumers.StartDelay = v.startDelay }))
	add("consumer-rate", "", "consumers.rate", func(n string) {
		fs.Float64Var(&v.rate, n, 0, "most deliveries per second per consumer (0 = no cap)")
	}, set(func(s *scenario.Scenario) { s.Consumers.Rate = v.rate }))
	add("consumer-delay-distribution", "", "consumers.delay_distribution", str(&v.delayDistribution, "processing time per message: fixed (default), uniform, exponential or lognormal"), set(func(s *scenario.Scenario) { s.Consumers.DelayDistribution = v.delayDistribution }))
	add("consumer-delay-min", "", "consumers.delay_min", dur(&v.delayMin, "uniform processing time: the shortest"), set(func(s *scenario.Scenario) { s.Consumers.DelayMin = v.delayMin }))
	add("consumer-delay-max", "", "consumers.delay_max", dur(&v.delayMax, "uniform processing time: the longest"), set(func(s *scenario.Scenario) { s.Consumers.DelayMax = v.delayMax }))
	add("consumer-delay-sigma", "", "consumers.delay_sigma", func(n string) {
		fs.Float64Var(&v.delaySigma, n, 0, "lognormal processing time: the standard deviation of its logarithm (e.g. 0.5)")
	}, set(func(s *scenario.Scenario) { s.Consumers.DelaySigma = v.delaySigma }))
	add("consumer-crash-every", "", "consumers.crash_every", num64(&v.crashEvery, "each consumer crashes (closes its channel unacked, subscribes again) after every N deliveries"), set(func(s *scenario.Scenario) { s.Consumers.CrashEvery = v.crashEvery }))
}
