// Package mgmt samples the broker's side of a run from the RabbitMQ
// management HTTP API: each node's memory, Erlang processes, file
// descriptors and alarms, and the broker's queue depth, message rates and
// connection count.
package mgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mqbench/mqbench/internal/result"
)

// Client reads the management API at one base URL.
type Client struct {
	base       string // scheme://host:port/path, no credentials
	user, pass string
	http       *http.Client
}

// New parses the management URL (http(s)://user:password@host:port/);
// without credentials in it, user and pass (the AMQP URL's) are used.
func New(raw, user, pass string) (*Client, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--management-url: want http(s)://[user:password@]host:port/")
	}
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	u.User = nil
	base := strings.TrimSuffix(u.String(), "/")
	return &Client{base: base, user: user, pass: pass, http: &http.Client{Timeout: 5 * time.Second}}, nil
}

// get decodes one API document.
func (c *Client) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.user, c.pass)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("management API %s: %v", path, redact(err, c.pass))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("management API %s: %s", path, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(into)
}

func redact(err error, secret string) string {
	s := err.Error()
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "xxxxx")
	}
	return s
}

// overview is what /api/overview says that a benchmark needs.
type overview struct {
	QueueTotals struct {
		Messages        int64 `json:"messages"`
		MessagesReady   int64 `json:"messages_ready"`
		MessagesUnacked int64 `json:"messages_unacknowledged"`
	} `json:"queue_totals"`
	ObjectTotals struct {
		Connections int64 `json:"connections"`
		Channels    int64 `json:"channels"`
		Queues      int64 `json:"queues"`
	} `json:"object_totals"`
	MessageStats struct {
		Publish          rate `json:"publish_details"`
		DeliverGet       rate `json:"deliver_get_details"`
		Confirm          rate `json:"confirm_details"`
		Ack              rate `json:"ack_details"`
		ReturnUnroutable rate `json:"return_unroutable_details"`
	} `json:"message_stats"`
}

type rate struct {
	Rate float64 `json:"rate"`
}

// node is what /api/nodes says of one node.
type node struct {
	Name          string `json:"name"`
	Running       bool   `json:"running"`
	MemUsed       int64  `json:"mem_used"`
	MemLimit      int64  `json:"mem_limit"`
	MemAlarm      bool   `json:"mem_alarm"`
	DiskFreeAlarm bool   `json:"disk_free_alarm"`
	DiskFree      int64  `json:"disk_free"`
	ProcUsed      int64  `json:"proc_used"`
	FDUsed        int64  `json:"fd_used"`
	SocketsUsed   int64  `json:"sockets_used"`
}

// Sample reads the broker's state now.
func (c *Client) Sample(ctx context.Context) (result.BrokerSample, error) {
	var o overview
	var nodes []node
	if err := c.get(ctx, "/api/overview", &o); err != nil {
		return result.BrokerSample{}, err
	}
	if err := c.get(ctx, "/api/nodes", &nodes); err != nil {
		return result.BrokerSample{}, err
	}
	s := result.BrokerSample{
		MessagesReady: o.QueueTotals.MessagesReady, MessagesUnacked: o.QueueTotals.MessagesUnacked,
		Connections: o.ObjectTotals.Connections, Channels: o.ObjectTotals.Channels, Queues: o.ObjectTotals.Queues,
		PublishRate: o.MessageStats.Publish.Rate, DeliverRate: o.MessageStats.DeliverGet.Rate,
		ConfirmRate: o.MessageStats.Confirm.Rate, AckRate: o.MessageStats.Ack.Rate,
	}
	for _, n := range nodes {
		bn := result.BrokerNode{Name: n.Name, Running: n.Running, MemoryBytes: n.MemUsed, MemoryLimitBytes: n.MemLimit,
			ErlangProcesses: n.ProcUsed, FileDescriptors: n.FDUsed, Sockets: n.SocketsUsed, DiskFreeBytes: n.DiskFree}
		if n.MemAlarm {
			bn.Alarms = append(bn.Alarms, "memory")
		}
		if n.DiskFreeAlarm {
			bn.Alarms = append(bn.Alarms, "disk")
		}
		s.MemoryBytes += n.MemUsed
		s.Nodes = append(s.Nodes, bn)
	}
	return s, nil
}

// Placement is where a queue lives: for quorum queues and streams, the
// node of its leader and its members; for classic queues, its node.
type Placement struct {
	Leader  string
	Members []string
}

// Placement reads where queue name of vhost lives.
func (c *Client) Placement(ctx context.Context, vhost, name string) (Placement, error) {
	var q struct {
		Node    string   `json:"node"`
		Leader  string   `json:"leader"`
		Members []string `json:"members"`
	}
	if err := c.get(ctx, "/api/queues/"+url.PathEscape(vhost)+"/"+url.PathEscape(name), &q); err != nil {
		return Placement{}, err
	}
	p := Placement{Leader: q.Leader, Members: q.Members}
	if p.Leader == "" {
		p.Leader = q.Node
	}
	return p, nil
}
