package scenario

import (
	"os"
	"time"

	"github.com/mqbench/mqbench/internal/pace"
)

// RPC reply modes.
const (
	ReplyExclusive = "exclusive" // one server-named exclusive callback queue per client
	ReplyDirect    = "direct"    // RabbitMQ's direct reply-to pseudo-queue
)

// Server work shapes.
const (
	WorkSleep     = "sleep"     // wait the delay, reply with reply_size bytes
	WorkFibonacci = "fibonacci" // the seeds' service: request n, reply fib(n)
)

// RPC describes request/reply clients and servers. Clients: 0 means no RPC.
type RPC struct {
	Clients           int     `yaml:"clients" json:"clients"`
	ClientConnections int     `yaml:"client_connections" json:"client_connections"` // 0 = one per client
	Concurrency       int     `yaml:"concurrency" json:"concurrency"`               // outstanding requests per client
	Rate              float64 `yaml:"rate" json:"rate"`                             // requests/s per client; 0 = closed loop
	TotalRate         float64 `yaml:"total_rate" json:"total_rate"`                 // requests/s over all clients, spread evenly
	// Schedule and StartJitter pace clients as they pace producers.
	Schedule      []RateStep `yaml:"schedule" json:"schedule,omitempty"`
	StartJitter   Duration   `yaml:"start_jitter" json:"start_jitter"`
	Requests      int64      `yaml:"requests" json:"requests"` // total over all clients; 0 = no limit
	Timeout       Duration   `yaml:"timeout" json:"timeout"`
	ReplyMode     string     `yaml:"reply_mode" json:"reply_mode"`
	ReplyAck      string     `yaml:"reply_ack" json:"reply_ack"`           // how clients ack replies: auto or manual
	ReplyPrefetch int        `yaml:"reply_prefetch" json:"reply_prefetch"` // basic.qos on the callback queue (manual reply acks)
	RequestSize   int        `yaml:"request_size" json:"request_size"`
	Body          string     `yaml:"body" json:"body,omitempty"` // file whose content is every request's body
	FibonacciN    int        `yaml:"fibonacci_n" json:"fibonacci_n,omitempty"`

	Servers           int    `yaml:"servers" json:"servers"`
	ServerConnections int    `yaml:"server_connections" json:"server_connections"` // 0 = one per server
	ServerConcurrency int    `yaml:"server_concurrency" json:"server_concurrency"` // requests each server handles at once
	ServerPrefetch    int    `yaml:"server_prefetch" json:"server_prefetch"`       // 0 = the server concurrency
	ServerDelay       Delay  `yaml:"server_delay" json:"server_delay"`
	ServerWork        string `yaml:"server_work" json:"server_work"`
	ReplySize         int    `yaml:"reply_size" json:"reply_size"`

	Queue string `yaml:"queue" json:"queue"` // request queue; created unless it exists
}

// Enabled reports whether the scenario has RPC clients or servers.
func (r RPC) Enabled() bool { return r.Clients > 0 || r.Servers > 0 }

// PaceSchedule is each client's request schedule, or nil for a closed loop.
func (r RPC) PaceSchedule() *pace.Schedule {
	return paceSchedule(r.Rate, r.TotalRate, r.Clients, r.Schedule)
}

func defaultRPC() RPC {
	return RPC{
		Concurrency: 1, Timeout: Duration(5 * time.Second), ReplyMode: ReplyExclusive, ReplyAck: AckAuto,
		RequestSize: 12, ServerConcurrency: 1, ServerWork: WorkSleep, ReplySize: 12,
		ServerDelay: Delay{Distribution: DelayFixed}, Queue: "mqbench-rpc", FibonacciN: 20,
	}
}

func (s *Scenario) validateRPC(c *checker) {
	r := s.RPC
	if !r.Enabled() {
		return
	}
	c.workers("RPC clients", "rpc.clients", "rpc.client_connections", r.Clients, r.ClientConnections)
	c.workers("RPC servers", "rpc.servers", "rpc.server_connections", r.Servers, r.ServerConnections)
	c.check(r.Concurrency >= 1 && r.Concurrency <= MaxUint16, "rpc.concurrency", r.Concurrency, "must be 1 to 65535 outstanding requests per client")
	validatePacing(c, "rpc", r.Rate, r.TotalRate, r.Schedule, r.StartJitter)
	c.inRange("rpc.requests", r.Requests, 0, int64(max(r.Clients, 1))*MaxMessagesPerWorker, "0 = no limit")
	c.check(r.Requests == 0 || r.Clients > 0, "rpc.requests", r.Requests, "there are no RPC clients to send them: the run could never stop by this count")
	c.duration("rpc.timeout", r.Timeout, time.Millisecond)
	c.check(r.ReplyMode == ReplyExclusive || r.ReplyMode == ReplyDirect, "rpc.reply_mode", r.ReplyMode, "must be exclusive or direct")
	c.check(r.ReplyAck == AckAuto || r.ReplyAck == AckManual, "rpc.reply_ack", r.ReplyAck, "must be auto or manual")
	if r.ReplyMode == ReplyDirect {
		c.check(r.ReplyAck == AckAuto, "rpc.reply_mode", r.ReplyMode,
			"direct reply-to delivers replies without acknowledgement; it cannot honour reply_ack %s", r.ReplyAck)
		c.check(r.ReplyPrefetch == 0, "rpc.reply_mode", r.ReplyMode,
			"direct reply-to has no queue to apply a prefetch to; it cannot honour reply_prefetch %d", r.ReplyPrefetch)
	}
	c.check(r.ReplyPrefetch >= 0 && r.ReplyPrefetch <= 65535, "rpc.reply_prefetch", r.ReplyPrefetch, "must be 0 to 65535")
	c.inRange("rpc.request_size", int64(r.RequestSize), 1, MaxMessageSize, "bytes; the broker's largest message")
	c.inRange("rpc.reply_size", int64(r.ReplySize), 1, MaxMessageSize, "bytes; the broker's largest message")
	if r.Body != "" {
		fi, err := os.Stat(r.Body)
		c.check(err == nil, "rpc.body", r.Body, "cannot read the request body file: %v", err)
		c.check(err != nil || fi.Size() <= MaxMessageSize, "rpc.body", r.Body, "the file is larger than the broker's largest message (%d bytes)", MaxMessageSize)
	}
	c.inRange("rpc.server_concurrency", int64(r.ServerConcurrency), 1, MaxUint16, "requests at once; the prefetch is 16-bit")
	c.check(r.ServerPrefetch >= 0 && r.ServerPrefetch <= 65535, "rpc.server_prefetch", r.ServerPrefetch, "must be 0 (= the server concurrency) to 65535")
	c.check(r.ServerWork == WorkSleep || r.ServerWork == WorkFibonacci, "rpc.server_work", r.ServerWork, "must be sleep or fibonacci")
	c.check(r.FibonacciN >= 0 && r.FibonacciN <= 90, "rpc.fibonacci_n", r.FibonacciN, "must be 0 to 90")
	c.check(r.Queue != "", "rpc.queue", `""`, "the request queue needs a name")
	c.delay(r.ServerDelay, rpcDelayPaths)
}
