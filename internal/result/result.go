// Package result defines mqbench's result document, mqbench.result/v1: the
// JSON contract CI pipelines read, and how it is saved and loaded. The
// engine builds it, in one place, from what the timeline and the workload
// return; the report package renders it.
package result

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Schema identifies the version of the result document.
const Schema = "mqbench.result/v1"

// Stop reasons.
const (
	StopDuration     = "duration"
	StopMessageCount = "message-count"
	StopInterrupted  = "interrupted"
	StopError        = "error"
	StopQueuesEmpty  = "queues-empty" // --exit-when empty
	StopIdle         = "idle"         // --exit-when idle
)

// Stop details: what more a result says about how it stopped.
const (
	// StopDetailSecondSignal: a second SIGINT or SIGTERM arrived before
	// the result was built, so the drain was skipped (or cut short) and
	// the clean-up bounded; the measured window is whole, the totals and
	// the audit miss what was still in flight.
	StopDetailSecondSignal = "second-signal"
)

// Result is one run's self-describing result. Latencies are microseconds,
// rates per second, times RFC 3339. A measure that does not apply to the run
// is null.
type Result struct {
	Schema    string            `json:"schema"`
	Tool      Tool              `json:"tool"`
	Scenario  scenario.Scenario `json:"scenario"`
	Broker    Broker            `json:"broker"`
	StartedAt time.Time         `json:"started_at"`
	EndedAt   time.Time         `json:"ended_at"`
	// MeasuredS is the load's window: from the end of the warm-up to the
	// moment the run decided to stop (its duration, message count or
	// signal). Rates are over it; the drain after it is in Drain.
	MeasuredS  float64 `json:"measured_s"`
	StopReason string  `json:"stop_reason"`
	// StopDetail adds to StopReason without changing it (empty, or
	// StopDetailSecondSignal).
	StopDetail string `json:"stop_detail,omitempty"`
	// Drain is what happened after the load stopped: how long the
	// consumers took to empty the queues, and how much they consumed.
	Drain   *Drain  `json:"drain,omitempty"`
	Error   string  `json:"error,omitempty"`
	Totals  Totals  `json:"totals"`
	Rates   Rates   `json:"rates"`
	Latency Latency `json:"latency"`
	Client  Client  `json:"client"`
	Queues  []Queue `json:"queues"`
	// Connections are every connection the run opened and its node.
	Connections []Connection `json:"connections"`
	Intervals   []Interval   `json:"intervals"`
	Faults      Faults       `json:"faults"`
	// Audit accounts for every message (null when bodies are too small for
	// the audit stamp, or nothing was consumed).
	Audit *Audit `json:"audit"`
	// Phases are the figures of each phase of a phased run that began
	// (absent without phases).
	Phases []Phase `json:"phases,omitempty"`
	// Kinds holds, by kind of worker, the figures of kinds that report
	// their own (absent when the run has none).
	Kinds map[string]*KindFigures `json:"kinds,omitempty"`
	// Warnings say when a figure may not mean what it seems: the client was
	// the bottleneck, the backlog grew, the broker blocked publishers.
	Warnings []string `json:"warnings"`
	// Start is set when the run waited for --start-at; Shard when it was
	// one shard of a sharded run; Merged when mqbench merge made it from
	// the shards' results.
	Start  *Start  `json:"start,omitempty"`
	Shard  *Shard  `json:"shard,omitempty"`
	Merged *Merged `json:"merged,omitempty"`
}

// Start is when the workers were due (--start-at) and how late they were
// released: a shard that was not ready in time (it started after the
// time, or the others kept it waiting) starts late, and its window is
// shifted against the others'.
type Start struct {
	At    time.Time `json:"at"`
	LateS float64   `json:"late_s"`
}

// Shard is this result's place in a sharded run.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// RunID is the run identity every shard stamps into its messages
	// (hexadecimal): the same in every shard of one run.
	RunID string `json:"run_id"`
}

// Audit is the delivery audit: per queue and in total, every message
// routed to a queue is consumed, lost (confirmed, never consumed) or
// unconfirmed; duplicates, redeliveries and out-of-order deliveries are
// counted apart. It covers the whole run, warm-up included.
type Audit struct {
	Total    audit.Queue   `json:"total"`
	Queues   []audit.Queue `json:"queues"`
	Balanced bool          `json:"balanced"`
	Note     string        `json:"note,omitempty"`
	// MemoryBytes is what the audit's bitsets took (1 bit per message per
	// producer, and per consumer that received it).
	MemoryBytes int64 `json:"memory_bytes"`
	// State is, in a shard's result, everything the audit needs from this
	// shard: mqbench merge merges the shards' states and reconciles the
	// whole run exactly. Partial marks the audit of one shard of several,
	// whose figures above are empty: only the merge can reconcile it.
	State   *audit.State `json:"state,omitempty"`
	Partial bool         `json:"partial,omitempty"`
}

