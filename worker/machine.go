package worker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
)

// Phase is where the job loop is.
type Phase string

// Phases.
const (
	PhaseIdle             Phase = "idle"
	PhaseFetching         Phase = "fetching"
	PhaseSlicing          Phase = "slicing"
	PhasePrinting         Phase = "printing"
	PhaseStopping         Phase = "stopping" // cancel sent, waiting for the printer
	PhaseAwaitingBedClear Phase = "awaiting-bed-clear"
)

// ReasonRestarted is the failure reason of a job found in flight at start.
const ReasonRestarted = "worker restarted mid-print"

// Reasons for stopping a job early.
const (
	ReasonCoordinatorCancel = "cancelled by the coordinator"
	ReasonLeaseLost         = "lease lost: the job was given to another printer"
	ReasonShutdown          = "owner abort: worker stopped"
	ReasonOwnerAbort        = "owner abort"
	// ReasonSuperseded starts the reason of a print stopped because the
	// copy was done elsewhere or its lease passed on.
	ReasonSuperseded = "superseded: "
)

// ErrOwner is returned for an owner command that does not apply now.
var ErrOwner = errors.New("worker: command not possible now")

// PrintProgress is what the printer driver reports while printing.
type PrintProgress struct {
	Percent    float64
	Layer      int
	Layers     int
	HotendC    float64
	BedC       float64
	ETAS       float64
	FilamentMM float64
	// Acked counts the commands the printer has acknowledged so far.
	Acked int
	// ElapsedS is how long the printer has been printing the job, in
	// seconds (what the job's community is charged).
	ElapsedS float64
}

// SliceInfo is what the job loop needs to know of a sliced model.
type SliceInfo struct {
	SizeMM     [3]float64
	EstSeconds float64
	Layers     int
	FilamentMM float64
}

// Action is an effect the driver must carry out. The concrete types are
// the Act* structs below.
type Action interface{ isAction() }

// ActFetch downloads and checks the model of A.
type ActFetch struct{ A api.Assignment }

// ActSlice slices the fetched model of A for this printer.
type ActSlice struct{ A api.Assignment }

// ActPrint streams the sliced G-code of A to the printer.
type ActPrint struct{ A api.Assignment }

// ActCancelWork abandons the fetch or slice in progress for JobID.
type ActCancelWork struct{ JobID string }

// ActCancelPrint runs the printer's safe cancel sequence.
type ActCancelPrint struct{ JobID, Reason string }

// ActPausePrint and ActResumePrint pause and resume the printer.
type (
	ActPausePrint  struct{}
	ActResumePrint struct{}
)

// ActReportProgress sends a progress report; answer with ProgressAnswered.
// Within bounds the report, retries included: only progress reports
// renew the job's lease, so one stuck report must not outlast it (a
// third of the lease, or 30 s when the lease is not known).
type ActReportProgress struct {
	JobID  string
	Req    api.ProgressRequest
	Within time.Duration
}

// ActReportResult delivers a job's outcome; answer with ResultDelivered.
// Results and bed-clears are delivered in order, with retries.
type ActReportResult struct {
	JobID string
	Req   api.ResultRequest
}

// ActBedClear tells the coordinators the bed is clear.
type ActBedClear struct{}

// ActPersist writes State to the state file before anything else proceeds.
type ActPersist struct{ State Persisted }

func (ActFetch) isAction()          {}
func (ActSlice) isAction()          {}
func (ActPrint) isAction()          {}
func (ActCancelWork) isAction()     {}
func (ActCancelPrint) isAction()    {}
func (ActPausePrint) isAction()     {}
func (ActResumePrint) isAction()    {}
func (ActReportProgress) isAction() {}
func (ActReportResult) isAction()   {}
func (ActBedClear) isAction()       {}
func (ActPersist) isAction()        {}

