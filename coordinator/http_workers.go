package coordinator

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/fabgrid/fabgrid/hours"
)

// maxWait bounds a long-poll.
const maxWait = 60 * time.Second

func (n *Node) handleRegister(w http.ResponseWriter, r *http.Request) {
	var req api.RegisterRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.ID == "" {
		req.ID = newID("w-")
	}
	if req.State == "" {
		req.State = api.WorkerIdle
	}
	if len(req.ID) > 64 || len(req.Name) > 64 || req.Material == "" || len(req.Material) > 16 || len(req.Colour) > 32 ||
		!slices.Contains([]string{api.WorkerIdle, api.WorkerAwaitingBedClear, api.WorkerPaused}, req.State) ||
		req.BuildMM[0] <= 0 || req.BuildMM[1] <= 0 || req.BuildMM[2] <= 0 || req.NozzleMM < 0 || req.MaxJobHours < 0 {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest,
			"register needs a material, a positive build_mm [x,y,z] and a state of idle, awaiting-bed-clear or paused")
		return
	}
	if _, err := hours.LoadZone(req.Timezone); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "register: "+err.Error())
		return
	}
	if req.Name == "" {
		req.Name = req.ID
	}
	// Refused here, a registration under another token never reaches the
	// log (a worker with the wrong token retries for as long as it runs);
	// Apply decides the race of two first registrations.
	if _, _, ok := n.workerFor(w, r, req.ID); !ok {
		return
	}
	wk := fsm.Worker{
		ID: req.ID, Name: req.Name, Profile: req.Profile, BuildMM: req.BuildMM, NozzleMM: req.NozzleMM,
		Material: req.Material, Colour: req.Colour, Hours: req.Hours, Timezone: req.Timezone, MaxJobHours: req.MaxJobHours,
		GossipAddr: req.GossipAddr, Neighbourhood: req.Neighbourhood, State: req.State,
	}
	cmd := &fsm.WorkerCmd{Worker: wk, TokenHash: principalOf(r).tokenHash}
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdRegisterWorker, Worker: cmd}); err != nil {
		writeErr(w, err)
		return
	}
	n.contacts.seen(req.ID, n.clock.Now())
	n.Kick()
	writeJSON(w, http.StatusOK, api.RegisterResponse{
		WorkerID: req.ID, HeartbeatIntervalMS: n.cfg.HeartbeatInterval.Milliseconds(),
		LostAfterMS: n.cfg.LostAfter.Milliseconds(), Leader: n.cfg.NodeID,
	})
}

// Worker token binding on the HTTP side. Every call a worker makes for a
// worker id is checked against the binding (Worker.TokenHash) in this
// node — the leader's — view of the state before it touches anything:
// the lease table in the leader's memory (seen, setHeartbeat) is not in
// the log, so a stranger's call must not get that far. The commands these
// calls propose carry the caller's token hash and Apply checks it again,
// so a binding that changes between this look and the commit (a first
// registration, an admin's release) still decides. The long-poll proposes
// nothing; it checks the binding on each look at the state.

// boundElsewhere reports whether wk is bound to a token other than hash.
func boundElsewhere(wk *fsm.Worker, hash string) bool {
	return wk != nil && wk.TokenHash != "" && wk.TokenHash != hash
}

// workerFor returns worker id's replicated record, if known, after
// checking the caller's worker token against its binding; it writes 403
// worker_token_mismatch and returns ok false when the worker belongs to
// another token.
func (n *Node) workerFor(w http.ResponseWriter, r *http.Request, id string) (wk fsm.Worker, known, ok bool) {
	hash := principalOf(r).tokenHash
	ok = true
	n.fsm.View(func(s *fsm.State) {
		if p := s.Workers[id]; p != nil {
			wk, known, ok = *p, true, !boundElsewhere(p, hash)
		}
	})
	if !ok {
		writeErr(w, fmt.Errorf("%w: %q", ErrWorkerToken, id))
	}
	return wk, known, ok
}

