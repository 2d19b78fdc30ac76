package fsm

import (
	"fmt"
	"math"
	"slices"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// The job lifecycle under RulesLifecycle. A job's leases are its
// Assignments; the present one is (Job.WorkerID, Job.Epoch) while the job
// is active. Every lease ends with one outcome, recorded on its
// Assignment: the holder's result, taken once. After that nothing more
// is taken for that lease — a replayed or contradicting result and any
// further progress are refused with ErrStaleEpoch — except the same
// result again, which is answered as a duplicate so a worker's retry is
// idempotent.
//
// A holder whose lease is no longer the present one (the copy was done
// under another lease, the lease expired, or it passed to another
// printer) is superseded: its progress is answered with cancel and the
// reason, and nothing in the job changes. Its printer stays its own
// until it reports how its print ended (or goes silent, LeaseCmd with
// WorkerID): a late done elsewhere never frees a printer that is still
// printing.

// lease returns the index of (worker, epoch) among j's assignments, or -1.
func (j *Job) lease(worker string, epoch uint64) int {
	for i, a := range j.Assignments {
		if a.WorkerID == worker && a.Epoch == epoch {
			return i
		}
	}
	return -1
}

// setLease changes assignment i. It replaces the slice, never an element
// in place: snapshots share it (State.clone).
func (j *Job) setLease(i int, fn func(a *Assignment)) {
	as := slices.Clone(j.Assignments)
	fn(&as[i])
	j.Assignments = as
}

// superseded says why lease a of j is not the present one, or "".
func (s *State) superseded(j *Job, a Assignment) string {
	switch {
	case j.State == api.JobDone:
		return fmt.Sprintf("copy %s was done by %s", j.ID, j.WorkerID)
	case j.State == api.JobCancelled:
		return "order " + j.OrderID + " was cancelled"
	case j.State == api.JobFailed:
		return fmt.Sprintf("copy %s failed for good", j.ID)
	case j.Active() && j.current(a.Epoch, a.WorkerID):
		return ""
	case j.Active():
		return fmt.Sprintf("the lease of copy %s passed to %s at epoch %d", j.ID, j.WorkerID, j.Epoch)
	}
	return fmt.Sprintf("the lease of copy %s at epoch %d expired and the copy was requeued", j.ID, a.Epoch)
}

func (s *State) progressLifecycle(now int64, p *ProgressCmd, res *ApplyResult) error {
	if err := s.checkWorkerToken(p.Report.WorkerID, p.TokenHash); err != nil {
		return err
	}
	j := s.Jobs[p.JobID]
	if j == nil {
		return fmt.Errorf("%w: job %q", ErrNotFound, p.JobID)
	}
	r := p.Report
	if r.State != api.JobSlicing && r.State != api.JobPrinting {
		return badf("progress state %q", r.State)
	}
	i := j.lease(r.WorkerID, r.Epoch)
	if i < 0 {
		return fmt.Errorf("%w: job %s was never leased to %s at epoch %d", ErrStaleEpoch, j.ID, r.WorkerID, r.Epoch)
	}
	a := j.Assignments[i]
	if a.Outcome != "" {
		return fmt.Errorf("%w: job %s at epoch %d ended %s already", ErrStaleEpoch, j.ID, r.Epoch, a.Outcome)
	}
	if why := s.superseded(j, a); why != "" {
		res.Action, res.Reason, res.Superseded = api.ActionCancel, why, true
		return nil
	}
	j.State = r.State
	if !r.Stalled {
		// Only the holder's own live reports renew the lease.
		j.Updated = now
	}
	j.Progress = &api.Progress{Percent: r.Percent, Layer: r.Layer, Layers: r.Layers, HotendC: r.HotendC, BedC: r.BedC, ETAS: r.ETAS, Stalled: r.Stalled}
	if r.EstSeconds > 0 {
		j.EstSeconds = r.EstSeconds
	}
	if r.State == api.JobPrinting {
		if !a.Printed {
			j.setLease(i, func(a *Assignment) { a.Printed = true })
		}
		if j.PrintStarted == 0 {
			j.PrintStarted = now
		}
		s.charge(j, j.EstSeconds)
	}
	if j.CancelRequested {
		res.Action, res.Reason = api.ActionCancel, "order "+j.OrderID+" was cancelled"
		return nil
	}
	res.Action = api.ActionContinue
	return nil
}

func (s *State) resultLifecycle(now int64, rc *ResultCmd) (bool, error) {
	if err := s.checkWorkerToken(rc.Result.WorkerID, rc.TokenHash); err != nil {
		return false, err
	}
	j := s.Jobs[rc.JobID]
	if j == nil {
		return false, fmt.Errorf("%w: job %q", ErrNotFound, rc.JobID)
	}
	r := rc.Result
	switch r.Outcome {
	case api.OutcomeDone, api.OutcomeFailed, api.OutcomeRefused, api.OutcomeSuperseded:
	default:
		return false, badf("outcome %q", r.Outcome)
	}
	switch r.Refusal {
	case "", api.RefusalTemporary, api.RefusalPermanent:
	default:
		return false, badf("refusal kind %q", r.Refusal)
	}
	i := j.lease(r.WorkerID, r.Epoch)
	if i < 0 {
		return false, fmt.Errorf("%w: job %s was never leased to %s at epoch %d", ErrStaleEpoch, j.ID, r.WorkerID, r.Epoch)
	}
	a := j.Assignments[i]
	if a.Outcome == r.Outcome {
		return true, nil // the same result again: a retry
	}
	if a.Outcome != "" {
		return false, fmt.Errorf("%w: job %s at epoch %d ended %s already", ErrStaleEpoch, j.ID, r.Epoch, a.Outcome)
	}
	current := j.Active() && j.current(r.Epoch, r.WorkerID)
	j.setLease(i, func(a *Assignment) { a.Outcome = r.Outcome })
	if r.Outcome == api.OutcomeDone {
		return s.doneLifecycle(now, j, r, current), nil
	}
	if !current {
		// A superseded or lost lease says how its print ended: its
		// printer is free again; the copy is not touched.
		s.freeHolder(j, r.WorkerID, a.Printed)
		return false, nil
	}
	if r.Outcome == api.OutcomeRefused {
		backoff := rc.BackoffNS
		if backoff <= 0 {
			backoff = DefaultRefusalBackoff
		}
		s.refuse(now, j, r, backoff)
		return false, nil
	}
	s.settleCharge(j, now, r.PrintedS)
	s.failLifecycle(now, j, r.WorkerID, r.Reason, rc.MaxAttempts)
	return false, nil
}

// freeHolder frees the printer of a lease that is over, if it still holds
// j: awaiting a bed clear if it printed.
func (s *State) freeHolder(j *Job, workerID string, printed bool) {
	w := s.Workers[workerID]
	if w == nil || w.Job != j.ID {
		return
	}
	w.Job = ""
	if printed {
		w.State = api.WorkerAwaitingBedClear
	} else if w.State == api.WorkerBusy {
		w.State = api.WorkerIdle
	}
}

// doneLifecycle counts a done unless the copy is counted (or cancelled)
// already. A done from a lease that is not the present one (late) counts
// the copy too, but leaves the present holder's printer alone: that
// holder is told to cancel at its next report and frees its printer by
// reporting how it stopped.
func (s *State) doneLifecycle(now int64, j *Job, r api.ResultRequest, current bool) bool {
	w := s.Workers[r.WorkerID]
	if j.State == api.JobDone || j.State == api.JobCancelled {
		s.freeHolder(j, r.WorkerID, true)
		return true
	}
	if current {
		s.settleCharge(j, now, r.PrintedS)
	} else if !j.Active() {
		// Nobody else holds it: charge the late print its estimate.
		s.charge(j, j.EstSeconds)
		j.PrintStarted, j.Charged = 0, 0
	}
	j.State, j.WorkerID, j.Epoch, j.Updated, j.CancelRequested, j.Waiting = api.JobDone, r.WorkerID, r.Epoch, now, false, ""
	s.recordDone(j, w)
	return false
}

// refuse ends the present lease with its holder's refusal. It uses up
// no attempt (the placement counted one; it is given back). A temporary
// refusal keeps the copy off that printer until now+backoff and says what
// the copy waits for; a permanent one excludes the printer, and a copy
// every registered printer is excluded from fails with the reasons.
func (s *State) refuse(now int64, j *Job, r api.ResultRequest, backoff int64) {
	s.release(r.WorkerID, j, j.State)
	s.settleCharge(j, now, 0)
	j.WorkerID, j.Progress, j.Updated = "", nil, now
	j.Attempts--
	if j.CancelRequested {
		j.State = api.JobCancelled
		s.refreshOrder(s.Orders[j.OrderID])
		return
	}
	j.State = api.JobPending
	if r.Refusal == api.RefusalTemporary {
		skips := make([]Skip, 0, len(j.Skips)+1)
		for _, sk := range j.Skips {
			if sk.Until > now && sk.WorkerID != r.WorkerID {
				skips = append(skips, sk)
			}
		}
		j.Skips = append(skips, Skip{WorkerID: r.WorkerID, Until: now + backoff})
		j.Waiting = r.WorkerID + " refused for now: " + r.Reason
		s.refreshOrder(s.Orders[j.OrderID])
		return
	}
	if !slices.Contains(j.Excluded, r.WorkerID) {
		j.Excluded = append(j.Excluded, r.WorkerID)
	}
	j.Failures = append(j.Failures, api.Failure{Printer: r.WorkerID, Reason: "refused: " + r.Reason})
	if s.excludedEverywhere(j) {
		j.State = api.JobFailed
	}
	s.refreshOrder(s.Orders[j.OrderID])
}

// excludedEverywhere reports whether every registered printer is
// excluded from j: no printer can ever take it.
func (s *State) excludedEverywhere(j *Job) bool {
	for id := range s.Workers {
		if !slices.Contains(j.Excluded, id) {
			return false
		}
	}
	return true
}

// skipped reports whether j is kept off worker id at now by a temporary
// refusal.
func (j *Job) skipped(id string, now int64) bool {
	for _, sk := range j.Skips {
		if sk.WorkerID == id && sk.Until > now {
			return true
		}
	}
	return false
}

// charge brings what the present lease has charged its community to
// secs of printer time.
func (s *State) charge(j *Job, secs float64) {
	if !(secs > 0) {
		secs = 0
	}
	if o := s.Orders[j.OrderID]; o != nil {
		if c := s.Communities[o.Community]; c != nil {
			c.UsedSeconds += secs - j.Charged
		}
	}
	j.Charged = secs
}

// settleCharge ends the present lease's charge at now: the printer time
// it used — printedS, as its worker measured it, or else the leader's
// time from its first printing report to now — and nothing if it never
// printed.
func (s *State) settleCharge(j *Job, now int64, printedS float64) {
	used := 0.0
	switch {
	case j.PrintStarted == 0:
	case printedS > 0 && !math.IsInf(printedS, 0):
		used = printedS
	case now > j.PrintStarted:
		used = float64(now-j.PrintStarted) / 1e9
	}
	s.charge(j, used)
	j.PrintStarted, j.Charged = 0, 0
}

// leaseLifecycle expires a silent lease. With WorkerID set it frees the
// printer of a superseded holder gone silent and leaves the copy as it
// is; otherwise the present lease ends as lost (a failed attempt) and is
// charged up to its last report. Neither records an outcome: a done that
// arrives late from the silent holder still counts the copy.
func (s *State) leaseLifecycle(now int64, l *LeaseCmd) error {
	j := s.Jobs[l.JobID]
	if j == nil {
		return fmt.Errorf("%w: job %q", ErrNotFound, l.JobID)
	}
	if l.WorkerID != "" {
		i := j.lease(l.WorkerID, l.Epoch)
		w := s.Workers[l.WorkerID]
		if i < 0 || j.Assignments[i].Outcome != "" || w == nil || w.Job != j.ID || s.superseded(j, j.Assignments[i]) == "" {
			return fmt.Errorf("%w: %s holds no superseded lease of job %s at epoch %d", ErrStaleEpoch, l.WorkerID, j.ID, l.Epoch)
		}
		w.Job, w.State = "", api.WorkerOffline
		return nil
	}
	if !j.Active() || j.Epoch != l.Epoch {
		return fmt.Errorf("%w: job %s is at epoch %d", ErrStaleEpoch, j.ID, j.Epoch)
	}
	workerID := j.WorkerID
	s.settleCharge(j, j.Updated, 0)
	s.failLifecycle(now, j, workerID, "lost: "+l.Reason, l.MaxAttempts)
	if w := s.Workers[workerID]; w != nil && w.Job == "" {
		w.State = api.WorkerOffline
	}
	return nil
}

// One token, one vote. A worker token stands for one owner, who may run
// several printers: together they fail a copy at most once (the failures
// after the first use up no attempt, and the token's printers are not
// offered the copy again), and a token binds at most its limit of
// workers. The grid's shared worker token (named GridTokenName, the one
// the coordinators are started with) vouches for no single owner and is
// counted per printer only.

// DefaultMaxWorkersPerToken is how many workers a worker token may
// register unless an admin set another limit for it.
const DefaultMaxWorkersPerToken = 8

// GridTokenName names the grid-wide worker token the coordinators add
// from their configuration.
const GridTokenName = "grid"

// ownerToken returns the token hash a worker votes with, or "" for one
// counted alone (unbound, or bound to the shared grid token).
func (s *State) ownerToken(workerID string) string {
	w := s.Workers[workerID]
	if w == nil || w.TokenHash == "" || s.WorkerTokens[w.TokenHash] == GridTokenName {
		return ""
	}
	return w.TokenHash
}

// tokenHasRoom refuses a new binding to hash once the token has bound its
// limit of workers.
func (s *State) tokenHasRoom(hash string) error {
	name, known := s.WorkerTokens[hash]
	if !known || name == GridTokenName {
		return nil
	}
	limit := DefaultMaxWorkersPerToken
	if l := s.WorkerTokenLimits[hash]; l > 0 {
		limit = l
	}
	n := 0
	for _, w := range s.Workers {
		if w.TokenHash == hash {
			n++
		}
	}
	if n >= limit {
		return fmt.Errorf("%w: %w: token %q has %d workers, its limit (an admin can raise it)", ErrConflict, ErrTokenFull, name, n)
	}
	return nil
}

// failLifecycle is fail with the token's vote: a failure from a token
// that failed the copy before uses up no attempt, and the token is
// recorded so none of its printers gets the copy again.
func (s *State) failLifecycle(now int64, j *Job, workerID, reason string, maxAttempts int) {
	if tok := s.ownerToken(workerID); tok != "" && !j.CancelRequested {
		if slices.Contains(j.FailedTokens, tok) {
			j.Attempts--
		} else {
			j.FailedTokens = append(slices.Clip(j.FailedTokens), tok)
		}
	}
	s.fail(now, j, workerID, reason, false, maxAttempts)
}

// tokenFailed reports whether worker w's token failed j before.
func (s *State) tokenFailed(j *Job, w *Worker) bool {
	return len(j.FailedTokens) > 0 && slices.Contains(j.FailedTokens, s.ownerToken(w.ID))
}