// MachineConfig is the Machine's fixed configuration.
type MachineConfig struct {
	WorkerID      string
	Policy        Policy
	AutoClear     bool
	ProgressEvery time.Duration
	// StallAfter: a print whose printer has acknowledged no command for
	// this long (and is not paused) is reported stalled; 0 never.
	StallAfter time.Duration
}

// job is the job being worked on.
type job struct {
	a          api.Assignment
	every      time.Duration
	within     time.Duration // bound of one progress report
	printing   bool          // G-code started streaming
	info       SliceInfo
	prog       PrintProgress
	lastReport time.Time
	reporting  bool // a progress report is in flight
	reportDue  bool // send another as soon as the one in flight returns
	lost       bool // the lease is gone: no more progress reports
	superseded bool // stopped because the copy is done elsewhere or re-leased
	stopReason string
	lastAck    time.Time // when the printer last acknowledged a command
}

// Machine is the worker's job loop as a pure state machine: every method
// takes the current time, changes the state and returns the actions to
// carry out, in order. It does no I/O and is not safe for concurrent use;
// the driver owns it on one goroutine.
type Machine struct {
	cfg         MachineConfig
	phase       Phase
	paused      bool
	bedDirty    bool
	job         *job
	undelivered *InFlight // an outcome not yet delivered
	lastErr     string
}

// NewMachine returns a Machine in PhaseIdle; call Restore next.
func NewMachine(cfg MachineConfig) *Machine {
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 3 * time.Second
	}
	return &Machine{cfg: cfg, phase: PhaseIdle}
}

// Restore takes the persisted state of the previous run. A job that was in
// flight is reported failed at once (ReasonRestarted): the printer stopped
// when the host stopped streaming. An outcome that was known but not yet
// delivered is delivered now.
func (m *Machine) Restore(p Persisted) []Action {
	m.bedDirty = p.AwaitingBedClear
	var acts []Action
	if f := p.InFlight; f != nil {
		u := *f
		if u.Outcome == "" {
			u.Outcome, u.Reason = api.OutcomeFailed, ReasonRestarted
			if u.Printing && !m.cfg.AutoClear {
				m.bedDirty = true
			}
		}
		m.undelivered = &u
		acts = append(acts, m.persist(), m.resultAction(u))
	}
	m.settle()
	return acts
}

// Phase returns the current phase.
func (m *Machine) Phase() Phase { return m.phase }

// Paused reports whether the owner paused the printer.
func (m *Machine) Paused() bool { return m.paused }

// WantsWork reports whether the worker should ask for an assignment: idle,
// not paused, bed clear, and no result waiting to be delivered.
func (m *Machine) WantsWork() bool {
	return m.phase == PhaseIdle && !m.paused && m.undelivered == nil
}

// State is the printer state the coordinators see (api.Worker* names).
func (m *Machine) State() string {
	switch {
	case m.phase == PhaseAwaitingBedClear:
		return api.WorkerAwaitingBedClear
	case m.phase != PhaseIdle:
		return api.WorkerBusy
	case m.paused:
		return api.WorkerPaused
	}
	return api.WorkerIdle
}

// Assign handles an assignment from the long-poll.
func (m *Machine) Assign(a api.Assignment, now time.Time) []Action {
	if m.job != nil && m.job.a.JobID == a.JobID {
		return nil // the same assignment delivered twice
	}
	if !m.WantsWork() {
		// Busy, paused, bed not clear, a result to deliver: all pass.
		return m.refuse(a, refusal{m.busyReason(), api.RefusalTemporary})
	}
	if r := m.cfg.Policy.checkAssignment(a, now); r.reason != "" {
		return m.refuse(a, r)
	}
	every, within := m.cfg.ProgressEvery, 30*time.Second
	if lease := time.Duration(a.LeaseMS) * time.Millisecond; lease > 0 {
		every, within = min(every, lease/3), min(within, lease/3)
	}
	m.job = &job{a: a, every: every, within: within}
	m.phase = PhaseFetching
	acts := []Action{m.persist()}
	acts = append(acts, m.report(now)...)
	return append(acts, ActFetch{A: a})
}

