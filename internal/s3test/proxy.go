package s3test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// Proxy is a TCP proxy on loopback in front of a Server, for network faults
// that an HTTP client wrapper cannot play: a server that accepts connections
// and never answers. It forwards bytes as they are (TLS included), so the
// server's certificate and credentials work through it unchanged.
type Proxy struct {
	// Endpoint is the proxy's base URL, with the server's scheme.
	Endpoint string

	l      net.Listener
	target string
	wg     sync.WaitGroup

	mu       sync.Mutex
	hangNext int // connections still to hold
	held     int // connections held so far
	conns    map[net.Conn]bool
	closed   bool
}

// StartProxy starts a proxy for s and closes it when the test ends.
func StartProxy(t testing.TB, s *Server) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("s3test: proxy: %v", err)
	}
	scheme, target, _ := strings.Cut(s.Endpoint, "://")
	p := &Proxy{Endpoint: scheme + "://" + l.Addr().String(), l: l, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// HangNext makes the next n connections the proxy accepts hang: it reads
// what the client sends and never forwards it or answers, until the client
// gives up (or the proxy closes).
func (p *Proxy) HangNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hangNext += n
}

// Held returns how many connections have been held so far.
func (p *Proxy) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		hang := p.hangNext > 0
		if hang {
			p.hangNext--
			p.held++
		}
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.forget(c)
			if hang {
				_, _ = io.Copy(io.Discard, c)
				return
			}
			p.forward(c)
		}()
	}
}

// forward pipes c to a new connection to the target, both ways.
func (p *Proxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return // the client sees its connection closed, as with a dead server
	}
	p.mu.Lock()
	p.conns[up] = true
	p.mu.Unlock()
	defer p.forget(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

func (p *Proxy) forget(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.l.Close()
	p.wg.Wait()
}
