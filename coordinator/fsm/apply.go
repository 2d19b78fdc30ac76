package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// ApplyResult is what applying one command returns to its proposer.
type ApplyResult struct {
	Err error
	// Duplicate marks a late result that was already counted.
	Duplicate bool
	// Action answers a progress report; Reason says why it is cancel,
	// and Superseded marks a cancel for a lease that is no longer the
	// present one (lifecycle.go).
	Action     string
	Reason     string
	Superseded bool
	// OrderID is the order a submission with a known request_id made
	// earlier (the submission itself changed nothing).
	OrderID string
	// Placed lists the placements that held, with their epochs.
	Placed []Placed
}

// Placed is one placement that was committed.
type Placed struct {
	JobID, WorkerID string
	Epoch           uint64
}

// apply applies one decoded command. It validates fully before mutating,
// so a command that fails changes nothing.
func (s *State) apply(c *Command) ApplyResult {
	var err error
	r := ApplyResult{}
	switch c.Type {
	case CmdAddAdminToken:
		err = s.applyAdminToken(c.Token)
	case CmdAddWorkerToken:
		err = s.applyWorkerToken(c.Token)
	case CmdWorkerTokenLimit:
		err = s.applyWorkerTokenLimit(c.Token)
	case CmdCreateCommunity:
		err = s.applyCommunity(c.Time, c.Community)
	case CmdSubmitOrder:
		r.OrderID, err = s.applyOrder(c.Time, c.Order, c.ModelBytes)
	case CmdCancelOrder:
		err = s.applyCancel(c.Time, c.Cancel)
	case CmdRegisterWorker:
		err = s.applyRegister(c.Time, c.Worker, c.Rules)
	case CmdWorkerState:
		err = s.applyWorkerState(c.WorkerState)
	case CmdPlace:
		r.Placed = s.applyPlace(c.Time, c.Place, c.Rules)
	case CmdProgress:
		if c.Rules >= RulesLifecycle {
			err = s.progressLifecycle(c.Time, c.Progress, &r)
		} else {
			r.Action, err = s.applyProgress(c.Time, c.Progress)
		}
	case CmdResult:
		if c.Rules >= RulesLifecycle {
			r.Duplicate, err = s.resultLifecycle(c.Time, c.Result)
		} else {
			r.Duplicate, err = s.applyResult(c.Time, c.Result)
		}
	case CmdLeaseExpired:
		if c.Rules >= RulesLifecycle {
			err = s.leaseLifecycle(c.Time, c.Lease)
		} else {
			err = s.applyLease(c.Time, c.Lease)
		}
	case CmdBedClear:
		err = s.applyBedClear(c.BedClear)
	case CmdModelChunk:
		err = s.applyChunk(c.Time, c.Chunk, c.ModelBytes)
	case CmdSetNode:
		err = s.applySetNode(c.Node)
	case CmdRemoveNode:
		delete(s.Nodes, c.Node.ID)
	case CmdReleaseWorker:
		err = s.applyRelease(c.Release)
	default:
		err = fmt.Errorf("%w: unknown type %q", ErrBadCommand, c.Type)
	}
	r.Err = err
	return r
}

func badf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadCommand}, a...)...)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *State) applyAdminToken(t *TokenCmd) error {
	if !validHash(t.Hash) {
		return badf("token hash")
	}
	s.AdminTokens[t.Hash] = true
	return nil
}

func (s *State) applyWorkerToken(t *TokenCmd) error {
	if !validHash(t.Hash) {
		return badf("token hash")
	}
	if t.MaxWorkers < 0 {
		return badf("max workers %d", t.MaxWorkers)
	}
	s.WorkerTokens[t.Hash] = t.Name
	if t.MaxWorkers > 0 {
		s.WorkerTokenLimits[t.Hash] = t.MaxWorkers
	}
	return nil
}

func (s *State) applyWorkerTokenLimit(t *TokenCmd) error {
	if _, ok := s.WorkerTokens[t.Hash]; !ok {
		return fmt.Errorf("%w: worker token", ErrNotFound)
	}
	if t.MaxWorkers < 1 {
		return badf("max workers %d: at least 1", t.MaxWorkers)
	}
	s.WorkerTokenLimits[t.Hash] = t.MaxWorkers
	return nil
}

func (s *State) applyCommunity(now int64, c *CommunityCmd) error {
	if c.Name == "" || !validHash(c.TokenHash) || c.Weight < 0 {
		return badf("community")
	}
	if _, ok := s.Communities[c.Name]; ok {
		return fmt.Errorf("%w: community %q exists", ErrConflict, c.Name)
	}
	w := c.Weight
	if w == 0 {
		w = 1
	}
	s.Communities[c.Name] = &Community{Name: c.Name, Weight: w, TokenHash: c.TokenHash, Created: now}
	return nil
}