// knownWorker returns the worker's replicated record, or writes 404 for
// an unknown worker and 403 for one bound to another token.
func (n *Node) knownWorker(w http.ResponseWriter, r *http.Request, id string) (fsm.Worker, bool) {
	wk, known, ok := n.workerFor(w, r, id)
	if !ok {
		return wk, false
	}
	if !known {
		writeError(w, http.StatusNotFound, api.CodeUnknownWorker, "unknown worker "+id+"; register again")
	}
	return wk, known
}

func (n *Node) handleHeartbeat(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req api.HeartbeatRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if !slices.Contains([]string{api.WorkerIdle, api.WorkerBusy, api.WorkerAwaitingBedClear, api.WorkerPaused}, req.State) {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "state must be idle, busy, awaiting-bed-clear or paused")
		return
	}
	wk, ok := n.knownWorker(w, r, id)
	if !ok {
		return
	}
	n.contacts.seen(id, n.clock.Now())
	n.contacts.setHeartbeat(id, n.clock.Now())
	if wk.State != req.State && !(wk.Job != "" && req.State == api.WorkerIdle) {
		cmd := &fsm.WorkerStateCmd{WorkerID: id, State: req.State, TokenHash: principalOf(r).tokenHash}
		if _, err := n.propose(&fsm.Command{Type: fsm.CmdWorkerState, WorkerState: cmd}); err != nil {
			writeErr(w, err)
			return
		}
		n.Kick()
	}
	writeJSON(w, http.StatusOK, api.OK{OK: true})
}

// assignmentFor returns the job assigned to worker id and not yet
// started, if any; mine is false when the worker is bound to a token
// other than hash.
func (n *Node) assignmentFor(id, hash string) (a api.Assignment, ok, mine bool) {
	mine = true
	n.fsm.View(func(s *fsm.State) {
		wk := s.Workers[id]
		if boundElsewhere(wk, hash) {
			mine = false
			return
		}
		if wk == nil || wk.Job == "" {
			return
		}
		j := s.Jobs[wk.Job]
		if j == nil || j.State != api.JobAssigned || j.WorkerID != id {
			return
		}
		o := s.Orders[j.OrderID]
		m := s.Models[o.ModelSHA256]
		a = api.Assignment{
			JobID: j.ID, OrderID: o.ID, Epoch: j.Epoch, ModelSHA256: o.ModelSHA256, Material: o.Material,
			Colour: o.Colour, LayerHeight: o.LayerHeight, Infill: o.Infill, LeaseMS: n.cfg.LostAfter.Milliseconds(),
		}
		if m != nil {
			a.ModelSize = m.Size
		}
		ok = true
	})
	return a, ok, mine
}

func (n *Node) handleAssignment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	wait := time.Duration(0)
	if s := r.URL.Query().Get(api.WaitParam); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, api.CodeBadRequest, "wait must be a duration like 25s")
			return
		}
		wait = min(d, maxWait)
	}
	if _, ok := n.knownWorker(w, r, id); !ok {
		return
	}
	hash := principalOf(r).tokenHash
	timer := time.NewTimer(wait)
	defer timer.Stop()
	// An open long-poll is contact: renew it while waiting, so a short
	// lost-after does not mark a waiting worker offline.
	alive := time.NewTicker(max(n.cfg.LostAfter/4, 50*time.Millisecond))
	defer alive.Stop()
	for {
		changed := n.fsm.Changed()
		a, ok, mine := n.assignmentFor(id, hash)
		if !mine {
			// An admin released the worker and another token bound it.
			writeErr(w, fmt.Errorf("%w: %q", ErrWorkerToken, id))
			return
		}
		n.contacts.seen(id, n.clock.Now())
		if ok {
			writeJSON(w, http.StatusOK, a)
			return
		}
		if !n.IsLeader() {
			writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, "this coordinator no longer leads; ask again")
			return
		}
		select {
		case <-changed:
		case <-alive.C:
		case <-timer.C:
			w.WriteHeader(http.StatusNoContent)
			return
		case <-r.Context().Done():
			return
		case <-n.ctx.Done():
			writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, "coordinator shutting down; ask another")
			return
		}
	}
}

