package scenario

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"
)

// Properties are the basic properties of every message a producer sends
// (delivery mode and priority have fields of their own). Empty fields are
// not sent.
type Properties struct {
	ContentType     string `yaml:"content_type" json:"content_type,omitempty"`
	ContentEncoding string `yaml:"content_encoding" json:"content_encoding,omitempty"`
	// Expiration is each message's own TTL (the expiration property, in
	// whole milliseconds; 0 = none). The delivery audit counts it as a
	// TTL, the smaller of it and the queue's x-message-ttl.
	Expiration Duration `yaml:"expiration" json:"expiration,omitempty"`
	// MessageID and CorrelationID are templates: literal text with the
	// placeholders {run} (the run's identity, 16 hex digits), {producer}
	// and {seq} (the producer's number and the message's sequence number
	// in it). "{run}-{producer}-{seq}" makes every message's id unique.
	MessageID     string `yaml:"message_id" json:"message_id,omitempty"`
	CorrelationID string `yaml:"correlation_id" json:"correlation_id,omitempty"`
	AppID         string `yaml:"app_id" json:"app_id,omitempty"`
	Type          string `yaml:"type" json:"type,omitempty"`
	// UserID must be the user the connection logs in as: RabbitMQ refuses
	// any other (unless that user is tagged impersonator).
	UserID string `yaml:"user_id" json:"user_id,omitempty"`
	// Timestamp sends each message's send time (whole seconds, as AMQP
	// timestamps are).
	Timestamp bool `yaml:"timestamp" json:"timestamp,omitempty"`
}

// Body says what message bodies hold besides the stamp; without it a body
// is the stamp and zeros up to the size.
type Body struct {
	// Path is a file whose content is every message's body, or a directory
	// whose regular files, in name order, are the bodies used in turn.
	// Sizes then come from the files, and the stamp travels in the
	// x-mqbench-stamp header instead of the body.
	Path string `yaml:"path" json:"path,omitempty"`
	// CompressionRatio fills the bodies with seeded random bytes that
	// DEFLATE (level 6, as gzip's default) shrinks about this many times:
	// 1 is incompressible. 0 = zeros.
	CompressionRatio float64 `yaml:"compression_ratio" json:"compression_ratio,omitempty"`
}

// StampHeader is the header that carries the stamp when the body is the
// user's (a binary field of stamp.AuditSize bytes, laid out as in a body).
const StampHeader = "x-mqbench-stamp"

// The bounds of message shaping: a short string's length in AMQP; a body
// directory's files (each is kept in memory); a per-message TTL (RabbitMQ
// takes expirations up to 2^32-1 ms); the largest compression ratio a
// random body is made to (a body of zeros is the most compressible one).
const (
	MaxShortString      = 255
	MaxBodyFiles        = 100_000
	MaxExpirationMillis = math.MaxUint32
	MaxCompressionRatio = 100.0
)

// UserBody reports whether the bodies are the user's files, the stamp
// travelling in a header.
func (p Producers) UserBody() bool { return p.Body != nil && p.Body.Path != "" }

// ExpirationMillis is the messages' own TTL in milliseconds (0: none).
func (p Producers) ExpirationMillis() int64 {
	if p.Properties == nil {
		return 0
	}
	return p.Properties.Expiration.D().Milliseconds()
}

// IDPart is one part of an id template: literal Text, or a placeholder
// (Field: IDRun, IDProducer or IDSeq).
type IDPart struct {
	Text  string
	Field string
}

// The placeholders of an id template.
const (
	IDRun      = "run"
	IDProducer = "producer"
	IDSeq      = "seq"
)

// idWidth is the widest each placeholder is written: 16 hex digits, a
// producer number below MaxWorkers, a 32-bit sequence number.
var idWidth = map[string]int{IDRun: 16, IDProducer: 6, IDSeq: 10}

// ParseID splits an id template into its parts.
func ParseID(s string) ([]IDPart, error) {
	var out []IDPart
	for s != "" {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			out = append(out, IDPart{Text: s})
			break
		}
		if open > 0 {
			out = append(out, IDPart{Text: s[:open]})
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("an unclosed {: placeholders are {run}, {producer} and {seq}")
		}
		field := s[open+1 : open+end]
		if _, ok := idWidth[field]; !ok {
			return nil, fmt.Errorf("unknown placeholder {%s}: placeholders are {run}, {producer} and {seq}", field)
		}
		out = append(out, IDPart{Field: field})
		s = s[open+end+1:]
	}
	return out, nil
}

