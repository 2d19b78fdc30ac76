package coordinator

import (
	"net/http"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// How a node asks its cluster to record it: joinLoop when it starts
// without raft state, announceLoop when it restarts with another address.
// Both call POST /v1/cluster/join through coordinator/client with the
// admin token.

// joinClient returns a client for one coordinator URL whose calls are
// tried once: the loops here do their own backoff and move between URLs.
func (n *Node) joinClient(u string) (*client.Client, error) {
	return client.New([]string{u}, client.Options{Token: n.cfg.AdminToken, HTTPClient: n.cfg.HTTPClient, Attempts: 1})
}

// self is this node's join request.
func (n *Node) self() api.JoinRequest {
	return api.JoinRequest{ID: n.cfg.NodeID, RaftAddr: n.RaftAddr(), HTTPAddr: n.HTTPAddr()}
}

// announceLoop runs on a node restarted from its data dir: if the
// cluster has other addresses on record for it (it came back on another
// --http or --raft), it asks the leader, through its own API (which
// forwards), to record the new ones. A leader records itself.
func (n *Node) announceLoop() {
	req := n.self()
	self := fsm.NodeInfo{ID: req.ID, RaftAddr: req.RaftAddr, HTTPAddr: req.HTTPAddr}
	c, err := n.joinClient(n.URL())
	if err != nil {
		n.log.Error("announce", "err", err)
		return
	}
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
		var recorded *fsm.NodeInfo
		n.fsm.View(func(s *fsm.State) {
			if ni := s.Nodes[self.ID]; ni != nil {
				c := *ni
				recorded = &c
			}
		})
		if recorded != nil && *recorded == self {
			return
		}
		_, err := c.JoinCluster(n.ctx, req)
		switch status := client.StatusOf(err); {
		case err == nil:
			n.log.Info("announced new addresses", "http", self.HTTPAddr, "raft", self.RaftAddr)
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			n.log.Warn("cannot announce new addresses: the admin token was refused", "status", status)
			return
		}
	}
}

// joinLoop asks the configured coordinators to add this node until one
// does or the node closes.
func (n *Node) joinLoop() {
	req := n.self()
	type target struct {
		url string
		c   *client.Client
	}
	var targets []target
	for _, u := range n.cfg.Join {
		c, err := n.joinClient(u)
		if err != nil {
			n.log.Error("join", "url", u, "err", err)
			continue
		}
		targets = append(targets, target{u, c})
	}
	if len(targets) == 0 {
		return
	}
	backoff := 100 * time.Millisecond
	for {
		for _, t := range targets {
			_, err := t.c.JoinCluster(n.ctx, req)
			if err == nil {
				n.log.Info("joined cluster", "via", t.url)
				return
			}
			if status := client.StatusOf(err); status != 0 {
				n.log.Warn("join refused", "url", t.url, "status", status, "err", err)
			} else if n.ctx.Err() == nil {
				n.log.Warn("join", "url", t.url, "err", err)
			}
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}