// Connection is one of the run's connections and the node it ended on
// (host:port; after reconnects, the last node it reached).
type Connection struct {
	Name string `json:"name"`
	Node string `json:"node"`
	// FirstNode is the node the connection was first opened on, as the
	// connection allocation placed it.
	FirstNode  string `json:"first_node"`
	Reconnects int    `json:"reconnects"`
}

// Faults records what went wrong on the broker's side during the run.
type Faults struct {
	// Reconnects counts connections re-established after being lost.
	Reconnects int `json:"reconnects"`
	// Outages lists the times a connection was lost until it was back.
	Outages []Outage `json:"outages"`
	// Blocked lists the times the broker blocked a connection
	// (connection.blocked, from a memory or disk alarm) until it unblocked
	// it; End is null when the run ended while blocked.
	Blocked []Blocked `json:"blocked"`
}

// Outage is one lost connection, from the moment a worker noticed to the
// moment it was re-established (End null: it never was).
type Outage struct {
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end"`
	What  string     `json:"what"`
}

// Blocked is one connection.blocked … connection.unblocked interval.
type Blocked struct {
	Connection string     `json:"connection"`
	Reason     string     `json:"reason"`
	Start      time.Time  `json:"start"`
	End        *time.Time `json:"end"`
}

// Header is what describes a run before it starts: the tool, the resolved
// scenario (password masked) and the broker.
type Header struct {
	Tool     Tool
	Scenario scenario.Scenario
	Broker   Broker
	Start    *Start
	Shard    *Shard
}

// Tool names the program that produced the result.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Broker is what the broker said about itself when mqbench connected, and
// with --management-url the peaks of what its management API reported.
type Broker struct {
	URL        string       `json:"url"` // password masked
	Product    string       `json:"product"`
	Version    string       `json:"version"`
	Management *BrokerPeaks `json:"management,omitempty"`
}

// BrokerPeaks are the highest figures the management API reported over
// the run's intervals (summed over nodes), and every alarm seen.
type BrokerPeaks struct {
	Samples             int      `json:"samples"`
	MemoryPeakBytes     int64    `json:"memory_peak_bytes"`
	ErlangProcessesPeak int64    `json:"erlang_processes_peak"`
	FileDescriptorsPeak int64    `json:"file_descriptors_peak"`
	ConnectionsPeak     int64    `json:"connections_peak"`
	MessagesReadyPeak   int64    `json:"messages_ready_peak"`
	Alarms              []string `json:"alarms"`
}

// BrokerSample is the management API's view at the end of an interval:
// totals over the cluster and each node.
type BrokerSample struct {
	MemoryBytes     int64        `json:"memory_bytes"`
	MessagesReady   int64        `json:"messages_ready"`
	MessagesUnacked int64        `json:"messages_unacked"`
	Connections     int64        `json:"connections"`
	Channels        int64        `json:"channels"`
	Queues          int64        `json:"queues"`
	PublishRate     float64      `json:"publish_rate"` // the broker's own rates, messages per second
	DeliverRate     float64      `json:"deliver_rate"`
	ConfirmRate     float64      `json:"confirm_rate"`
	AckRate         float64      `json:"ack_rate"`
	Nodes           []BrokerNode `json:"nodes"`
}

// BrokerNode is one node's state.
type BrokerNode struct {
	Name             string   `json:"name"`
	Running          bool     `json:"running"`
	MemoryBytes      int64    `json:"memory_bytes"`
	MemoryLimitBytes int64    `json:"memory_limit_bytes"`
	ErlangProcesses  int64    `json:"erlang_processes"`
	FileDescriptors  int64    `json:"file_descriptors"`
	Sockets          int64    `json:"sockets"`
	DiskFreeBytes    int64    `json:"disk_free_bytes"`
	Alarms           []string `json:"alarms,omitempty"`
}

