package coordinator

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// forwardedHeader counts how often a request was forwarded, so it never
// loops between nodes that disagree about the leader.
const (
	forwardedHeader = "X-Fabgrid-Forwarded"
	maxHops         = 2
	// smallForward: a forwarded body up to this size is read whole first.
	smallForward = 64 << 10
)

// newProxyTransport keeps enough idle connections to the leader for
// many concurrent forwarded requests (the default keeps two per host, so
// busy followers opened a connection per request).
func newProxyTransport(tlsConf *tls.Config) *http.Transport {
	return &http.Transport{
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: 5 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
	}
}

// leaderHTTP returns the leader's HTTP address as recorded in the FSM.
func (n *Node) leaderHTTP() (string, error) {
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return "", ErrNoLeader
	}
	var addr string
	n.fsm.View(func(s *fsm.State) {
		if ni := s.Nodes[string(id)]; ni != nil {
			addr = ni.HTTPAddr
		}
	})
	if addr == "" {
		return "", ErrNoLeader
	}
	return addr, nil
}

// forward proxies a request to the leader, unless it was forwarded
// already (then there is no leader we can trust: 503).
func (n *Node) forward(w http.ResponseWriter, r *http.Request) {
	// A request may hop twice: right after a leadership change the node
	// it was sent to may still name the old leader.
	hops, _ := strconv.Atoi(r.Header.Get(forwardedHeader))
	if hops >= maxHops {
		writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, "no leader reachable; retry shortly")
		return
	}
	addr, err := n.leaderHTTP()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, "no leader known to "+n.cfg.NodeID+"; retry shortly")
		return
	}
	if r.ContentLength > 0 && r.ContentLength <= smallForward {
		// A small body goes in memory, so the proxy writes the request's
		// head and body to the leader in one write, not one per read.
		b := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			writeError(w, http.StatusBadRequest, api.CodeBadRequest, "reading the request body: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	target := &url.URL{Scheme: n.scheme(), Host: addr}
	p := &httputil.ReverseProxy{
		Transport: n.proxyTransport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = r.Host
			pr.Out.Header.Set(forwardedHeader, strconv.Itoa(hops+1))
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, "leader unreachable: "+err.Error())
		},
	}
	p.ServeHTTP(w, r)
}

// write runs h on the leader; a follower forwards the request.
func (n *Node) write(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if n.raft.State() != raft.Leader {
			n.forward(w, r)
			return
		}
		w.Header().Set(api.LeaderHeader, n.URL())
		h(w, r)
	}
}

// read serves a read that sees every write acknowledged before it began
// (readindex.go), locally with ?stale=1; with ?consistent=leader the
// leader serves it after confirming it still leads and has applied
// everything committed; a follower forwards.
func (n *Node) read(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get(api.ConsistentParam) != api.ConsistentLeader {
			n.readYourWrites(h, w, r)
			return
		}
		if n.raft.State() != raft.Leader {
			n.forward(w, r)
			return
		}
		if err := n.verifyLeader(); err != nil {
			writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, err.Error()+"; retry shortly")
			return
		}
		w.Header().Set(api.LeaderHeader, n.URL())
		h(w, r)
	}
}

// verifyLeader confirms leadership with a majority and waits until the
// FSM has applied everything committed.
func (n *Node) verifyLeader() error {
	if err := n.raft.VerifyLeader().Error(); err != nil {
		return errors.Join(ErrNoLeader, err)
	}
	if err := n.raft.Barrier(n.cfg.ApplyTimeout).Error(); err != nil {
		return errors.Join(ErrNoLeader, err)
	}
	return nil
}