func (m *Machine) busyReason() string {
	switch {
	case m.job != nil:
		return "printer is busy with job " + m.job.a.JobID
	case m.phase == PhaseAwaitingBedClear:
		return "the bed has not been cleared since the last print"
	case m.paused:
		return "printer is paused by its owner"
	}
	return "printer is still reporting its previous job"
}

// refuse reports a refusal, with its kind; it never disturbs the job in
// progress.
func (m *Machine) refuse(a api.Assignment, r refusal) []Action {
	if m.undelivered != nil || m.job != nil {
		// The one persisted slot is taken: report without persisting.
		return []Action{ActReportResult{JobID: a.JobID, Req: api.ResultRequest{
			Epoch: a.Epoch, WorkerID: m.cfg.WorkerID, Outcome: api.OutcomeRefused, Reason: r.reason, Refusal: r.kind}}}
	}
	u := InFlight{JobID: a.JobID, OrderID: a.OrderID, Epoch: a.Epoch, Outcome: api.OutcomeRefused, Reason: r.reason, Refusal: r.kind}
	m.undelivered = &u
	return []Action{m.persist(), m.resultAction(u)}
}

// Fetched reports the end of the model download.
func (m *Machine) Fetched(jobID string, err error, now time.Time) []Action {
	j := m.current(jobID, PhaseFetching)
	if j == nil {
		return nil
	}
	if j.stopReason != "" {
		return m.finish(j.stopOutcome(), j.stopReason, now)
	}
	if errors.Is(err, client.ErrChecksum) {
		// The bytes are not the model's: never printed here.
		return m.finishRefused(refusal{"model checksum mismatch: " + err.Error(), api.RefusalPermanent}, now)
	}
	if err != nil {
		return m.finish(api.OutcomeFailed, "model download failed: "+err.Error(), now)
	}
	m.phase = PhaseSlicing
	return []Action{ActSlice{A: j.a}}
}

// Sliced reports the end of slicing with what the slicer found.
func (m *Machine) Sliced(jobID string, info SliceInfo, err error, now time.Time) []Action {
	j := m.current(jobID, PhaseSlicing)
	if j == nil {
		return nil
	}
	if j.stopReason != "" {
		return m.finish(j.stopOutcome(), j.stopReason, now)
	}
	if errors.Is(err, ErrRefused) {
		// The model does not fit or cannot be sliced on this profile.
		return m.finishRefused(refusal{strings.TrimPrefix(err.Error(), ErrRefused.Error()+": "), api.RefusalPermanent}, now)
	}
	if err != nil {
		return m.finish(api.OutcomeFailed, "slicing failed: "+err.Error(), now)
	}
	if r := m.cfg.Policy.checkSliced(info.SizeMM, seconds(info.EstSeconds), now); r.reason != "" {
		return m.finishRefused(r, now)
	}
	j.info = info
	j.lastAck = now
	j.prog = PrintProgress{Layers: info.Layers, ETAS: info.EstSeconds}
	j.printing = true
	m.phase = PhasePrinting
	acts := []Action{m.persist()}
	acts = append(acts, m.forceReport(now)...) // carries the estimate
	acts = append(acts, ActPrint{A: j.a})
	if m.paused {
		acts = append(acts, ActPausePrint{})
	}
	return acts
}

// Progress records the printer's progress and reports it when due.
func (m *Machine) Progress(jobID string, p PrintProgress, now time.Time) []Action {
	j := m.job
	if j == nil || j.a.JobID != jobID || (m.phase != PhasePrinting && m.phase != PhaseStopping) {
		return nil
	}
	if p.Layers == 0 {
		p.Layers = j.info.Layers
	}
	if p.Acked > j.prog.Acked || j.lastAck.IsZero() {
		j.lastAck = now
	}
	j.prog = p
	return m.report(now)
}

