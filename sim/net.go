package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// NodeID names a node of the simulation: a coordinator ("c1") or a
// printer's worker ("p001"), or the order clients ("client").
type NodeID string

// ErrCut is the error of a request over a link the simulation has cut.
var ErrCut = errors.New("sim: link cut")

// faultNet decides which nodes reach which over HTTP. Every HTTP client in
// the simulation (order clients, workers, coordinators joining and
// forwarding writes to their leader) goes through a transport made here
// for its source node; a request to a coordinator that is down or in
// another partition group fails with ErrCut, and requests in flight over a
// link being cut are cancelled.
type faultNet struct {
	mu     sync.Mutex
	group  map[NodeID]int    // partition group; nodes not listed are in group 0
	down   map[NodeID]bool   // crashed nodes: nothing in or out
	hosts  map[string]NodeID // "127.0.0.1:port" → coordinator
	flight map[*flightReq]struct{}
	// sent counts each source's requests (cut ones too).
	sent map[NodeID]int
	base *http.Transport
	// gossipAt maps gossip addresses to their nodes and coordGossip the
	// running coordinators to theirs (see simGossip).
	gossipAt    map[string]NodeID
	coordGossip map[NodeID]string
}

type flightReq struct {
	src, dst NodeID
	cancel   context.CancelCauseFunc
}

func newFaultNet() *faultNet {
	return &faultNet{
		group: map[NodeID]int{}, down: map[NodeID]bool{}, hosts: map[string]NodeID{},
		flight: map[*flightReq]struct{}{}, sent: map[NodeID]int{},
		gossipAt: map[string]NodeID{}, coordGossip: map[NodeID]string{},
		base: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
	}
}

// setHost records that the coordinator id listens on hostport.
func (f *faultNet) setHost(hostport string, id NodeID) {
	f.mu.Lock()
	f.hosts[hostport] = id
	f.mu.Unlock()
}

func (f *faultNet) reachableLocked(a, b NodeID) bool {
	if f.down[a] || f.down[b] {
		return false
	}
	return f.group[a] == f.group[b]
}

// Reachable reports whether a can reach b now.
func (f *faultNet) Reachable(a, b NodeID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reachableLocked(a, b)
}

// partition puts each group in its own partition; nodes in no group form
// the partition of the first group.
func (f *faultNet) partition(groups [][]NodeID) {
	f.mu.Lock()
	f.group = map[NodeID]int{}
	for gi, g := range groups {
		for _, n := range g {
			f.group[n] = gi
		}
	}
	f.cutLocked()
	f.mu.Unlock()
}

func (f *faultNet) heal() {
	f.mu.Lock()
	f.group = map[NodeID]int{}
	f.mu.Unlock()
}

func (f *faultNet) setDown(n NodeID, down bool) {
	f.mu.Lock()
	if down {
		f.down[n] = true
	} else {
		delete(f.down, n)
	}
	f.cutLocked()
	f.mu.Unlock()
}

// cutLocked cancels requests in flight over links that are now cut.
func (f *faultNet) cutLocked() {
	for r := range f.flight {
		if !f.reachableLocked(r.src, r.dst) {
			r.cancel(ErrCut)
		}
	}
}

// client returns an HTTP client whose requests come from src.
func (f *faultNet) client(src NodeID) *http.Client {
	return &http.Client{Transport: &faultTransport{net: f, src: src}}
}

// faultTransport is one source node's view of the network.
type faultTransport struct {
	net *faultNet
	src NodeID
}

var _ http.RoundTripper = (*faultTransport)(nil)

func (t *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f := t.net
	f.mu.Lock()
	f.sent[t.src]++
	dst, known := f.hosts[req.URL.Host]
	if !known {
		f.mu.Unlock()
		return nil, fmt.Errorf("%w: %s → unknown host %s", ErrCut, t.src, req.URL.Host)
	}
	if !f.reachableLocked(t.src, dst) {
		f.mu.Unlock()
		// Like a connection that cannot be made: the request never left.
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("%w: %s → %s", ErrCut, t.src, dst)}
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	fr := &flightReq{src: t.src, dst: dst, cancel: cancel}
	f.flight[fr] = struct{}{}
	f.mu.Unlock()
	done := func() {
		f.mu.Lock()
		delete(f.flight, fr)
		f.mu.Unlock()
		cancel(nil)
	}
	resp, err := f.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		done()
		if c := context.Cause(ctx); errors.Is(c, ErrCut) {
			return nil, fmt.Errorf("%w: %s → %s: %w", ErrCut, t.src, dst, err)
		}
		return nil, err
	}
	resp.Body = &doneBody{rc: resp.Body, done: done}
	return resp, nil
}

// doneBody unregisters a request once its body is closed.
type doneBody struct {
	rc   io.ReadCloser
	once sync.Once
	done func()
}

func (b *doneBody) Read(p []byte) (int, error) { return b.rc.Read(p) }

func (b *doneBody) Close() error {
	err := b.rc.Close()
	b.once.Do(b.done)
	return err
}

// sentBy returns how many requests src has made.
func (f *faultNet) sentBy(src NodeID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[src]
}

func (f *faultNet) close() { f.base.CloseIdleConnections() }
