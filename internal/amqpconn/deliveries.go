package amqpconn

import (
	"encoding/binary"
	"net"
	"sync/atomic"
)

// Counting deliveries as they arrive.
//
// amqp091-go hands a consumer its deliveries through an unbounded buffer
// of its own: with a large or no prefetch, the broker pushes the backlog
// into the client, where neither the broker's ready count nor anything
// the library exposes shows it. deliveryConn reads the frames the broker
// sends as they pass (above TLS, so it sees plain AMQP) and counts the
// messages delivered — basic.deliver and basic.get-ok method frames — so
// that the messages the client holds but no consumer has processed yet
// are the count received minus the count processed. It looks at 7 bytes
// of every frame header and 4 of every method frame, and skips the rest
// without copying: a few nanoseconds per frame on the library's reader
// goroutine, the only one that reads.

// AMQP 0-9-1 framing: type (1), channel (2), payload size (4), payload,
// frame end (1); a method frame's payload starts with class and method ids.
const (
	frameHeader   = 7
	frameMethod   = 1
	classBasic    = 60
	methodDeliver = 60
	methodGetOK   = 71
)

// deliveryConn counts the deliveries read through it into n.
type deliveryConn struct {
	net.Conn
	n    *atomic.Int64
	hdr  [frameHeader + 4]byte
	have int    // header bytes collected
	skip uint64 // bytes of the current frame left to skip
	// failed is the first error a read returned. The library closes the
	// socket when its reader fails, and the opening handshake may then
	// report only the write that found it closed; a TLS 1.3 broker's
	// refusal of the client certificate (an alert at the first read) is
	// recovered from here. Atomic: the library's reader goroutine sets it.
	failed atomic.Pointer[error]
}

// Read reads from the connection and counts the deliveries in what it read.
func (c *deliveryConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.feed(p[:n])
	if err != nil {
		e := err // a copy: taking err's own address would move it to the heap on every read
		c.failed.CompareAndSwap(nil, &e)
	}
	return n, err
}

// readError is the first error a read returned, or nil.
func (c *deliveryConn) readError() error {
	if e := c.failed.Load(); e != nil {
		return *e
	}
	return nil
}

// feed parses the frames in p, continuing where the last call stopped.
func (c *deliveryConn) feed(p []byte) {
	for len(p) > 0 {
		if c.skip > 0 {
			k := min(c.skip, uint64(len(p)))
			p, c.skip = p[k:], c.skip-k
			continue
		}
		want := c.want()
		k := copy(c.hdr[c.have:want], p)
		p, c.have = p[k:], c.have+k
		if c.have < want || want < c.want() {
			continue // more header to come (a method frame's ids, or the next read)
		}
		size := uint64(binary.BigEndian.Uint32(c.hdr[3:frameHeader]))
		if want > frameHeader && binary.BigEndian.Uint16(c.hdr[7:9]) == classBasic {
			if m := binary.BigEndian.Uint16(c.hdr[9:11]); m == methodDeliver || m == methodGetOK {
				c.n.Add(1)
			}
		}
		c.skip = size - uint64(want-frameHeader) + 1 // the rest of the payload and the frame end
		c.have = 0
	}
}

// want is how many header bytes the current frame needs: its header, and
// for a method frame with a payload of at least 4 bytes its ids too.
func (c *deliveryConn) want() int {
	if c.have < frameHeader || c.hdr[0] != frameMethod || binary.BigEndian.Uint32(c.hdr[3:frameHeader]) < 4 {
		return frameHeader
	}
	return frameHeader + 4
}
