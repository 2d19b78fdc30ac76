package coordinator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/hashicorp/raft"
)

func (n *Node) handleHealth(w http.ResponseWriter, r *http.Request) {
	role := "follower"
	switch n.raft.State() {
	case raft.Leader:
		role = "leader"
	case raft.Candidate:
		role = "candidate"
	case raft.Shutdown:
		role = "shutdown"
	}
	h := api.Health{Status: "ok", Role: role, Warning: n.healthWarning()}
	if n.knownCaller(r) { // strangers learn no term to forge raft RPCs with (health.go)
		h.Node, h.Leader, h.Term = n.cfg.NodeID, n.Leader(), n.raft.CurrentTerm()
	}
	writeJSON(w, http.StatusOK, h)
}

// ClusterInfo describes the raft cluster as this node sees it.
func (n *Node) ClusterInfo() (api.Cluster, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return api.Cluster{}, fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	leader := n.Leader()
	c := api.Cluster{Leader: leader, Term: n.raft.CurrentTerm(), CommitIndex: n.raft.CommitIndex(), AppliedIndex: n.raft.AppliedIndex()}
	n.fsm.View(func(s *State) {
		for _, srv := range f.Configuration().Servers {
			cn := api.ClusterNode{ID: string(srv.ID), RaftAddr: string(srv.Address), Suffrage: strings.ToLower(srv.Suffrage.String()), Leader: string(srv.ID) == leader}
			if ni := s.Nodes[string(srv.ID)]; ni != nil {
				cn.HTTPAddr = ni.HTTPAddr
			}
			c.Nodes = append(c.Nodes, cn)
		}
	})
	return c, nil
}

func (n *Node) handleCluster(w http.ResponseWriter, _ *http.Request) {
	c, err := n.ClusterInfo()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (n *Node) handleJoin(w http.ResponseWriter, r *http.Request) {
	var req api.JoinRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.ID == "" || req.RaftAddr == "" || req.HTTPAddr == "" {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "join needs id, raft_addr and http_addr")
		return
	}
	if err := n.AddVoter(req.ID, req.RaftAddr, req.HTTPAddr); err != nil {
		writeErr(w, err)
		return
	}
	n.handleCluster(w, r)
}

// AddVoter adds a coordinator to the cluster (leader only) and records
// its HTTP address for forwarding.
func (n *Node) AddVoter(id, raftAddr, httpAddr string) error {
	if _, err := n.propose(&Command{Type: CmdSetNode, Node: &NodeInfo{ID: id, RaftAddr: raftAddr, HTTPAddr: httpAddr}}); err != nil {
		return err
	}
	if err := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, n.cfg.ApplyTimeout).Error(); err != nil {
		return fmt.Errorf("%w: add voter: %v", ErrNoLeader, err)
	}
	return nil
}

func (n *Node) handleRemove(w http.ResponseWriter, r *http.Request) {
	var req api.RemoveRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.ID == "" {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "remove needs the node's id")
		return
	}
	if err := n.raft.RemoveServer(raft.ServerID(req.ID), 0, n.cfg.ApplyTimeout).Error(); err != nil {
		writeErr(w, fmt.Errorf("%w: remove: %v", ErrNoLeader, err))
		return
	}
	n.proposeLogged(&Command{Type: CmdRemoveNode, Node: &NodeInfo{ID: req.ID}})
	n.handleCluster(w, r)
}

func (n *Node) handleTransfer(w http.ResponseWriter, r *http.Request) {
	var req api.TransferRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var f raft.Future
	if req.ID == "" {
		f = n.raft.LeadershipTransfer()
	} else {
		var addr raft.ServerAddress
		cf := n.raft.GetConfiguration()
		if cf.Error() == nil {
			for _, s := range cf.Configuration().Servers {
				if string(s.ID) == req.ID {
					addr = s.Address
				}
			}
		}
		if addr == "" {
			writeError(w, http.StatusNotFound, api.CodeNotFound, "no coordinator "+req.ID+" in the cluster")
			return
		}
		f = n.raft.LeadershipTransferToServer(raft.ServerID(req.ID), addr)
	}
	if err := f.Error(); err != nil {
		writeErr(w, fmt.Errorf("%w: transfer: %v", ErrNoLeader, err))
		return
	}
	n.handleCluster(w, r)
}

