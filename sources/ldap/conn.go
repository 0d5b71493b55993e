package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// session is one bound connection. Closing it, or canceling the context it
// was opened with, makes any blocked request return.
type session struct {
	conn     *ldap.Conn
	desc     string // "ldaps", "ldap+start_tls" or "ldap", with the TLS version
	timeout  time.Duration
	stop     func() bool // unregisters the close-on-cancel
	timedOut atomic.Bool
}

func (s *session) close() {
	s.stop()
	s.conn.Close()
}

// buildTLS returns the TLS configuration of cfg, reading its files.
func buildTLS(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	pem := []byte(cfg.CAPEM)
	if cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap: ca_file: %w", err)
		}
		pem = b
	}
	if len(pem) > 0 {
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap: ca_file %s: no PEM certificate in it", cfg.CAFile)
		}
	}
	if cfg.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCertFile, cfg.ClientKeyFile)
		if err != nil {
			return nil, fmt.Errorf("ldap: client_cert_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// connect dials the server, sets up TLS, and binds, all within the dial
// timeout. The session closes itself when ctx ends.
func (s *Source) connect(ctx context.Context) (*session, error) {
	u, err := url.Parse(s.cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ldap: url: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ldap: connect %s: %w", addr, err)
	}
	// Until the bind is done, the dial context's end unblocks any read.
	unblock := context.AfterFunc(dctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	sess, err := s.handshake(dctx, raw, u, addr)
	if !unblock() && err == nil {
		err = fmt.Errorf("ldap: bind at %s: %w", addr, context.Cause(dctx))
	}
	if err != nil {
		if sess != nil {
			sess.conn.Close()
		}
		raw.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ldap: connect %s: %w", addr, ctx.Err())
		}
		if dctx.Err() != nil && !errors.Is(err, dctx.Err()) {
			return nil, fmt.Errorf("%w (dial_timeout %s): %w", err, s.cfg.DialTimeout, dctx.Err())
		}
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	sess.stop = context.AfterFunc(ctx, func() { sess.conn.Close() })
	return sess, nil
}

// handshake does TLS (ldaps or StartTLS) on raw and binds.
func (s *Source) handshake(ctx context.Context, raw net.Conn, u *url.URL, addr string) (*session, error) {
	conn, desc := raw, "ldap"
	if u.Scheme == "ldaps" || s.cfg.StartTLS {
		if s.cfg.StartTLS {
			if err := startTLS(raw); err != nil {
				return nil, fmt.Errorf("ldap: start_tls with %s: %w", addr, err)
			}
		}
		tc := s.tls.Clone()
		tc.ServerName = u.Hostname()
		t := tls.Client(raw, tc)
		if err := t.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("ldap: tls handshake with %s: %w", addr, err)
		}
		conn = t
		desc = "ldaps"
		if s.cfg.StartTLS {
			desc = "ldap+start_tls"
		}
		desc += " (" + tls.VersionName(t.ConnectionState().Version) + ")"
	}
	sess := &session{conn: ldap.NewConn(conn, conn != raw), desc: desc, timeout: s.cfg.Timeout, stop: func() bool { return true }}
	sess.conn.Start()
	if s.cfg.BindDN == "" {
		return sess, nil
	}
	if err := sess.conn.Bind(s.cfg.BindDN, s.password); err != nil {
		return sess, fmt.Errorf("ldap: bind as %s at %s: %w", s.cfg.BindDN, addr, err)
	}
	return sess, nil
}

// startTLSRequest is the StartTLS extended request (RFC 4511 4.14.1) with
// message id 1: SEQUENCE { 1, [APPLICATION 23] { [0] "1.3.6.1.4.1.1466.20037" } }.
var startTLSRequest = append([]byte{0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16}, "1.3.6.1.4.1.1466.20037"...)

// startTLS sends the StartTLS request on raw and checks the answer, so that
// the TLS handshake that follows runs under our own context and reports its
// errors (a wrong CA, a name mismatch) as typed crypto/tls errors.
func startTLS(raw net.Conn) error {
	if _, err := raw.Write(startTLSRequest); err != nil {
		return err
	}
	msg, err := readMessage(raw)
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	// LDAPMessage: SEQUENCE { messageID, [APPLICATION 24] ExtendedResponse {
	// resultCode ENUMERATED, matchedDN, diagnosticMessage, ... } }
	tag, body, _, err := readTLV(msg)
	if err != nil || tag != 0x30 {
		return errors.New("malformed answer")
	}
	_, _, rest, err := readTLV(body)
	if err != nil {
		return errors.New("malformed answer")
	}
	tag, op, _, err := readTLV(rest)
	if err != nil || tag != 0x78 {
		return fmt.Errorf("malformed answer (tag %#x)", tag)
	}
	tag, code, rest, err := readTLV(op)
	if err != nil || tag != 0x0a || len(code) != 1 {
		return fmt.Errorf("malformed result code")
	}
	if code[0] != 0 {
		_, _, rest, _ = readTLV(rest) // matchedDN
		_, diag, _, _ := readTLV(rest)
		return &ldap.Error{ResultCode: uint16(code[0]), Err: errors.New(string(diag))}
	}
	return nil
}

// readMessage reads one BER element (an LDAP message) of at most 64 KiB.
func readMessage(r io.Reader) ([]byte, error) {
	head := make([]byte, 2, 6)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	n := int(head[1])
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 2 {
			return nil, errors.New("message too long")
		}
		head = head[:2+k]
		if _, err := io.ReadFull(r, head[2:]); err != nil {
			return nil, err
		}
		n = 0
		for _, b := range head[2:] {
			n = n<<8 | int(b)
		}
	}
	msg := make([]byte, len(head)+n)
	copy(msg, head)
	_, err := io.ReadFull(r, msg[len(head):])
	return msg, err
}

// readTLV splits the first BER element of b into its tag, its content and
// what follows it.
func readTLV(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, io.ErrUnexpectedEOF
	}
	tag, n, i := b[0], int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, nil, nil, io.ErrUnexpectedEOF
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if len(b) < i+n {
		return 0, nil, nil, io.ErrUnexpectedEOF
	}
	return tag, b[i : i+n], b[i+n:], nil
}