func (s *State) applyOrder(now int64, oc *OrderCmd, model []byte) (string, error) {
	o := oc.Order
	reqKey := o.Community + "/" + o.RequestID
	if prev := s.Requests[reqKey]; o.RequestID != "" && prev != "" {
		return prev, nil // a retry: the first attempt's order stands
	}
	if o.ID == "" || s.Orders[o.ID] != nil {
		return "", fmt.Errorf("%w: order id %q", ErrConflict, o.ID)
	}
	if s.Communities[o.Community] == nil {
		return "", badf("unknown community %q", o.Community)
	}
	if o.Quantity < 1 || o.Quantity > 1000 || o.Material == "" {
		return "", badf("order fields")
	}
	m := oc.Model
	if !validHash(m.SHA256) || m.SHA256 != o.ModelSHA256 {
		return "", badf("model hash")
	}
	stored := s.Models[m.SHA256]
	if stored == nil {
		if model == nil || int64(len(model)) != m.Size || sha256Hex(model) != m.SHA256 {
			return "", badf("model bytes missing or not matching their hash")
		}
		s.putModel(m.SHA256, model)
		mm := m
		s.Models[m.SHA256] = &mm
	}
	o.State = api.OrderOpen
	o.Created = now
	o.JobIDs = make([]string, o.Quantity)
	for i := range o.Quantity {
		id := fmt.Sprintf("%s-%d", o.ID, i+1)
		o.JobIDs[i] = id
		s.Jobs[id] = &Job{ID: id, OrderID: o.ID, Copy: i + 1, State: api.JobPending, Updated: now}
	}
	s.Orders[o.ID] = &o
	if o.RequestID != "" {
		s.Requests[reqKey] = o.ID
	}
	return "", nil
}

func (s *State) applyCancel(now int64, c *CancelCmd) error {
	o := s.Orders[c.OrderID]
	if o == nil {
		return fmt.Errorf("%w: order %q", ErrNotFound, c.OrderID)
	}
	for _, j := range s.OrderJobs(o) {
		switch {
		case j.State == api.JobPending:
			j.State = api.JobCancelled
			j.Updated = now
		case j.Active():
			j.CancelRequested = true
			j.Updated = now
		}
	}
	s.refreshOrder(o)
	return nil
}

var workerStates = []string{api.WorkerIdle, api.WorkerBusy, api.WorkerAwaitingBedClear, api.WorkerPaused, api.WorkerOffline}

// checkWorkerToken refuses a worker's call made with a token (hash)
// other than the one the worker is bound to. A command without a hash
// (the leader's own, or one logged before workers were bound), an unknown
// worker and an unbound one pass: the command's own checks decide those.
func (s *State) checkWorkerToken(workerID, hash string) error {
	if hash == "" {
		return nil
	}
	if w := s.Workers[workerID]; w != nil && w.TokenHash != "" && w.TokenHash != hash {
		return fmt.Errorf("%w: %q", ErrWorkerToken, workerID)
	}
	return nil
}

// applyRegister records a worker. The first registration binds the
// worker id to the token that made it; a registration with another token
// (or, once bound, with none) is refused and changes nothing. A worker
// without a binding — registered before workers were bound to tokens,
// from an older snapshot or log, or released by an admin — is bound by
// its next registration; an entry without a hash (an old log's) leaves
// it unbound, as it was.
func (s *State) applyRegister(now int64, wc *WorkerCmd, rules int) error {
	w := wc.Worker
	if w.ID == "" || w.Material == "" || !slices.Contains(workerStates, w.State) {
		return badf("worker fields")
	}
	if wc.TokenHash != "" && !validHash(wc.TokenHash) {
		return badf("token hash")
	}
	old := s.Workers[w.ID]
	if old != nil && old.TokenHash != "" && wc.TokenHash != old.TokenHash {
		return fmt.Errorf("%w: %q", ErrWorkerToken, w.ID)
	}
	if rules >= RulesLifecycle && wc.TokenHash != "" && (old == nil || old.TokenHash == "") {
		if err := s.tokenHasRoom(wc.TokenHash); err != nil {
			return err
		}
	}
	w.TokenHash = wc.TokenHash
	if old != nil {
		w.Successes, w.Failures, w.Job = old.Successes, old.Failures, old.Job
		// A worker that re-registers while the log still gives it a job
		// keeps the job until it reports or its lease runs out.
		if w.Job != "" && w.State == api.WorkerIdle {
			w.State = api.WorkerBusy
		}
	}
	w.Registered = now
	s.Workers[w.ID] = &w
	return nil
}

func (s *State) applyWorkerState(c *WorkerStateCmd) error {
	w := s.Workers[c.WorkerID]
	if w == nil {
		return fmt.Errorf("%w: %q", ErrUnknownWorker, c.WorkerID)
	}
	if err := s.checkWorkerToken(c.WorkerID, c.TokenHash); err != nil {
		return err
	}
	if !slices.Contains(workerStates, c.State) {
		return badf("worker state %q", c.State)
	}
	if w.Job != "" && (c.State == api.WorkerIdle) {
		// A worker holding a job is busy whatever it says.
		return nil
	}
	w.State = c.State
	return nil
}

func (s *State) applyBedClear(c *BedClearCmd) error {
	w := s.Workers[c.WorkerID]
	if w == nil {
		return fmt.Errorf("%w: %q", ErrUnknownWorker, c.WorkerID)
	}
	if err := s.checkWorkerToken(c.WorkerID, c.TokenHash); err != nil {
		return err
	}
	if w.State == api.WorkerAwaitingBedClear || w.State == api.WorkerOffline {
		w.State = api.WorkerIdle
	}
	return nil
}

// applyRelease unbinds a worker from its token; its next registration
// binds it again. Releasing an unbound worker changes nothing.
func (s *State) applyRelease(c *ReleaseCmd) error {
	w := s.Workers[c.WorkerID]
	if w == nil {
		return fmt.Errorf("%w: %q", ErrUnknownWorker, c.WorkerID)
	}
	w.TokenHash = ""
	return nil
}

func (s *State) applySetNode(n *NodeInfo) error {
	if n.ID == "" || n.RaftAddr == "" {
		return badf("node fields")
	}
	nn := *n
	s.Nodes[n.ID] = &nn
	return nil
}

// CommandTime converts a command timestamp (Command.Time, and the times
// records keep from it) to a time.
func CommandTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
