package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"time"
)

// session is one bound connection. Closing it, or canceling the context it
// was opened with, makes any blocked request return.
type session struct {
	conn    net.Conn
	w       *wire
	desc    string // "ldaps", "ldap+start_tls" or "ldap", with the TLS version
	timeout time.Duration
	logger  *slog.Logger
	stop    func() bool // unregisters the close-on-cancel
}

// close says goodbye to the server and closes the connection.
func (s *session) close() {
	s.stop()
	s.conn.SetDeadline(time.Now().Add(time.Second))
	s.w.unbind()
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
// timeout. The session closes its connection when ctx ends.
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
	deadline, _ := dctx.Deadline()
	raw.SetDeadline(deadline)
	// Until the bind is done, the end of the dial context closes the socket.
	unblock := context.AfterFunc(dctx, func() { raw.Close() })
	sess, err := s.handshake(dctx, raw, u, addr)
	if !unblock() && err == nil {
		err = fmt.Errorf("ldap: bind at %s: %w", addr, context.Cause(dctx))
	}
	if err != nil {
		raw.Close()
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("ldap: connect %s: %w", addr, ctx.Err())
		case dctx.Err() != nil:
			return nil, fmt.Errorf("%w (dial_timeout %s exceeded)", err, s.cfg.DialTimeout)
		}
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	sess.stop = context.AfterFunc(ctx, func() { raw.Close() })
	return sess, nil
}

// handshake does TLS (ldaps or StartTLS) on raw and binds.
func (s *Source) handshake(ctx context.Context, raw net.Conn, u *url.URL, addr string) (*session, error) {
	conn, desc := raw, "ldap"
	if u.Scheme == "ldaps" || s.cfg.StartTLS {
		if s.cfg.StartTLS {
			if err := newWire(raw).startTLS(); err != nil {
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
	sess := &session{conn: conn, w: newWire(conn), desc: desc, timeout: s.cfg.Timeout, logger: s.logger}
	if s.cfg.BindDN == "" {
		return sess, nil
	}
	if err := sess.w.bind(s.cfg.BindDN, s.password); err != nil {
		return nil, fmt.Errorf("ldap: bind as %s at %s: %w", s.cfg.BindDN, addr, err)
	}
	return sess, nil
}
