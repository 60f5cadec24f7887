package brokertest

import (
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of the broker that a test can stall: while
// paused it forwards nothing in either direction, so the client sees the
// broker go silent (TCP back-pressure, no error) — a stall without
// touching the shared broker.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	conns  []net.Conn
}

// NewProxy starts a proxy to target (host:port) on a free loopback port;
// it is closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	return startProxy(t, ln, target)
}

func startProxy(t testing.TB, ln net.Listener, target string) *Proxy {
	p := &Proxy{ln: ln, target: target}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Pause stops forwarding; Resume starts again.
func (p *Proxy) Pause() { p.set(true) }

// Resume forwards again after Pause.
func (p *Proxy) Resume() { p.set(false) }

func (p *Proxy) set(paused bool) {
	p.mu.Lock()
	p.paused = paused
	p.mu.Unlock()
	p.cond.Broadcast()
}

// Cut closes every connection through the proxy (a network cut) and keeps
// listening, so clients can connect again.
func (p *Proxy) Cut() {
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
}

// Close stops the proxy and every connection through it.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.paused = false
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		go p.pipe(c, b)
		go p.pipe(b, c)
	}
}

// pipe copies src to dst, holding each chunk while paused.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.paused {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // EOF or a closed connection: either way this direction is done
			return
		}
	}
}
