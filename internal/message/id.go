package message

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/mqbench/mqbench/internal/scenario"
)

// ID writes one producer's message ids from a template. The run's
// identity and the producer's number are written once; only {seq}
// changes from message to message, written into a buffer of the ID's own.
type ID struct {
	parts []string // the literal text around each {seq}: one more than there are {seq}s
	buf   []byte
}

// NewID is producer's id template (nil for an empty template).
func NewID(parts []scenario.IDPart, run uint64, producer int) *ID {
	if len(parts) == 0 {
		return nil
	}
	var cur strings.Builder
	id := &ID{}
	for _, p := range parts {
		switch p.Field {
		case scenario.IDRun:
			cur.WriteString(runHex(run))
		case scenario.IDProducer:
			cur.WriteString(strconv.Itoa(producer))
		case scenario.IDSeq:
			id.parts = append(id.parts, cur.String())
			cur.Reset()
		default:
			cur.WriteString(p.Text)
		}
	}
	id.parts = append(id.parts, cur.String())
	n := 0
	for _, s := range id.parts {
		n += len(s) + 10 // a uint32 is at most 10 digits
	}
	id.buf = make([]byte, 0, n)
	return id
}

// runHex is the run's identity as 16 hex digits.
func runHex(run uint64) string {
	s := strconv.FormatUint(run, 16)
	return strings.Repeat("0", 16-len(s)) + s
}

// Fixed returns the id when the template has no {seq}: every message
// carries it.
func (id *ID) Fixed() (string, bool) {
	if len(id.parts) == 1 {
		return id.parts[0], true
	}
	return "", false
}

// Format returns message seq's id. The string shares the ID's buffer: it
// is valid until the next Format, which is what a publish needs (the
// client library copies the properties into the frame before Publish
// returns, as it does the body, which is reused in the same way).
func (id *ID) Format(seq uint32) string {
	b := id.buf[:0]
	for i, s := range id.parts {
		if i > 0 {
			b = strconv.AppendUint(b, uint64(seq), 10)
		}
		b = append(b, s...)
	}
	id.buf = b // never grown: its capacity is the longest id
	return unsafe.String(unsafe.SliceData(b), len(b))
}
