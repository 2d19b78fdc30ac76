package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/hashicorp/raft"
)

// Read your writes. A write is acknowledged once the leader has applied
// it, so every acknowledged write is at or below the leader's applied
// index. A read sent to a follower first asks the leader for that index
// (raft's read-index idea: the leader confirms it still leads before it
// answers) and waits, bounded by readIndexWait, until its own state
// machine has applied as far; then it serves the read locally. If the
// leader cannot be asked, or the follower does not catch up in time, the
// read goes to the leader. The leader serves reads itself once it has
// applied the entries of the terms before its own (readyTerm, set after
// its leader loop's barrier) and confirmed it still leads. ?stale=1 opts
// out: the node answers from what it has, at once.

const (
	readIndexPath = "/v1/cluster/read-index"
	// readIndexWait bounds how long a follower waits to catch up.
	readIndexWait = 2 * time.Second
)

func (n *Node) readYourWrites(h http.HandlerFunc, w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get(api.StaleParam) == "1" {
		h(w, r)
		return
	}
	if n.raft.State() == raft.Leader {
		if err := n.leaderReady(); err != nil {
			writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, err.Error()+"; retry shortly, or read with ?stale=1")
			return
		}
		w.Header().Set(api.LeaderHeader, n.URL())
		h(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readIndexWait)
	defer cancel()
	idx, err := n.askReadIndex(ctx, r.Header.Get("Authorization"))
	if err == nil && n.waitApplied(ctx, idx) {
		h(w, r)
		return
	}
	n.log.Debug("read goes to the leader", "err", err, "applied", n.fsm.Index())
	n.forward(w, r)
}

// leaderReady confirms this node leads and has applied every entry of
// the earlier terms.
func (n *Node) leaderReady() error {
	if n.readyTerm.Load() != n.raft.CurrentTerm() {
		return fmt.Errorf("%w: this leader is still applying the log", ErrNoLeader)
	}
	if err := n.raft.VerifyLeader().Error(); err != nil {
		return fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	return nil
}

// handleReadIndex answers the leader's applied index (GET
// /v1/cluster/read-index, any token): 503 from a node that does not
// lead, or not yet.
func (n *Node) handleReadIndex(w http.ResponseWriter, _ *http.Request) {
	if n.raft.State() != raft.Leader {
		writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, n.cfg.NodeID+" is not the leader")
		return
	}
	if err := n.leaderReady(); err != nil {
		writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, api.ReadIndex{Index: n.fsm.Index()})
}

// askReadIndex asks the leader for its applied index, with the reader's
// own credentials.
func (n *Node) askReadIndex(ctx context.Context, authorization string) (uint64, error) {
	addr, err := n.leaderHTTP()
	if err != nil {
		return 0, err
	}
	u := (&url.URL{Scheme: n.scheme(), Host: addr, Path: readIndexPath}).String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", authorization)
	resp, err := n.proxyTransport.RoundTrip(req)
	if err != nil {
		return 0, fmt.Errorf("%w: read index: %v", ErrNoLeader, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: read index: leader answered %s", ErrNoLeader, resp.Status)
	}
	var ri api.ReadIndex
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<10)).Decode(&ri); err != nil {
		return 0, fmt.Errorf("%w: read index: %v", ErrNoLeader, err)
	}
	return ri.Index, nil
}

// waitApplied waits until the state machine has applied index, or ctx
// ends; it reports whether it got there.
func (n *Node) waitApplied(ctx context.Context, index uint64) bool {
	for {
		changed := n.fsm.Changed()
		if n.fsm.Index() >= index {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		case <-n.ctx.Done():
			return false
		}
	}
}