// Tick lets time pass: progress is reported every ProgressEvery (or a
// third of the lease, if shorter).
func (m *Machine) Tick(now time.Time) []Action { return m.report(now) }

// ProgressAnswered takes the coordinator's answer to a progress report.
// A cancel stops the job at once (the safe cancel when printing); a
// cancel for a superseded lease (the copy was done elsewhere or its lease
// passed on), and a stale_epoch error, mean this print no longer counts:
// it stops too, and is reported superseded. Other errors are ignored:
// the next report retries, and the print goes on while the coordinators
// are unreachable.
func (m *Machine) ProgressAnswered(jobID string, resp api.ProgressResponse, stale bool, err error, now time.Time) []Action {
	j := m.job
	if j == nil || j.a.JobID != jobID {
		return nil
	}
	j.reporting = false
	switch {
	case stale || resp.Action == api.ActionCancel && resp.Superseded:
		j.lost, j.superseded = true, true
		why := resp.Reason
		if why == "" {
			why = ReasonLeaseLost
		}
		return m.stop(ReasonSuperseded + why)
	case err != nil:
		m.lastErr = "progress report: " + err.Error()
		return nil
	case resp.Action == api.ActionCancel:
		return m.stop(ReasonCoordinatorCancel)
	}
	if j.reportDue {
		return m.forceReport(now)
	}
	return nil
}

// PrintDone reports the end of streaming: nil is success.
func (m *Machine) PrintDone(jobID string, err error, now time.Time) []Action {
	j := m.job
	if j == nil || j.a.JobID != jobID || (m.phase != PhasePrinting && m.phase != PhaseStopping) {
		return nil
	}
	switch {
	case err == nil:
		// Finished before the cancel took: a whole print, reported as
		// done (the coordinators count it or answer duplicate).
		return m.finish(api.OutcomeDone, "", now)
	case j.stopReason != "":
		return m.finish(j.stopOutcome(), j.stopReason, now)
	}
	return m.finish(api.OutcomeFailed, "print failed: "+err.Error(), now)
}

// ResultDelivered reports that the coordinators took the outcome of jobID
// (or answered that it no longer matters).
func (m *Machine) ResultDelivered(jobID string) []Action {
	if m.undelivered == nil || m.undelivered.JobID != jobID {
		return nil
	}
	m.undelivered = nil
	return []Action{m.persist()}
}

// Owner commands.
const (
	CmdPause  = "pause"
	CmdResume = "resume"
	CmdClear  = "clear"
	CmdAbort  = "abort"
)

// Owner applies an owner command. It returns ErrOwner (wrapped with what
// to do) when the command does not apply in the current state.
func (m *Machine) Owner(cmd string, now time.Time) ([]Action, error) {
	switch cmd {
	case CmdPause:
		if m.paused {
			return nil, fmt.Errorf("%w: already paused", ErrOwner)
		}
		m.paused = true
		if m.phase == PhasePrinting {
			return []Action{ActPausePrint{}}, nil
		}
		return nil, nil
	case CmdResume:
		if !m.paused {
			return nil, fmt.Errorf("%w: not paused", ErrOwner)
		}
		m.paused = false
		if m.phase == PhasePrinting {
			m.job.lastAck = now // a paused printer acknowledges nothing
			return []Action{ActResumePrint{}}, nil
		}
		return nil, nil
	case CmdClear:
		if m.phase != PhaseAwaitingBedClear {
			return nil, fmt.Errorf("%w: the printer is %s, not awaiting a bed clear", ErrOwner, m.phase)
		}
		m.bedDirty = false
		m.settle()
		return []Action{m.persist(), ActBedClear{}}, nil
	case CmdAbort:
		if m.job == nil {
			return nil, fmt.Errorf("%w: no job to abort", ErrOwner)
		}
		return m.stop(ReasonOwnerAbort), nil
	}
	return nil, fmt.Errorf("%w: unknown command %q (pause, resume, clear, abort)", ErrOwner, cmd)
}

