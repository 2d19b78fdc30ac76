package coordinator

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// raftHandshakeTimeout bounds the TLS handshake of a raft connection: a
// peer that does not complete it in time is cut off.
const raftHandshakeTimeout = 10 * time.Second

// tlsStreamLayer is raft's network over mutual TLS. Every accepted
// connection must complete a handshake with a certificate of the cluster
// CA carrying the coordinator role before raft reads a byte of it: the
// first Read (or Write) runs the handshake, and a connection that fails
// it is closed, so raft's decoder only ever sees an error.
type tlsStreamLayer struct {
	ln     net.Listener
	server *tls.Config
	client *tls.Config
	log    *slog.Logger
}

var _ raft.StreamLayer = (*tlsStreamLayer)(nil)

func newTLSStreamLayer(addr string, t *TLS, log *slog.Logger) (*tlsStreamLayer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("raft address %q: listen on one IP address that the other coordinators can reach, not all of them", addr)
	}
	return &tlsStreamLayer{ln: ln, server: t.peerServer(), client: t.peerClient(), log: log}, nil
}

// newTLSTransport is raft's NetworkTransport over the TLS stream layer,
// with the pool and timeout of the plain TCP transport.
func newTLSTransport(addr string, t *TLS, hlog hclog.Logger, log *slog.Logger) (*raft.NetworkTransport, error) {
	s, err := newTLSStreamLayer(addr, t, log)
	if err != nil {
		return nil, err
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: s, MaxPool: 3, Timeout: 10 * time.Second, Logger: hlog,
	}), nil
}

// Accept returns the next connection; its handshake runs on first use.
func (s *tlsStreamLayer) Accept() (net.Conn, error) {
	c, err := s.ln.Accept()
	if err != nil {
		return nil, err
	}
	return &handshakeConn{Conn: tls.Server(c, s.server), log: s.log}, nil
}

// Dial connects to another coordinator and completes the handshake
// within timeout.
func (s *tlsStreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", string(address), s.client)
}

func (s *tlsStreamLayer) Close() error   { return s.ln.Close() }
func (s *tlsStreamLayer) Addr() net.Addr { return s.ln.Addr() }

// handshakeConn is an accepted raft connection whose TLS handshake must
// succeed, within raftHandshakeTimeout, before anything is read from or
// written to it.
type handshakeConn struct {
	*tls.Conn
	log  *slog.Logger
	once sync.Once
	err  error
}

func (c *handshakeConn) handshake() error {
	c.once.Do(func() {
		_ = c.Conn.SetDeadline(time.Now().Add(raftHandshakeTimeout))
		if err := c.Conn.Handshake(); err != nil {
			c.err = fmt.Errorf("%w: raft connection from %s refused: %w", ErrTLS, c.RemoteAddr(), err)
			c.log.Warn("raft connection refused: no valid coordinator certificate", "remote", c.RemoteAddr().String(), "err", err)
			c.Conn.Close()
			return
		}
		c.err = c.Conn.SetDeadline(time.Time{})
	})
	return c.err
}

func (c *handshakeConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *handshakeConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
