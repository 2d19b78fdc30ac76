package scheduler

import "github.com/fabgrid/fabgrid/hours"

// PrinterState is what a printer is doing as far as the coordinator knows.
type PrinterState string

// Printer states. Only StateIdle printers receive work.
const (
	StateIdle             PrinterState = "idle"
	StateBusy             PrinterState = "busy"
	StateAwaitingBedClear PrinterState = "awaiting-bed-clear"
	StatePaused           PrinterState = "paused"
	StateOffline          PrinterState = "offline"
)

// Snapshot is everything one planning round looks at. The scheduler only
// reads it.
type Snapshot struct {
	// Now is the planning time in unix seconds, supplied by the caller.
	Now int64
	// Seed breaks ties; the same snapshot and seed give the same plan.
	Seed int64
	// Jobs are the pending jobs. Their order does not matter.
	Jobs []Job
	// Printers are the known printers, in any state. Worker ids must be
	// unique; of several printers with one id only the first is considered.
	Printers []Printer
	// Communities carry fair-share weights and past usage. A community a
	// job names but that is missing here gets weight 1 and no usage.
	Communities []Community
}

// Job is one pending print of one part.
type Job struct {
	ID        string
	OrderID   string
	Community string
	// Material is required ("PLA", "PETG", …; compared case-insensitively).
	Material string
	// Colour is the required colour; "" accepts any colour.
	Colour string
	// SizeMM is the part's bounding box x, y, z in millimetres. The part
	// may be turned 90° about Z to fit a bed.
	SizeMM [3]float64
	// NozzleMM is the required nozzle diameter; 0 accepts any.
	NozzleMM float64
	// EstSeconds is the print time on a reference printer (SpeedFactor 1).
	// 0 means unknown: the scheduler estimates it from VolumeMM3,
	// SurfaceMM2 and SizeMM with Estimate on the reference profile. The
	// worker's post-slicing estimate, once known, should be put here.
	EstSeconds float64
	// VolumeMM3 and SurfaceMM2 describe the mesh, for the estimate.
	VolumeMM3  float64
	SurfaceMM2 float64
	// Deadline is when the order wants the part, unix seconds; 0 = none.
	Deadline int64
	// Submitted is when the order was accepted, unix seconds.
	Submitted int64
	// Attempts counts earlier failed attempts.
	Attempts int
	// Excluded lists the worker ids this job must not go to again.
	Excluded []string
	// Neighbourhood is where the part is wanted; "" = the community's.
	Neighbourhood string
}

// Printer is one printer as the coordinator sees it.
type Printer struct {
	// WorkerID names the worker that drives the printer (one printer per
	// worker): placements, exclusions and ties refer to it.
	WorkerID string
	// Profile names the printer's profile (profile.LookupPrinter).
	Profile string
	// BuildMM is the usable build volume x, y, z in millimetres.
	BuildMM [3]float64
	// NozzleMM is the mounted nozzle diameter.
	NozzleMM float64
	// Material and Colour are the loaded filament.
	Material string
	Colour   string
	State    PrinterState
	// BusyUntil is when a busy printer is expected to be free, unix
	// seconds (0 = unknown).
	BusyUntil int64
	// Hours is the owner's daily window, read in the owner's time zone
	// (hours.Window.Zone); nil means any time. A job fits only if it
	// starts inside the window and is expected to end before it closes.
	Hours *hours.Window
	// MaxJobSeconds is the owner's limit on one job's length; 0 = none.
	MaxJobSeconds float64
	// SpeedFactor is the printer's speed relative to the reference
	// printer (2 = twice as fast); 0 means 1. SpeedFactor(profile) gives
	// a value from a profile.
	SpeedFactor float64
	// Successes and Failures are the printer's job history.
	Successes, Failures int
	// Neighbourhood is where the printer is; "" = unknown.
	Neighbourhood string
}

// Community is an ordering community and its fair-share state.
type Community struct {
	Name string
	// Weight is the community's share; 0 means 1.
	Weight float64
	// UsedPrinterSeconds is the printer time already given to the
	// community (running and finished jobs in the accounting period).
	UsedPrinterSeconds float64
	// Neighbourhood is where the community's parts are wanted, for jobs
	// that do not name their own; "" = anywhere.
	Neighbourhood string
}

// Plan is the outcome of one round: every job in the snapshot appears
// exactly once, either placed or unplaced.
type Plan struct {
	// Placements, in decision order: scarce jobs first, then the fair
	// queue's order.
	Placements []Placement
	// Unplaced jobs, in the snapshot's job order, each with a reason.
	Unplaced []Unplaced
}

// Placement assigns one job to one idle printer, named by its worker.
type Placement struct {
	JobID    string
	WorkerID string
	// EstSeconds is the expected print time on that printer.
	EstSeconds float64
}

// Unplaced explains why a job was not placed this round.
type Unplaced struct {
	JobID string
	// Code is a stable machine-readable reason (the Code* constants).
	Code string
	// Reason is a sentence a person can act on.
	Reason string
}

// Reason codes for unplaced jobs.
const (
	// CodeInvalid: the job itself is malformed (no material, bad size).
	CodeInvalid = "invalid-job"
	// CodeNoPrinter: there are no printers that could ever take it online.
	CodeNoPrinter = "no-printer"
	// CodeTooLarge: the part fits no known printer's build volume.
	CodeTooLarge = "too-large"
	// CodeNoMaterial: no printer has the material loaded.
	CodeNoMaterial = "no-material"
	// CodeNoColour: the material is loaded somewhere, not in this colour.
	CodeNoColour = "no-colour"
	// CodeNoNozzle: no printer with the material has the nozzle size.
	CodeNoNozzle = "no-nozzle"
	// CodeExcluded: every otherwise fitting printer failed this job before.
	CodeExcluded = "excluded"
	// CodeTooLong: the job is longer than every fitting owner allows.
	CodeTooLong = "too-long"
	// CodeOutsideHours: fitting printers exist but their owners' hours
	// do not leave room for the job now.
	CodeOutsideHours = "outside-hours"
	// CodeWaiting: fitting printers exist but none is idle with a clear
	// bed, or the idle ones went to jobs ahead in the fair queue.
	CodeWaiting = "waiting"
)
