package fsm

import (
	"fmt"
	"slices"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/scheduler"
)

// DefaultMaxAttempts is how many printers may fail a copy before the copy
// fails for good.
const DefaultMaxAttempts = 3

// placeable re-checks a proposed placement against the current state at
// the command's time now (unix ns), with the scheduler's own feasibility
// rules (size, material, colour, nozzle, exclusions, the owner's maximum
// length, an idle printer): a plan made on an older snapshot commits
// only what still holds.
//
// It re-checks only what the replicated state alone decides. The owner's
// hours are read in the owner's zone with the system's time zone
// database, which two coordinators may hold in different versions: the
// leader checks them, with the same rules, when it plans (SchedPrinter),
// and Apply does not, so every replica commits the same placements.
// Under RulesV1 a window in UTC — every window of the logs written
// before zones — is re-checked still, as it needs no database.
func (s *State) placeable(it PlaceItem, now int64, rules int) (*Job, *Worker, bool) {
	j, w := s.Jobs[it.JobID], s.Workers[it.WorkerID]
	if j == nil || w == nil || j.State != api.JobPending || w.Job != "" {
		return nil, nil, false
	}
	o := s.Orders[j.OrderID]
	if o == nil {
		return nil, nil, false
	}
	sj, sp := SchedJob(s, o, j), schedPrinter(w, nil)
	if rules == RulesV1 && w.Timezone == "" {
		sp.Hours = parseHours(w.Hours, "")
	}
	if rules >= RulesLifecycle && (j.skipped(w.ID, now) || s.tokenFailed(j, w)) {
		return nil, nil, false
	}
	if scheduler.Feasible(&sj, &sp, now/int64(time.Second)) != "" {
		return nil, nil, false
	}
	return j, w, true
}

// applyPlace commits the placements that still hold and skips the rest;
// the leader's loop re-plans the skipped jobs.
func (s *State) applyPlace(now int64, p *PlaceCmd, rules int) []Placed {
	var placed []Placed
	for _, it := range p.Placements {
		j, w, ok := s.placeable(it, now, rules)
		if !ok {
			continue
		}
		s.Epoch++
		j.State, j.WorkerID, j.Epoch, j.Updated = api.JobAssigned, w.ID, s.Epoch, now
		j.Attempts++
		j.Progress = nil
		if it.EstSeconds > 0 {
			j.EstSeconds = it.EstSeconds
		}
		j.Assignments = append(j.Assignments, Assignment{WorkerID: w.ID, Epoch: s.Epoch})
		w.State, w.Job = api.WorkerBusy, j.ID
		if c := s.Communities[s.Orders[j.OrderID].Community]; c != nil && rules == RulesV1 {
			// RulesLifecycle charges printing time as it is used.
			c.UsedSeconds += j.EstSeconds
		}
		placed = append(placed, Placed{JobID: j.ID, WorkerID: w.ID, Epoch: s.Epoch})
	}
	return placed
}

// current reports whether (epoch, worker) is the job's present lease.
func (j *Job) current(epoch uint64, worker string) bool {
	return epoch == j.Epoch && worker == j.WorkerID && j.WorkerID != ""
}

func (s *State) applyProgress(now int64, p *ProgressCmd) (string, error) {
	if err := s.checkWorkerToken(p.Report.WorkerID, p.TokenHash); err != nil {
		return "", err
	}
	j := s.Jobs[p.JobID]
	if j == nil {
		return "", fmt.Errorf("%w: job %q", ErrNotFound, p.JobID)
	}
	r := p.Report
	if r.State != api.JobSlicing && r.State != api.JobPrinting {
		return "", badf("progress state %q", r.State)
	}
	if !j.current(r.Epoch, r.WorkerID) {
		return "", fmt.Errorf("%w: job %s is at epoch %d", ErrStaleEpoch, j.ID, j.Epoch)
	}
	if j.State == api.JobCancelled {
		return api.ActionCancel, nil
	}
	if !j.Active() {
		return "", fmt.Errorf("%w: job %s is %s", ErrStaleEpoch, j.ID, j.State)
	}
	j.State, j.Updated = r.State, now
	j.Progress = &api.Progress{Percent: r.Percent, Layer: r.Layer, Layers: r.Layers, HotendC: r.HotendC, BedC: r.BedC, ETAS: r.ETAS}
	if r.EstSeconds > 0 {
		j.EstSeconds = r.EstSeconds
	}
	if j.CancelRequested {
		return api.ActionCancel, nil
	}
	return api.ActionContinue, nil
}

// release frees a printer that held job j: a printer that was printing
// has something on its bed.
func (s *State) release(workerID string, j *Job, jobState string) {
	w := s.Workers[workerID]
	if w == nil || w.Job != j.ID {
		return
	}
	w.Job = ""
	if jobState == api.JobPrinting {
		w.State = api.WorkerAwaitingBedClear
	} else if w.State == api.WorkerBusy {
		w.State = api.WorkerIdle
	}
}