// Shutdown stops the job in progress, if any (safe cancel when printing).
// The driver keeps feeding events until Busy is false.
func (m *Machine) Shutdown(now time.Time) []Action {
	if m.job == nil {
		return nil
	}
	return m.stop(ReasonShutdown)
}

// JobID is the id of the job being worked on, or "".
func (m *Machine) JobID() string {
	if m.job == nil {
		return ""
	}
	return m.job.a.JobID
}

// Busy reports whether a job is being worked on.
func (m *Machine) Busy() bool { return m.job != nil }

// Undelivered reports whether an outcome still waits for delivery.
func (m *Machine) Undelivered() bool { return m.undelivered != nil }

func (m *Machine) current(jobID string, phase Phase) *job {
	if m.job == nil || m.job.a.JobID != jobID || m.phase != phase {
		return nil
	}
	return m.job
}

func (m *Machine) stop(reason string) []Action {
	j := m.job
	if j.stopReason != "" {
		return nil
	}
	j.stopReason = reason
	switch m.phase {
	case PhaseFetching, PhaseSlicing:
		return []Action{ActCancelWork{JobID: j.a.JobID}}
	case PhasePrinting:
		m.phase = PhaseStopping
		return []Action{ActCancelPrint{JobID: j.a.JobID, Reason: reason}}
	}
	return nil
}

// stopOutcome is the outcome of a job stopped early.
func (j *job) stopOutcome() string {
	if j.superseded {
		return api.OutcomeSuperseded
	}
	return api.OutcomeFailed
}

func (m *Machine) finishRefused(r refusal, now time.Time) []Action {
	return m.finishWith(api.OutcomeRefused, r.reason, r.kind, now)
}

func (m *Machine) finish(outcome, reason string, now time.Time) []Action {
	return m.finishWith(outcome, reason, "", now)
}

func (m *Machine) finishWith(outcome, reason, kind string, now time.Time) []Action {
	j := m.job
	m.job = nil
	u := InFlight{JobID: j.a.JobID, OrderID: j.a.OrderID, Epoch: j.a.Epoch, Printing: j.printing, Outcome: outcome, Reason: reason, Refusal: kind,
		PrintedS: j.prog.ElapsedS}
	m.undelivered = &u
	if j.printing && !m.cfg.AutoClear {
		m.bedDirty = true
	}
	m.settle()
	acts := []Action{m.persist(), m.resultAction(u)}
	if j.printing && m.cfg.AutoClear && outcome == api.OutcomeDone {
		acts = append(acts, ActBedClear{})
	}
	return acts
}

// settle picks the resting phase when no job is held.
func (m *Machine) settle() {
	if m.job != nil {
		return
	}
	if m.bedDirty {
		m.phase = PhaseAwaitingBedClear
	} else {
		m.phase = PhaseIdle
	}
}

func (m *Machine) resultAction(u InFlight) Action {
	return ActReportResult{JobID: u.JobID, Req: api.ResultRequest{
		Epoch: u.Epoch, WorkerID: m.cfg.WorkerID, Outcome: u.Outcome, Reason: u.Reason, Refusal: u.Refusal, PrintedS: u.PrintedS}}
}

func (m *Machine) persist() Action { return ActPersist{State: m.Persisted()} }

// Persisted is the state to write to disk now.
func (m *Machine) Persisted() Persisted {
	p := Persisted{WorkerID: m.cfg.WorkerID, AwaitingBedClear: m.bedDirty}
	switch {
	case m.job != nil:
		p.InFlight = &InFlight{JobID: m.job.a.JobID, OrderID: m.job.a.OrderID, Epoch: m.job.a.Epoch, Printing: m.job.printing}
	case m.undelivered != nil:
		u := *m.undelivered
		p.InFlight = &u
	}
	return p
}

