package coordinator

import (
	"net/http"
	"slices"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
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
	if req.Name == "" {
		req.Name = req.ID
	}
	wk := Worker{
		ID: req.ID, Name: req.Name, Profile: req.Profile, BuildMM: req.BuildMM, NozzleMM: req.NozzleMM,
		Material: req.Material, Colour: req.Colour, Hours: req.Hours, MaxJobHours: req.MaxJobHours,
		GossipAddr: req.GossipAddr, Neighbourhood: req.Neighbourhood, State: req.State,
	}
	if _, err := n.propose(&Command{Type: CmdRegisterWorker, Worker: &WorkerCmd{Worker: wk}}); err != nil {
		writeErr(w, err)
		return
	}
	n.leases.seen(req.ID, n.clock.Now())
	n.Kick()
	writeJSON(w, http.StatusOK, api.RegisterResponse{
		WorkerID: req.ID, HeartbeatIntervalMS: n.cfg.HeartbeatInterval.Milliseconds(),
		LostAfterMS: n.cfg.LostAfter.Milliseconds(), Leader: n.cfg.NodeID,
	})
}

// knownWorker returns the worker's replicated record, or writes 404.
func (n *Node) knownWorker(w http.ResponseWriter, id string) (Worker, bool) {
	var (
		wk Worker
		ok bool
	)
	n.fsm.View(func(s *State) {
		if p := s.Workers[id]; p != nil {
			wk, ok = *p, true
		}
	})
	if !ok {
		writeError(w, http.StatusNotFound, api.CodeUnknownWorker, "unknown worker "+id+"; register again")
	}
	return wk, ok
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
	wk, ok := n.knownWorker(w, id)
	if !ok {
		return
	}
	n.leases.seen(id, n.clock.Now())
	n.leases.setHeartbeat(id, n.clock.Now())
	if wk.State != req.State && !(wk.Job != "" && req.State == api.WorkerIdle) {
		if _, err := n.propose(&Command{Type: CmdWorkerState, WorkerState: &WorkerStateCmd{WorkerID: id, State: req.State}}); err != nil {
			writeErr(w, err)
			return
		}
		n.Kick()
	}
	writeJSON(w, http.StatusOK, api.OK{OK: true})
}

// assignmentFor returns the job assigned to worker id and not yet
// started, if any.
func (n *Node) assignmentFor(id string) (api.Assignment, bool) {
	var (
		a  api.Assignment
		ok bool
	)
	n.fsm.View(func(s *State) {
		wk := s.Workers[id]
		if wk == nil || wk.Job == "" {
			return
		}
		j := s.Jobs[wk.Job]
		if j == nil || j.State != api.JobAssigned || j.Printer != id {
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
	return a, ok
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
	if _, ok := n.knownWorker(w, id); !ok {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	// An open long-poll is contact: renew it while waiting, so a short
	// lost-after does not mark a waiting worker offline.
	alive := time.NewTicker(max(n.cfg.LostAfter/4, 50*time.Millisecond))
	defer alive.Stop()
	for {
		n.leases.seen(id, n.clock.Now())
		changed := n.fsm.Changed()
		if a, ok := n.assignmentFor(id); ok {
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
	n.leases.seen(req.WorkerID, n.clock.Now())
	res, err := n.propose(&Command{Type: CmdProgress, Progress: &ProgressCmd{JobID: r.PathValue("id"), Report: req}})
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ProgressResponse{Action: res.Action})
}

func (n *Node) handleResult(w http.ResponseWriter, r *http.Request) {
	var req api.ResultRequest
	if !decodeBody(w, r, &req) {
		return
	}
	n.leases.seen(req.WorkerID, n.clock.Now())
	res, err := n.propose(&Command{Type: CmdResult, Result: &ResultCmd{JobID: r.PathValue("id"), Result: req, MaxAttempts: n.cfg.MaxAttempts}})
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
	n.leases.seen(id, n.clock.Now())
	if _, err := n.propose(&Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: id}}); err != nil {
		writeErr(w, err)
		return
	}
	n.Kick()
	writeJSON(w, http.StatusOK, api.OK{OK: true})
}

func (n *Node) handleWorkers(w http.ResponseWriter, _ *http.Request) {
	out := api.Workers{Workers: []api.Worker{}}
	n.fsm.View(func(s *State) {
		for _, id := range sortedKeys(s.Workers) {
			wk := s.Workers[id]
			last := nsToTime(wk.Registered)
			if t, ok := n.leases.heartbeat(id); ok && t.After(last) {
				last = t
			}
			out.Workers = append(out.Workers, api.Worker{
				ID: wk.ID, Name: wk.Name, Profile: wk.Profile, Material: wk.Material, Colour: wk.Colour,
				NozzleMM: wk.NozzleMM, BuildMM: wk.BuildMM, State: wk.State, Gossip: n.leases.gossipView(id),
				LastHeartbeat: last.UTC(), Job: wk.Job, Successes: wk.Successes, Failures: wk.Failures,
			})
		}
	})
	writeJSON(w, http.StatusOK, out)
}