func (s *State) applyResult(now int64, rc *ResultCmd) (bool, error) {
	if err := s.checkWorkerToken(rc.Result.WorkerID, rc.TokenHash); err != nil {
		return false, err
	}
	j := s.Jobs[rc.JobID]
	if j == nil {
		return false, fmt.Errorf("%w: job %q", ErrNotFound, rc.JobID)
	}
	r := rc.Result
	switch r.Outcome {
	case api.OutcomeDone, api.OutcomeFailed, api.OutcomeRefused:
	default:
		return false, badf("outcome %q", r.Outcome)
	}
	if j.lease(r.WorkerID, r.Epoch) < 0 {
		return false, fmt.Errorf("%w: job %s was never leased to %s at epoch %d", ErrStaleEpoch, j.ID, r.WorkerID, r.Epoch)
	}
	if r.Outcome == api.OutcomeDone {
		return s.applyDone(now, j, r)
	}
	if !j.current(r.Epoch, r.WorkerID) {
		return false, fmt.Errorf("%w: job %s is at epoch %d", ErrStaleEpoch, j.ID, j.Epoch)
	}
	if !j.Active() {
		return true, nil
	}
	s.fail(now, j, r.WorkerID, r.Reason, r.Outcome == api.OutcomeRefused, rc.MaxAttempts)
	return false, nil
}

// applyDone counts the first done of a copy. A late done from an earlier
// lease still counts if the copy is not done yet; the duplicate lease is
// cancelled by bumping the job's epoch so its holder's next report is
// stale. A copy is never done twice.
func (s *State) applyDone(now int64, j *Job, r api.ResultRequest) (bool, error) {
	if j.State == api.JobDone || j.State == api.JobCancelled {
		if w := s.Workers[r.WorkerID]; w != nil && w.Job == j.ID {
			w.Job, w.State = "", api.WorkerAwaitingBedClear
		}
		return true, nil
	}
	if !j.current(r.Epoch, r.WorkerID) && j.Active() {
		// The copy was re-leased meanwhile: stop the other holder.
		s.release(j.WorkerID, j, j.State)
		s.Epoch++
		j.Epoch = s.Epoch
	}
	j.State, j.WorkerID, j.Updated, j.CancelRequested = api.JobDone, r.WorkerID, now, false
	s.recordDone(j, s.Workers[r.WorkerID])
	return false, nil
}

// recordDone finishes a job that job's printer w (nil if forgotten) has
// printed: w's success, its bed awaiting a clear (unless it has moved on
// to another job), the pickup place, the progress at 100 %, the order.
// The caller has set the job's state, holder and times.
func (s *State) recordDone(j *Job, w *Worker) {
	if w != nil {
		w.Successes++
		if w.Job == j.ID || w.Job == "" {
			w.Job, w.State = "", api.WorkerAwaitingBedClear
		}
		j.Pickup = w.Name
		if w.Neighbourhood != "" {
			j.Pickup += " (" + w.Neighbourhood + ")"
		}
	}
	if j.Progress != nil {
		// A new value, never an in-place change: snapshots share it.
		pp := *j.Progress
		pp.Percent = 100
		j.Progress = &pp
	}
	s.refreshOrder(s.Orders[j.OrderID])
}

// fail ends the job's present lease with a failure: the printer is
// excluded from the job, and the job goes back to pending unless it failed
// on maxAttempts printers already (then the copy fails with every reason).
// A refusal (RulesV1; RulesLifecycle refuses in refuse) excludes the
// printer without counting as a failed attempt.
func (s *State) fail(now int64, j *Job, workerID, reason string, refused bool, maxAttempts int) {
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	prev := j.State
	s.release(workerID, j, prev)
	j.WorkerID, j.Progress, j.Updated = "", nil, now
	if !slices.Contains(j.Excluded, workerID) {
		j.Excluded = append(j.Excluded, workerID)
	}
	if j.CancelRequested {
		j.State = api.JobCancelled
		s.refreshOrder(s.Orders[j.OrderID])
		return
	}
	if refused {
		reason = "refused: " + reason
		j.Attempts--
	} else if w := s.Workers[workerID]; w != nil {
		w.Failures++
	}
	j.Failures = append(j.Failures, api.Failure{Printer: workerID, Reason: reason})
	if j.Attempts >= maxAttempts {
		j.State = api.JobFailed
	} else {
		j.State = api.JobPending
	}
	s.refreshOrder(s.Orders[j.OrderID])
}

func (s *State) applyLease(now int64, l *LeaseCmd) error {
	j := s.Jobs[l.JobID]
	if j == nil {
		return fmt.Errorf("%w: job %q", ErrNotFound, l.JobID)
	}
	if !j.Active() || j.Epoch != l.Epoch {
		return fmt.Errorf("%w: job %s is at epoch %d", ErrStaleEpoch, j.ID, j.Epoch)
	}
	workerID := j.WorkerID
	s.fail(now, j, workerID, "lost: "+l.Reason, false, l.MaxAttempts)
	if w := s.Workers[workerID]; w != nil && w.Job == "" {
		w.State = api.WorkerOffline
	}
	return nil
}
