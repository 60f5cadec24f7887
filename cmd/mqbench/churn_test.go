package main

import (
	"testing"
)

// TestChurnFlagBounds: each churn flag out of its range is refused before
// anything runs (exit 2), naming the flag, the value and the range.
func TestChurnFlagBounds(t *testing.T) {
	cases := []usageCase{
		{[]string{"--connection-churn", "-1"}, []string{"--connection-churn = -1", "0.001 to 10000 per second"}},
		{[]string{"--channel-churn", "NaN"}, []string{"--channel-churn = NaN"}},
		{[]string{"--queue-churn", "1e6"}, []string{"--queue-churn = 1e+06", "0.001 to 10000"}},
		{[]string{"--connection-churn", "50", "--churn-concurrency", "500"}, []string{"--churn-concurrency = 500", "1 to 50", "file descriptor"}},
		{[]string{"--channel-churn", "5", "--churn-messages", "5000"}, []string{"--churn-messages = 5000", "0 to 1000"}},
		{[]string{"--churn-messages", "3"}, []string{"--churn-messages = 3", "no churn rate is set", "--connection-churn"}},
	}
	for i := range cases {
		cases[i].args = append([]string{"run"}, cases[i].args...)
	}
	expectUsageErrors(t, cases)
}