func (m *Machine) report(now time.Time) []Action {
	j := m.job
	if j == nil || j.lost || j.reporting || now.Sub(j.lastReport) < j.every {
		return nil
	}
	return m.sendReport(now)
}

func (m *Machine) forceReport(now time.Time) []Action {
	j := m.job
	if j == nil || j.lost {
		return nil
	}
	if j.reporting {
		j.reportDue = true
		return nil
	}
	return m.sendReport(now)
}

func (m *Machine) sendReport(now time.Time) []Action {
	j := m.job
	j.reporting, j.reportDue, j.lastReport = true, false, now
	state := api.JobPrinting
	if !j.printing {
		state = api.JobSlicing
	}
	p := j.prog
	return []Action{ActReportProgress{JobID: j.a.JobID, Within: j.within, Req: api.ProgressRequest{
		Epoch: j.a.Epoch, WorkerID: m.cfg.WorkerID, State: state,
		Percent: p.Percent, Layer: p.Layer, Layers: p.Layers, HotendC: p.HotendC, BedC: p.BedC,
		ETAS: p.ETAS, EstSeconds: j.info.EstSeconds, FilamentMM: max(p.FilamentMM, j.info.FilamentMM),
		Stalled: m.stalled(now), PrintedS: p.ElapsedS,
	}}}
}

// stalled reports whether the printer of the print under way has
// acknowledged no command for StallAfter while not paused.
func (m *Machine) stalled(now time.Time) bool {
	j := m.job
	return m.cfg.StallAfter > 0 && j.printing && !m.paused && m.phase == PhasePrinting &&
		!j.lastAck.IsZero() && now.Sub(j.lastAck) >= m.cfg.StallAfter
}

// Status is a snapshot for the owner.
type Status struct {
	WorkerID         string         `json:"worker_id"`
	Phase            Phase          `json:"phase"`
	State            string         `json:"state"`
	Paused           bool           `json:"paused"`
	AwaitingBedClear bool           `json:"awaiting_bed_clear"`
	Job              *JobStatus     `json:"job,omitempty"`
	Undelivered      *InFlight      `json:"undelivered,omitempty"`
	LastError        string         `json:"last_error,omitempty"`
	Extra            map[string]any `json:"extra,omitempty"`
}

// JobStatus is the job part of Status.
type JobStatus struct {
	ID         string  `json:"id"`
	OrderID    string  `json:"order_id"`
	Epoch      uint64  `json:"epoch"`
	Percent    float64 `json:"percent"`
	Layer      int     `json:"layer"`
	Layers     int     `json:"layers"`
	HotendC    float64 `json:"hotend_c"`
	BedC       float64 `json:"bed_c"`
	ETAS       float64 `json:"eta_s"`
	EstSeconds float64 `json:"est_seconds"`
	LeaseLost  bool    `json:"lease_lost,omitempty"`
	Stopping   string  `json:"stopping,omitempty"`
}

// Status returns the owner's view of the machine.
func (m *Machine) Status() Status {
	s := Status{WorkerID: m.cfg.WorkerID, Phase: m.phase, State: m.State(), Paused: m.paused,
		AwaitingBedClear: m.bedDirty, LastError: m.lastErr}
	if j := m.job; j != nil {
		s.Job = &JobStatus{ID: j.a.JobID, OrderID: j.a.OrderID, Epoch: j.a.Epoch, Percent: j.prog.Percent,
			Layer: j.prog.Layer, Layers: j.prog.Layers, HotendC: j.prog.HotendC, BedC: j.prog.BedC,
			ETAS: j.prog.ETAS, EstSeconds: j.info.EstSeconds, LeaseLost: j.lost, Stopping: j.stopReason}
	}
	if m.undelivered != nil {
		u := *m.undelivered
		s.Undelivered = &u
	}
	return s
}