// Totals count events from the end of warm-up to the end of the run,
// including what the final drain consumed.
type Totals struct {
	Published int64  `json:"published"`
	Confirmed *int64 `json:"confirmed"` // null without publisher confirms
	Nacked    *int64 `json:"nacked"`    // null without publisher confirms
	// Unconfirmed is published − confirmed − nacked: publishes the broker
	// never answered (in flight when the run or a connection ended).
	Unconfirmed *int64 `json:"unconfirmed"`
	Returned    *int64 `json:"returned"` // null without the mandatory flag
	Consumed    *int64 `json:"consumed"` // null without consumers
	// Foreign counts deliveries that were not this run's: an earlier
	// run's messages still in a reused queue, another tool's. They were
	// consumed and acked, and are in no other figure. Null when the run
	// cannot tell (no consumers, or bodies too small for the run stamp).
	Foreign *int64 `json:"foreign"`
	// Unstamped counts deliveries whose send time could not be read (too
	// short, or not a plausible time: another tool's private clock); they
	// are not in the latency. MillisecondStamps counts deliveries stamped
	// in milliseconds since the epoch (omq without consumers, PerfTest
	// --use-millis), measured at that resolution. Null without consumers.
	Unstamped         *int64 `json:"unstamped"`
	MillisecondStamps *int64 `json:"millisecond_stamps"`
	// Refused counts deliveries the consumers refused (ack nack or
	// reject); they are not in consumed. Null unless the consumers refuse.
	Refused *int64 `json:"refused"`
	// MaxUnacked is the largest number of deliveries any one consumer held
	// unacknowledged at once (null with automatic acks).
	MaxUnacked *int64 `json:"max_unacked"`

	// RPC figures (null without RPC clients). Replies are matched replies
	// only; late, duplicate and unmatched replies are counted apart and never
	// enter the latency.
	RPCRequests   *int64 `json:"rpc_requests"`
	RPCReplies    *int64 `json:"rpc_replies"`
	RPCTimeouts   *int64 `json:"rpc_timeouts"`
	RPCUnmatched  *int64 `json:"rpc_unmatched"`
	RPCLate       *int64 `json:"rpc_late"`
	RPCDuplicates *int64 `json:"rpc_duplicates"`
	RPCServed     *int64 `json:"rpc_served"` // null without mqbench's own RPC servers
}

// Rates are per second. Publishing (and confirms, and RPC requests and
// replies) over the load's window, measured_s; consumption over the
// window plus the part of the drain in which the consumers were still
// consuming (ConsumedOverS): consumers that fell behind go on consuming
// the load after it stopped, and their rate is what they consumed over
// the time they took.
type Rates struct {
	PublishedPerS float64  `json:"published_per_s"`
	ConfirmedPerS *float64 `json:"confirmed_per_s"`
	ConsumedPerS  *float64 `json:"consumed_per_s"`
	// ConsumedOverS is the time consumed_per_s is over.
	ConsumedOverS *float64 `json:"consumed_over_s"`
	// RPC rates (null without RPC clients).
	RPCRequestsPerS *float64 `json:"rpc_requests_per_s"`
	RPCRepliesPerS  *float64 `json:"rpc_replies_per_s"`
}

// Latency holds every latency distribution, indexed by metrics.Kind; each
// covers the messages sent in the measured window, including those
// consumed during the drain. Its JSON is an object keyed by each kind's
// name (metrics.KindInfo.Key), in kind order, null where a kind does not
// apply to the run:
//
//   - end_to_end: receive time minus send time; for paced producers the
//     send time is when the message was due on its schedule, so stalls that
//     delayed sending count (coordinated omission);
//   - end_to_end_actual (paced runs only): measured from the actual send;
//   - send_lag (paced runs only): actual send time minus scheduled time;
//   - confirm: publisher confirm arrival minus publish time;
//   - rpc: the round trip, reply arrival minus the request's (under a rate,
//     intended) send time;
//   - rpc_server: mqbench's RPC servers, request delivery to reply published.
type Latency [metrics.NumKinds]*metrics.Summary

