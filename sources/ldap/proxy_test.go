package ldap

import (
	"bufio"
	"io"
	"net"
	stdsync "sync"
	"testing"
)

// proxy is a TCP proxy in front of a test server that misbehaves on purpose:
// it can cut the connection once the server has sent some bytes (a server
// dying in the middle of a read), or stop forwarding when the client sends
// its n-th LDAP message (a server that hangs).
type proxy struct {
	proxyOptions
	ln      net.Listener
	target  string
	release chan struct{} // closed to resume after HoldAt
	// started is closed when a connection stalls, or when the server's
	// bytes reach CutAfter or HoldAt.
	started chan struct{}
	once    stdsync.Once
	wg      stdsync.WaitGroup
}

// proxyOptions says how a proxy misbehaves.
type proxyOptions struct {
	// CutAfter closes both sides once the server has sent this many bytes
	// on one connection; 0 never cuts.
	CutAfter int64
	// StallAt stops forwarding when the client's StallAt-th message arrives
	// (1 is usually the bind); 0 never stalls.
	StallAt int
	// HoldAt pauses the server's bytes once this many have been forwarded,
	// until release is closed; 0 never pauses.
	HoldAt int64
}

// newProxy starts a proxy to target (host:port), closed at the test's end.
func newProxy(t testing.TB, target string, opt proxyOptions) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &proxy{proxyOptions: opt, ln: ln, target: target, started: make(chan struct{}), release: make(chan struct{})}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		select {
		case <-p.release:
		default:
			close(p.release)
		}
		p.wg.Wait()
	})
	return p
}

func (p *proxy) url() string { return "ldap://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.wg.Add(2)
		var closeBoth stdsync.Once
		shut := func() { closeBoth.Do(func() { client.Close(); server.Close() }) }
		go func() { defer p.wg.Done(); p.upstream(client, server, shut) }()
		go func() { defer p.wg.Done(); p.downstream(server, client, shut) }()
	}
}

// upstream forwards the client's messages one by one, stalling at StallAt.
func (p *proxy) upstream(client, server net.Conn, shut func()) {
	defer shut()
	r := bufio.NewReader(client)
	for n := 1; ; n++ {
		msg, err := readBER(r)
		if err != nil {
			return
		}
		if p.StallAt > 0 && n >= p.StallAt {
			p.once.Do(func() { close(p.started) })
			io.Copy(io.Discard, r) // hold the connection open, answer nothing
			return
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

// downstream copies the server's bytes, cutting at CutAfter and pausing at
// HoldAt.
func (p *proxy) downstream(server, client net.Conn, shut func()) {
	defer shut()
	var sent int64
	held := false
	buf := make([]byte, 4096)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if p.CutAfter > 0 && sent+int64(n) >= p.CutAfter {
				client.Write(buf[:p.CutAfter-sent])
				p.once.Do(func() { close(p.started) })
				return
			}
			sent += int64(n)
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
			if p.HoldAt > 0 && sent >= p.HoldAt && !held {
				held = true
				p.once.Do(func() { close(p.started) })
				<-p.release
			}
		}
		if err != nil {
			return
		}
	}
}

// readBER reads one BER element (an LDAP message) whole.
func readBER(r *bufio.Reader) ([]byte, error) {
	head, err := r.Peek(2)
	if err != nil {
		return nil, err
	}
	n, hl := int(head[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if head, err = r.Peek(2 + k); err != nil {
			return nil, err
		}
		n = 0
		for _, b := range head[2:] {
			n = n<<8 | int(b)
		}
		hl += k
	}
	msg := make([]byte, hl+n)
	_, err = io.ReadFull(r, msg)
	return msg, err
}
