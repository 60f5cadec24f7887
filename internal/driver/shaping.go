package driver

import (
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/message"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// shaping is what a producer's messages carry besides the stamp, the
// routing key and the delivery mode: the properties, the drawn headers,
// and the bodies when they are the user's files. What changes per message
// is written into what the producer already holds — its own header
// table, its ids' buffers, its stamp buffer — never into anything new.
type shaping struct {
	files     [][]byte       // the user's bodies, shared by every producer and never written; nil: the producer's own buffer
	stampHdr  []byte         // the stamp's buffer when it travels in the x-mqbench-stamp header
	deck      *message.Deck  // the drawn headers; nil without them
	msgID     *message.ID    // message-id template with {seq}; nil: fixed or none
	corrID    *message.ID    // correlation-id likewise
	timestamp bool           // stamp the timestamp property with the send time
	headers   map[string]any // the producer's own header table (deck deals into it)
}

// messageShape is what every producer's shaping is made from, once per run.
type messageShape struct {
	props  scenario.Properties
	fixed  map[string]any // fixed headers
	deck   *message.Deck
	files  [][]byte // the user's bodies; nil: none
	random []byte   // a random body of the largest size; nil: zeros
	run    uint64
}

// newMessageShape reads the user's bodies or makes the random one, and
// deals the drawn headers over keys routing keys.
func newMessageShape(p scenario.Producers, keys int, run uint64) (*messageShape, error) {
	ms := &messageShape{run: run}
	if p.Properties != nil {
		ms.props = *p.Properties
	}
	var draws []scenario.HeaderDraw
	ms.fixed, draws = p.HeaderDraws()
	ms.deck = message.NewDeck(draws, keys)
	switch b := p.Body; {
	case p.UserBody():
		files, err := message.Files(b.Path)
		if err != nil {
			return nil, err
		}
		ms.files = files
	case b != nil && b.CompressionRatio > 0:
		ms.random = message.Random(p.MaxSize(), b.CompressionRatio)
	}
	return ms, nil
}

// minBody is the smallest body sent: the smallest file, or the scenario's
// smallest size.
func (ms *messageShape) minBody(p scenario.Producers) int {
	if ms.files == nil {
		return p.MinSize()
	}
	n := len(ms.files[0])
	for _, f := range ms.files {
		n = min(n, len(f))
	}
	return n
}

// apply shapes producer pr: its template message's fixed properties and
// headers, and what it changes per message.
func (ms *messageShape) apply(pr *producer) {
	pr.msg.ContentType = ms.props.ContentType
	pr.msg.ContentEncoding = ms.props.ContentEncoding
	pr.msg.AppId, pr.msg.Type, pr.msg.UserId = ms.props.AppID, ms.props.Type, ms.props.UserID
	if e := ms.props.Expiration.D(); e > 0 {
		pr.msg.Expiration = formatMillis(e)
	}
	s := &pr.shape
	s.msgID, pr.msg.MessageId = ms.id(ms.props.MessageID, pr.id)
	s.corrID, pr.msg.CorrelationId = ms.id(ms.props.CorrelationID, pr.id)
	s.timestamp = ms.props.Timestamp
	s.deck, s.files = ms.deck, ms.files
	if ms.random != nil {
		copy(pr.buf, ms.random) // the producer's own copy: the stamp is written into it
	}
	h := map[string]any{}
	for k, v := range ms.fixed {
		h[k] = v
	}
	if ms.deck != nil {
		for _, name := range ms.deck.Names() {
			h[name] = nil // dealt per message; present now, so dealing allocates nothing
		}
	}
	if ms.files != nil {
		s.stampHdr = make([]byte, stamp.AuditSize)
		h[scenario.StampHeader] = s.stampHdr
	}
	if len(h) > 0 {
		s.headers = h
		pr.msg.Headers = amqp.Table(h)
	}
}

// id is a producer's id template: the formatter when it changes per
// message, else the fixed id.
func (ms *messageShape) id(template string, producer int) (*message.ID, string) {
	parts, _ := scenario.ParseID(template) // validated
	id := message.NewID(parts, ms.run, producer)
	if id == nil {
		return nil, ""
	}
	if fixed, ok := id.Fixed(); ok {
		return nil, fixed
	}
	return id, ""
}

// formatMillis writes a per-message TTL as the expiration property
// wants it: whole milliseconds, in decimal.
func formatMillis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// shapeMessage sets message seq's per-message properties and headers (it
// is sent at now) and returns its body and the buffer its stamp goes in:
// the body, or the stamp header's when the body is the user's.
func (p *producer) shapeMessage(seq, now int64) (body, st []byte) {
	s := &p.shape
	if s.files != nil {
		body = s.files[int((seq+int64(p.id))%int64(len(s.files)))]
	} else {
		body = p.body(seq)
	}
	st = body
	if s.stampHdr != nil {
		st = s.stampHdr
	}
	if s.deck != nil {
		s.deck.Deal(s.headers, p.id, seq)
	}
	if s.msgID != nil {
		p.msg.MessageId = s.msgID.Format(uint32(seq))
	}
	if s.corrID != nil {
		p.msg.CorrelationId = s.corrID.Format(uint32(seq))
	}
	if s.timestamp {
		p.msg.Timestamp = time.Unix(now/int64(time.Second), 0)
	}
	return body, st
}

// stampOf is where a delivery's stamp is: the x-mqbench-stamp header when
// it has one (the body is the user's), else the body.
func stampOf(d *amqp.Delivery) []byte {
	if d.Headers != nil {
		if b, ok := d.Headers[scenario.StampHeader].([]byte); ok {
			return b
		}
	}
	return d.Body
}