// MarshalJSON writes the kinds in order, by name.
func (l Latency) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for k, s := range l {
		if k > 0 {
			b = append(b, ',')
		}
		key, _ := json.Marshal(metrics.Kind(k).String())
		v, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, key...), ':'), v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads kinds by name; names it does not know (written by a
// later version) are ignored.
func (l *Latency) UnmarshalJSON(b []byte) error {
	var m map[string]*metrics.Summary
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	*l = Latency{}
	for _, k := range metrics.Kinds() {
		l[k] = m[k.String()]
	}
	return nil
}

// Client is what running mqbench cost.
type Client struct {
	CPUS           float64 `json:"cpu_s"`       // user+system CPU seconds over the measured window
	CPUTotalS      float64 `json:"cpu_total_s"` // over the whole process lifetime up to the result
	Cores          float64 `json:"cores"`       // cpu_s / measured_s: cores the client kept busy
	CoresAvailable int     `json:"cores_available"`
	// Host is the machine mqbench ran on (its hostname): the shards of a
	// sharded run on one machine share its cores.
	Host        string `json:"host,omitempty"`
	MaxRSSBytes int64  `json:"max_rss_bytes"`
	// CollectMeanUs and CollectMaxUs are the CPU time that merging the
	// workers' histograms and counters cost per interval (thread CPU time
	// on Linux, so time spent waiting for a core is not counted).
	CollectMeanUs float64 `json:"collect_mean_us"`
	CollectMaxUs  float64 `json:"collect_max_us"`
}

// Queue is one queue's share of the run.
type Queue struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Consumers int    `json:"consumers"`
	Consumed  int64  `json:"consumed"`
	// Depth is the number of ready messages left after the drain (null when
	// it could not be read).
	Depth *int64 `json:"depth_end"`
	// RPC marks the RPC request queue; its consumers are RPC servers.
	RPC bool `json:"rpc,omitempty"`
	// LeaderLocator is, for quorum queues and streams, the strategy that
	// placed the leader: the x-queue-leader-locator the queue was declared
	// with, or "broker default" (its queue_leader_locator setting).
	LeaderLocator string `json:"leader_locator,omitempty"`
	// Leader and Members are where the queue lived at the end (its
	// leader's node and its replicas' nodes; a classic queue's node as
	// leader), read from the management API with --management-url.
	Leader  string   `json:"leader,omitempty"`
	Members []string `json:"members,omitempty"`
}

// Interval is one live-progress interval: counts are events within it.
type Interval struct {
	TS           float64 `json:"t_s"` // seconds since the start signal, at the end of the interval
	Warmup       bool    `json:"warmup,omitempty"`
	Published    int64   `json:"published"`
	Confirmed    int64   `json:"confirmed"`
	Consumed     int64   `json:"consumed"`
	Returned     int64   `json:"returned"`
	Nacked       int64   `json:"nacked"`
	E2EP50Us     *int64  `json:"e2e_p50_us"`
	E2EP99Us     *int64  `json:"e2e_p99_us"`
	ConfirmP99Us *int64  `json:"confirm_p99_us"`
	// Backlog is what waited to be consumed at the end of the interval:
	// BacklogParts' total (ready + delivered unprocessed + stream lag);
	// null when it could not be read.
	Backlog      *int64   `json:"backlog"`
	BacklogParts *Backlog `json:"backlog_parts,omitempty"`
	// Drain marks an interval after the load stopped (the drain).
	Drain bool `json:"drain,omitempty"`
	// Phase is the phase of a phased run the interval belongs to (every
	// phase boundary ends an interval); empty in the drain.
	Phase string `json:"phase,omitempty"`
	// RPC figures, null without RPC clients.
	RPCRequests *int64 `json:"rpc_requests,omitempty"`
	RPCReplies  *int64 `json:"rpc_replies"`
	RPCTimeouts *int64 `json:"rpc_timeouts"`
	RPCP50Us    *int64 `json:"rpc_p50_us"`
	RPCP99Us    *int64 `json:"rpc_p99_us"`
	// Seconds is the interval's actual length, for rates.
	Seconds float64 `json:"seconds"`
	// CPUCores is the client's CPU use over the interval, in cores.
	CPUCores float64 `json:"cpu_cores"`
	// Blocked is the number of connections the broker held blocked at the
	// end of the interval.
	Blocked int `json:"blocked_connections"`
	// Disconnected is the number of workers waiting for a lost connection
	// to come back at the end of the interval.
	Disconnected int `json:"disconnected_workers"`
	// Broker is the management API's latest sample (--management-url).
	Broker *BrokerSample `json:"broker,omitempty"`
	// HDR holds, in the results of a sharded run's shards, the interval's
	// latency histograms by kind (end_to_end, confirm, rpc; HdrHistogram
	// V2 compressed, base64), so that merged intervals have exact
	// percentiles.
	HDR map[string]string `json:"hdr,omitempty"`
}

// ClientBoundShare is the share of its cores above which the client itself
// may have been the bottleneck.
const ClientBoundShare = 0.75

// ClientBound reports whether the client used most of the cores it had.
func ClientBound(cores float64, available int) bool {
	return available > 0 && cores >= ClientBoundShare*float64(available)
}

// Round3 rounds f to three decimals (half away from zero), as results
// print rates, seconds and cores.
func Round3(f float64) float64 { return math.Round(f*1000) / 1000 }