func (n *Node) handleProgress(w http.ResponseWriter, r *http.Request) {
	var req api.ProgressRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if _, _, ok := n.workerFor(w, r, req.WorkerID); !ok {
		return
	}
	n.contacts.seen(req.WorkerID, n.clock.Now())
	cmd := &fsm.ProgressCmd{JobID: r.PathValue("id"), Report: req, TokenHash: principalOf(r).tokenHash}
	res, err := n.propose(&fsm.Command{Type: fsm.CmdProgress, Progress: cmd})
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ProgressResponse{Action: res.Action, Reason: res.Reason, Superseded: res.Superseded})
}

func (n *Node) handleResult(w http.ResponseWriter, r *http.Request) {
	var req api.ResultRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if _, _, ok := n.workerFor(w, r, req.WorkerID); !ok {
		return
	}
	n.contacts.seen(req.WorkerID, n.clock.Now())
	cmd := &fsm.ResultCmd{JobID: r.PathValue("id"), Result: req, MaxAttempts: n.cfg.MaxAttempts, TokenHash: principalOf(r).tokenHash}
	res, err := n.propose(&fsm.Command{Type: fsm.CmdResult, Result: cmd})
	if err != nil {
		writeErr(w, err)
		return
	}
	n.Kick()
	writeJSON(w, http.StatusOK, api.OK{OK: true, Duplicate: res.Duplicate})
}

func (n *Node) handleBedClear(w http.ResponseWriter, r *http.Request) {
	var req api.BedClearRequest
	if !decodeBody(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	if _, _, ok := n.workerFor(w, r, id); !ok {
		return
	}
	n.contacts.seen(id, n.clock.Now())
	cmd := &fsm.BedClearCmd{WorkerID: id, TokenHash: principalOf(r).tokenHash}
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdBedClear, BedClear: cmd}); err != nil {
		writeErr(w, err)
		return
	}
	n.Kick()
	writeJSON(w, http.StatusOK, api.OK{OK: true})
}

// handleRelease unbinds a worker from its token (admin): its next
// registration, with any worker token, binds it again. For a contributor
// whose token changed, or a printer that changed hands.
func (n *Node) handleRelease(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	known := false
	n.fsm.View(func(s *fsm.State) { known = s.Workers[id] != nil })
	if !known {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no worker "+id+" (see GET /v1/workers)")
		return
	}
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdReleaseWorker, Release: &fsm.ReleaseCmd{WorkerID: id}}); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.OK{OK: true})
}

// handleWorkers serves a page of the workers (pages.go).
func (n *Node) handleWorkers(w http.ResponseWriter, r *http.Request) {
	pg, err := parsePage(r, workerStates)
	if err != nil {
		writeErr(w, err)
		return
	}
	out := api.Workers{Workers: []api.Worker{}}
	n.fsm.View(func(s *fsm.State) {
		var ids []string
		ids, out.NextCursor = pageIDs(pg, s.Workers, func(_ string, wk *fsm.Worker) bool { return pg.wants(wk.State) })
		for _, id := range ids {
			wk := s.Workers[id]
			last := fsm.CommandTime(wk.Registered)
			if t, ok := n.contacts.heartbeat(id); ok && t.After(last) {
				last = t
			}
			out.Workers = append(out.Workers, api.Worker{
				ID: wk.ID, Name: wk.Name, Profile: wk.Profile, Material: wk.Material, Colour: wk.Colour,
				NozzleMM: wk.NozzleMM, BuildMM: wk.BuildMM, State: wk.State, Gossip: n.contacts.gossipView(id),
				LastHeartbeat: last.UTC(), Job: wk.Job, Successes: wk.Successes, Failures: wk.Failures,
			})
		}
	})
	writeJSON(w, http.StatusOK, out)
}
