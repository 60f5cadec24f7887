package htmlreport

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/report"
	"github.com/mqbench/mqbench/internal/scenario"
)

// writeScenario writes the main fields of the scenario as a compact table
// and the whole resolved scenario (password already masked) as JSON in a
// collapsed <details>.
func writeScenario(m *chart.Markup, sc scenario.Scenario) {
	m.El("h3", "Scenario")
	pairs(m, scenarioRows(sc))
	m.Open("details")
	m.El("summary", "The full resolved scenario (JSON)")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the markup writer escapes it; \u003c would only hurt reading
	enc.SetIndent("", "  ")
	if err := enc.Encode(sc); err != nil {
		b.Reset()
		b.WriteString("cannot encode the scenario: " + err.Error())
	}
	m.El("pre", b.String())
	m.Close("details")
}

// scenarioRows are the scenario's main fields in words.
func scenarioRows(sc scenario.Scenario) [][2]string {
	rows := [][2]string{{"name", sc.Name}, {"broker", sc.URL}, {"timing", timing(sc)}}
	if sc.TLS.Set() {
		tls := "server name " + orDash(sc.TLS.ServerName) + ", CA " + orDash(sc.TLS.CA)
		if sc.TLS.Insecure {
			tls += ", certificate NOT verified (insecure)"
		}
		rows = append(rows, [2]string{"tls", tls})
	}
	if sc.Producers.Count > 0 {
		rows = append(rows, [2]string{"producers", producers(sc.Producers)})
	}
	if sc.Consumers.Count > 0 {
		rows = append(rows, [2]string{"consumers", consumers(sc.Consumers)})
	}
	ex := "the default exchange"
	if sc.Exchange.Name != "" {
		ex = sc.Exchange.Name + " (" + sc.Exchange.Type + flags(prop{sc.Exchange.Durable, "durable"}, prop{sc.Exchange.AutoDelete, "auto-delete"}) + ")"
	}
	rows = append(rows, [2]string{"exchange", ex})
	for _, q := range sc.Queues {
		rows = append(rows, [2]string{"queue", queue(q)})
	}
	if sc.RPC.Enabled() {
		rows = append(rows, [2]string{"rpc", rpc(sc.RPC)})
	}
	return rows
}

func timing(sc scenario.Scenario) string {
	s := "duration " + dur(sc.Duration) + ", warm-up " + dur(sc.Warmup) + ", interval " + dur(sc.Interval) +
		", drain timeout " + dur(sc.DrainTimeout)
	if sc.NoReconnect {
		return s + ", no reconnect"
	}
	return s + ", reconnect for up to " + dur(sc.ReconnectTimeout)
}

func dur(d scenario.Duration) string {
	if d == 0 {
		return "0 (none)"
	}
	return d.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// prop is a named boolean property (durable, persistent …).
type prop struct {
	on   bool
	name string
}

// flags lists the names of the properties that are on, after ", ".
func flags(fs ...prop) string {
	var out []string
	for _, f := range fs {
		if f.on {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return ", " + strings.Join(out, ", ")
}

func producers(p scenario.Producers) string {
	s := strconv.Itoa(p.Count) + " on " + conns(p.Connections, p.Count)
	switch {
	case len(p.Schedule) > 0:
		s += ", rate schedule of " + strconv.Itoa(len(p.Schedule)) + " steps"
	case p.TotalRate > 0:
		s += ", " + report.Rate(p.TotalRate) + " msg/s in total"
	case p.Rate > 0:
		s += ", " + report.Rate(p.Rate) + " msg/s each"
	default:
		s += ", unlimited rate"
	}
	switch {
	case p.UserBody():
		s += ", bodies from " + p.Body.Path
	case p.SizeDistribution != nil:
		s += ", " + p.SizeDistribution.Type + " body sizes"
	default:
		s += ", " + strconv.Itoa(p.Size) + "-byte bodies"
	}
	if p.Confirm > 0 {
		s += ", confirm window " + strconv.Itoa(p.Confirm)
	}
	if p.Messages > 0 {
		s += ", stop after " + report.Count(p.Messages) + " messages"
	}
	if len(p.RoutingKeys) > 0 {
		s += ", routing keys " + strings.Join(p.RoutingKeys, " ")
	}
	return s + flags(prop{p.Persistent, "persistent"}, prop{p.Mandatory, "mandatory"})
}

func conns(n, workers int) string {
	if n == 0 || n == workers {
		return "a connection each"
	}
	return strconv.Itoa(n) + " connections"
}

func consumers(c scenario.Consumers) string {
	s := strconv.Itoa(c.Count) + " on " + conns(c.Connections, c.Count) + ", ack " + c.Ack
	if c.Ack == scenario.AckMultiple {
		s += " every " + strconv.Itoa(c.MultiAckEvery)
	}
	s += ", prefetch " + strconv.Itoa(c.Prefetch)
	if c.Prefetch == 0 {
		s += " (unlimited)"
	}
	if d := c.ProcessingDelay(); d.Varies() {
		s += ", " + delay(d) + " per message"
	}
	if c.Rate > 0 {
		s += ", at most " + strconv.FormatFloat(c.Rate, 'g', -1, 64) + "/s each"
	}
	if c.StartDelay > 0 {
		s += ", subscribing after " + c.StartDelay.String()
	}
	if c.CrashEvery > 0 {
		s += ", crashing every " + report.Count(c.CrashEvery) + " deliveries"
	}
	if c.Messages > 0 {
		s += ", stop after " + report.Count(c.Messages) + " messages"
	}
	return s
}

func queue(q scenario.Queue) string {
	name := q.Name
	if name == "" {
		name = "(server-named)"
	}
	if q.Count > 1 {
		name += " × " + strconv.Itoa(q.Count)
	}
	s := name + ", " + q.Type + flags(prop{q.Durable, "durable"}, prop{q.Exclusive, "exclusive"}, prop{q.AutoDelete, "auto-delete"})
	if len(q.Arguments) > 0 {
		args, _ := json.Marshal(q.Arguments) // maps marshal with sorted keys: deterministic
		s += ", arguments " + string(args)
	}
	return s
}

func rpc(r scenario.RPC) string {
	s := strconv.Itoa(r.Clients) + " clients × " + strconv.Itoa(r.Concurrency) + " outstanding"
	switch {
	case r.TotalRate > 0:
		s += ", " + report.Rate(r.TotalRate) + " req/s in total"
	case r.Rate > 0:
		s += ", " + report.Rate(r.Rate) + " req/s each"
	default:
		s += ", closed loop"
	}
	s += ", reply mode " + r.ReplyMode + ", timeout " + r.Timeout.String() + ", queue " + r.Queue
	if r.Servers > 0 {
		s += "; " + strconv.Itoa(r.Servers) + " servers × " + strconv.Itoa(r.ServerConcurrency) + " (" + r.ServerWork + ")"
	} else {
		s += "; an existing service answers"
	}
	return s
}

// delay describes a processing time distribution.
func delay(d scenario.Delay) string {
	switch d.Distribution {
	case scenario.DelayUniform:
		return d.Min.String() + "–" + d.Max.String() + " (uniform)"
	case scenario.DelayExponential:
		return d.Mean.String() + " (exponential mean)"
	case scenario.DelayLogNormal:
		return d.Mean.String() + " (log-normal mean, sigma " + strconv.FormatFloat(d.Sigma, 'g', -1, 64) + ")"
	}
	return d.Mean.String()
}
