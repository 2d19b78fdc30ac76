package coordinator

import (
	"context"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/fabgrid/fabgrid/scheduler"
	"github.com/hashicorp/raft"
)

// watchLeadership starts the leader's loops when this node gains
// leadership and stops them when it loses it.
func (n *Node) watchLeadership() {
	var (
		stop     func()
		wg       sync.WaitGroup
		leadTerm uint64
	)
	end := func() {
		if stop != nil {
			stop()
			wg.Wait()
			stop = nil
		}
	}
	defer end()
	check := time.NewTicker(n.cfg.TickInterval)
	defer check.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.raft.LeaderCh():
		case <-check.C:
		}
		leading := n.raft.State() == raft.Leader
		term := n.raft.CurrentTerm()
		if leading && stop != nil && term != leadTerm {
			// Lost and regained between two looks: a new term needs a
			// new barrier and fresh lease grace.
			end()
		}
		if leading && stop == nil {
			leadTerm = term
			ctx, cancel := context.WithCancel(n.ctx)
			stop = cancel
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.leaderLoop(ctx)
			}()
		} else if !leading && stop != nil {
			n.log.Info("lost leadership")
			end()
		}
	}
}

// leaderLoop runs while this node leads: a barrier first (so the FSM has
// every committed entry), then fresh lease grace, then placement and
// lease checks on every kick and tick.
func (n *Node) leaderLoop(ctx context.Context) {
	for {
		if err := n.raft.Barrier(n.cfg.ApplyTimeout).Error(); err == nil {
			break
		} else if n.raft.State() != raft.Leader {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(n.cfg.TickInterval):
		}
	}
	n.contacts.reset(n.clock.Now())
	term := n.raft.CurrentTerm()
	n.readyTerm.Store(term)
	n.log.Info("leading", "term", term)
	n.ensureSetup()
	tick := time.NewTicker(n.cfg.TickInterval)
	defer tick.Stop()
	for {
		n.placeOnce()
		n.checkLeases()
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		case <-tick.C:
		}
	}
}

// ensureSetup records this node's addresses and the configured tokens in
// the FSM if they are not there yet.
func (n *Node) ensureSetup() {
	var haveSelf, haveAdmin, haveWorker bool
	self := fsm.NodeInfo{ID: n.cfg.NodeID, RaftAddr: n.RaftAddr(), HTTPAddr: n.HTTPAddr()}
	n.fsm.View(func(s *fsm.State) {
		if ni := s.Nodes[self.ID]; ni != nil && *ni == self {
			haveSelf = true
		}
		haveAdmin = n.cfg.AdminToken == "" || s.AdminTokens[HashToken(n.cfg.AdminToken)]
		_, haveWorker = s.WorkerTokens[HashToken(n.cfg.WorkerToken)]
		haveWorker = haveWorker || n.cfg.WorkerToken == ""
	})
	if !haveAdmin {
		n.proposeLogged(&fsm.Command{Type: fsm.CmdAddAdminToken, Token: &fsm.TokenCmd{Hash: HashToken(n.cfg.AdminToken), Name: "admin"}})
	}
	if !haveWorker {
		n.proposeLogged(&fsm.Command{Type: fsm.CmdAddWorkerToken, Token: &fsm.TokenCmd{Hash: HashToken(n.cfg.WorkerToken), Name: fsm.GridTokenName}})
	}
	// Last, so that a node's address being known implies its tokens are.
	if !haveSelf {
		n.proposeLogged(&fsm.Command{Type: fsm.CmdSetNode, Node: &self})
	}
}

func (n *Node) proposeLogged(c *fsm.Command) fsm.ApplyResult {
	r, err := n.propose(c)
	if err != nil {
		n.log.Debug("proposal refused", "type", c.Type, "err", err)
	}
	return r
}

// placeOnce plans on a snapshot of the state and commits the placements;
// Apply re-checks each one, and anything skipped is re-planned at once
// (a bounded number of times; the tick catches the rest).
func (n *Node) placeOnce() {
	for range 3 {
		var snap *scheduler.Snapshot
		now := n.clock.Now()
		n.fsm.View(func(s *fsm.State) {
			if anyIdle(s) {
				snap = snapshotFor(s, now)
			}
		})
		if snap == nil || len(snap.Jobs) == 0 {
			return
		}
		plan := n.cfg.Placer.Place(snap)
		if len(plan.Placements) == 0 {
			return
		}
		cmd := &fsm.PlaceCmd{}
		for _, p := range plan.Placements {
			cmd.Placements = append(cmd.Placements, fsm.PlaceItem{JobID: p.JobID, WorkerID: p.WorkerID, EstSeconds: p.EstSeconds})
		}
		r, err := n.propose(&fsm.Command{Type: fsm.CmdPlace, Place: cmd})
		if err != nil {
			return
		}
		n.metrics.placements.Add(len(r.Placed))
		for _, p := range r.Placed {
			n.log.Debug("placed", "job", p.JobID, "printer", p.WorkerID, "epoch", p.Epoch)
		}
		if len(r.Placed) == len(cmd.Placements) {
			return
		}
	}
}

// checkLeases expires the leases of silent workers and marks silent idle
// workers offline.
func (n *Node) checkLeases() {
	var d leaseDecision
	now := n.clock.Now()
	n.fsm.View(func(s *fsm.State) { d = n.contacts.decide(s, now, n.cfg.LostAfter, n.cfg.MaxAttempts) })
	for i := range d.expire {
		l := d.expire[i]
		if _, err := n.propose(&fsm.Command{Type: fsm.CmdLeaseExpired, Lease: &l}); err == nil {
			n.log.Info("lease expired, job requeued", "job", l.JobID, "epoch", l.Epoch)
			n.metrics.leaseExpiries.Inc()
			n.Kick()
		}
	}
	for _, w := range d.offline {
		n.proposeLogged(&fsm.Command{Type: fsm.CmdWorkerState, WorkerState: &fsm.WorkerStateCmd{WorkerID: w, State: api.WorkerOffline}})
	}
}
