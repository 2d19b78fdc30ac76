package coordinator

// The cluster's own API: health, the raft configuration, and adding,
// removing and promoting coordinators. The other admin calls are
// http_admin.go; how a node asks to be added is join.go.

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
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
	n.fsm.View(func(s *fsm.State) {
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
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdSetNode, Node: &fsm.NodeInfo{ID: id, RaftAddr: raftAddr, HTTPAddr: httpAddr}}); err != nil {
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
	n.proposeLogged(&fsm.Command{Type: fsm.CmdRemoveNode, Node: &fsm.NodeInfo{ID: req.ID}})
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