func (n *Node) handleCreateCommunity(w http.ResponseWriter, r *http.Request) {
	var req api.CommunityRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if !validName(req.Name) || req.Weight < 0 || req.Weight > 1000 {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "a community needs a name of 1–64 letters, digits, '-' or '_' and a weight between 0 and 1000")
		return
	}
	tok := NewToken(api.CommunityTokenPrefix)
	c := &CommunityCmd{Name: req.Name, Weight: req.Weight, TokenHash: HashToken(tok)}
	if _, err := n.propose(&Command{Type: CmdCreateCommunity, Community: c}); err != nil {
		writeErr(w, err)
		return
	}
	weight := req.Weight
	if weight == 0 {
		weight = 1
	}
	writeJSON(w, http.StatusCreated, api.CommunityCreated{Name: req.Name, Weight: weight, Token: tok})
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (n *Node) handleCommunities(w http.ResponseWriter, _ *http.Request) {
	out := api.Communities{Communities: []api.Community{}}
	n.fsm.View(func(s *State) {
		count := map[string]int{}
		for _, o := range s.Orders {
			count[o.Community]++
		}
		for _, name := range sortedKeys(s.Communities) {
			c := s.Communities[name]
			out.Communities = append(out.Communities, api.Community{Name: c.Name, Weight: c.Weight, Orders: count[name]})
		}
	})
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleWorkerToken(w http.ResponseWriter, r *http.Request) {
	var req api.WorkerTokenRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if !validName(req.Name) {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "a worker token needs a name of 1–64 letters, digits, '-' or '_'")
		return
	}
	tok := NewToken(api.WorkerTokenPrefix)
	if _, err := n.propose(&Command{Type: CmdAddWorkerToken, Token: &TokenCmd{Hash: HashToken(tok), Name: req.Name}}); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.WorkerTokenCreated{Token: tok})
}

// announceLoop runs on a node restarted from its data dir: if the
// cluster has other addresses on record for it (it came back on another
// --http or --raft), it asks the leader, through its own API (which
// forwards), to record the new ones. A leader records itself.
func (n *Node) announceLoop() {
	self := NodeInfo{ID: n.cfg.NodeID, RaftAddr: n.RaftAddr(), HTTPAddr: n.HTTPAddr()}
	body, _ := json.Marshal(api.JoinRequest{ID: self.ID, RaftAddr: self.RaftAddr, HTTPAddr: self.HTTPAddr})
	tick := time.NewTicker(max(n.cfg.TickInterval, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		}
		if n.IsLeader() || n.Leader() == "" {
			continue
		}
		var recorded *NodeInfo
		n.fsm.View(func(s *State) {
			if ni := s.Nodes[self.ID]; ni != nil {
				c := *ni
				recorded = &c
			}
		})
		if recorded != nil && *recorded == self {
			return
		}
		req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, n.URL()+"/v1/cluster/join", bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+n.cfg.AdminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := n.cfg.HTTPClient.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			n.log.Info("announced new addresses", "http", self.HTTPAddr, "raft", self.RaftAddr)
		case http.StatusUnauthorized, http.StatusForbidden:
			n.log.Warn("cannot announce new addresses: the admin token was refused", "status", resp.StatusCode)
			return
		}
	}
}

// joinLoop asks the configured coordinators to add this node until one
// does or the node closes.
func (n *Node) joinLoop() {
	body, _ := json.Marshal(api.JoinRequest{ID: n.cfg.NodeID, RaftAddr: n.RaftAddr(), HTTPAddr: n.HTTPAddr()})
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		for _, u := range n.cfg.Join {
			req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, strings.TrimRight(u, "/")+"/v1/cluster/join", bytes.NewReader(body))
			if err != nil {
				n.log.Error("join", "url", u, "err", err)
				continue
			}
			req.Header.Set("Authorization", "Bearer "+n.cfg.AdminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := n.cfg.HTTPClient.Do(req)
			if err != nil {
				n.log.Warn("join", "url", u, "err", err)
				continue
			}
			var e api.Error
			_ = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				n.log.Info("joined cluster", "via", u)
				return
			}
			n.log.Warn("join refused", "url", u, "status", resp.StatusCode, "err", e.Error)
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}
