package main

import (
	"github.com/mqbench/mqbench/internal/scenario"
)

// propFlags holds the values of the message property and body flags: the
// commonly used ones. The rest — content encoding, correlation id, app
// id, type, user id, timestamp, headers fixed or drawn per message — are
// set in the scenario file (producers.properties, producers.headers).
type propFlags struct {
	contentType, messageID, body string
	expiration                   scenario.Duration
	compression                  float64
}

// addProps registers the message property and body flags.
func (f *flagSet) addProps(add addFunc, str bindStr, dur bindDura, set setFunc) {
	v := &f.v.props
	fs := f.fs
	props := func(s *scenario.Scenario) *scenario.Properties {
		if s.Producers.Properties == nil {
			s.Producers.Properties = &scenario.Properties{}
		}
		return s.Producers.Properties
	}
	body := func(s *scenario.Scenario) *scenario.Body {
		if s.Producers.Body == nil {
			s.Producers.Body = &scenario.Body{}
		}
		return s.Producers.Body
	}
	add("content-type", "", "producers.properties.content_type", str(&v.contentType, "content-type property of every message, e.g. application/json"),
		set(func(s *scenario.Scenario) { props(s).ContentType = v.contentType }))
	add("expiration", "", "producers.properties.expiration", dur(&v.expiration, "per-message TTL, the expiration property (whole milliseconds); the audit counts it as a TTL"),
		set(func(s *scenario.Scenario) { props(s).Expiration = v.expiration }))
	add("message-id", "", "producers.properties.message_id", str(&v.messageID, `message-id of every message, a template: {run}, {producer} and {seq} are replaced ("{run}-{producer}-{seq}" is unique per message)`),
		set(func(s *scenario.Scenario) { props(s).MessageID = v.messageID }))
	add("body", "", "producers.body.path", str(&v.body, "a file whose content is every message's body, or a directory whose files are the bodies in turn; the stamp then travels in the x-mqbench-stamp header"),
		set(func(s *scenario.Scenario) { body(s).Path = v.body }))
	add("body-compression-ratio", "", "producers.body.compression_ratio", func(n string) {
		fs.Float64Var(&v.compression, n, 0, "random bodies that DEFLATE compresses this many times (1 = incompressible; default: zeros)")
	}, set(func(s *scenario.Scenario) { body(s).CompressionRatio = v.compression }))
}