// idMaxLen is the longest id a template makes.
func idMaxLen(parts []IDPart) int {
	n := 0
	for _, p := range parts {
		n += len(p.Text) + idWidth[p.Field]
	}
	return n
}

func (s *Scenario) validateMessage(c *checker) {
	p := s.Producers
	if pr := p.Properties; pr != nil {
		for _, f := range []struct{ path, v string }{
			{"content_type", pr.ContentType}, {"content_encoding", pr.ContentEncoding},
			{"app_id", pr.AppID}, {"type", pr.Type}, {"user_id", pr.UserID},
		} {
			c.check(len(f.v) <= MaxShortString, "producers.properties."+f.path, f.v, "at most %d bytes (an AMQP short string)", MaxShortString)
		}
		for _, f := range []struct{ path, v string }{{"message_id", pr.MessageID}, {"correlation_id", pr.CorrelationID}} {
			parts, err := ParseID(f.v)
			c.check(err == nil, "producers.properties."+f.path, f.v, "%v", err)
			c.check(err != nil || idMaxLen(parts) <= MaxShortString, "producers.properties."+f.path, f.v,
				"ids can be %d bytes long, at most %d (an AMQP short string; {run} is 16, {producer} 6, {seq} 10)", idMaxLen(parts), MaxShortString)
		}
		e := pr.Expiration.D()
		c.check(e == 0 || (e >= time.Millisecond && e%time.Millisecond == 0 && e.Milliseconds() <= MaxExpirationMillis),
			"producers.properties.expiration", pr.Expiration, "must be whole milliseconds, 1ms to %v (0 = none)", time.Duration(MaxExpirationMillis)*time.Millisecond)
	}
	s.validateHeaders(c)
	if b := p.Body; b != nil {
		r := b.CompressionRatio
		c.check(r == 0 || (r >= 1 && r <= MaxCompressionRatio), "producers.body.compression_ratio", r,
			"must be 1 (incompressible) to %g, or 0 (zeros)", MaxCompressionRatio)
		if b.Path != "" {
			c.check(r == 0, "producers.body.compression_ratio", r, "random bodies and bodies from files are two different things: give one")
			validateBodyPath(c, b.Path)
			c.check(p.Size == 0 && p.SizeDistribution == nil, "producers.size", p.Size, "bodies from files have the files' sizes: drop size and size_distribution")
		}
	}
}

// validateBodyPath checks that the body path is a readable file, or a
// directory of at most MaxBodyFiles regular files of at most
// MaxMessageSize bytes each and MaxBodyMemory in all (they are all held
// in memory).
func validateBodyPath(c *checker, path string) {
	const field = "producers.body.path"
	fi, err := os.Stat(path)
	if err != nil {
		c.check(false, field, path, "cannot read it: %v", err)
		return
	}
	if !fi.IsDir() {
		c.check(fi.Mode().IsRegular(), field, path, "must be a file or a directory of files")
		c.check(fi.Size() <= MaxMessageSize, field, path, "%d bytes: larger than the broker's largest message (%d bytes)", fi.Size(), MaxMessageSize)
		return
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		c.check(false, field, path, "cannot read the directory: %v", err)
		return
	}
	var files int
	var total int64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		files++
		info, err := e.Info()
		if err != nil {
			c.check(false, field, path, "cannot read %s: %v", e.Name(), err)
			return
		}
		total += info.Size()
		c.check(info.Size() <= MaxMessageSize, field, path, "%s is %d bytes: larger than the broker's largest message (%d bytes)", e.Name(), info.Size(), MaxMessageSize)
	}
	c.check(files > 0, field, path, "the directory holds no regular file to send")
	c.check(files <= MaxBodyFiles, field, path, "%d files: at most %d (each is kept in memory)", files, MaxBodyFiles)
	c.check(total <= MaxBodyMemory, field, path, "%d MiB of files: at most %d MiB (they are kept in memory)", total>>20, MaxBodyMemory>>20)
}
