// Package api holds the wire types of the coordinator's HTTP API v1 (see
// docs/api.md): request and response bodies with their JSON names, the
// error body, token prefixes and the job, order and printer state names.
// The coordinator serves them; the CLI client and the worker send them.
// It also holds the rules of an order (order.go: limits and checks), so
// that the CLI refuses before uploading what the coordinator would refuse.
// The package has no behaviour beyond these small helpers, so both sides
// can import it without pulling in Raft.
package api

import "time"

// Token prefixes. Tokens are 32 random bytes, base64url without padding,
// behind one of these prefixes.
const (
	AdminTokenPrefix     = "fgA_"
	CommunityTokenPrefix = "fgC_"
	WorkerTokenPrefix    = "fgW_"
)

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Error codes.
const (
	CodeBadRequest    = "bad_request"
	CodeUnknownField  = "unknown_field"
	CodeInvalidSTL    = "invalid_stl"
	CodeInvalid3MF    = "invalid_3mf"
	CodeUnauthorized  = "unauthorized"
	CodeForbidden     = "forbidden"
	CodeNotFound      = "not_found"
	CodeUnknownWorker = "unknown_worker"
	CodeConflict      = "conflict"
	CodeStaleEpoch    = "stale_epoch"
	CodeTooLarge      = "too_large"
	CodeNoLeader      = "no_leader"
	CodeInternal      = "internal"
	// CodeTooManyRequests (429): a rate or concurrency limit; retry
	// after the Retry-After header's seconds.
	CodeTooManyRequests = "too_many_requests"
	// CodeMethodNotAllowed (405): the path exists, the method does not
	// (the Allow header lists those that do).
	CodeMethodNotAllowed = "method_not_allowed"

	// CodeWorkerTokenMismatch (403): the worker id is bound to another
	// worker token, the one that registered it first.
	CodeWorkerTokenMismatch = "worker_token_mismatch"
)

// Job states.
const (
	JobPending   = "pending"
	JobAssigned  = "assigned"
	JobSlicing   = "slicing"
	JobPrinting  = "printing"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Order states.
const (
	OrderOpen      = "open"
	OrderDone      = "done"
	OrderCancelled = "cancelled"
	OrderFailed    = "failed"
)

// Printer (worker) states.
const (
	WorkerIdle             = "idle"
	WorkerBusy             = "busy"
	WorkerAwaitingBedClear = "awaiting-bed-clear"
	WorkerPaused           = "paused"
	WorkerOffline          = "offline"
)

// Gossip views of a worker.
const (
	GossipAlive     = "alive"
	GossipSuspect   = "suspect"
	GossipDead      = "dead"
	GossipNotJoined = "not-joined"
)

// Result outcomes.
const (
	OutcomeDone    = "done"
	OutcomeFailed  = "failed"
	OutcomeRefused = "refused"
	// OutcomeSuperseded: the worker stopped its print because the
	// coordinator answered cancel for a copy done elsewhere or whose
	// lease passed on.
	OutcomeSuperseded = "superseded"
)

// Refusal kinds (ResultRequest.Refusal).
const (
	// RefusalTemporary: the printer cannot take the copy now (outside
	// hours, paused, busy, bed not clear, not ready); it is offered again
	// after a short backoff.
	RefusalTemporary = "temporary"
	// RefusalPermanent: this printer can never take the copy (material,
	// colour, size or nozzle mismatch, model checksum mismatch, slicing
	// failed on its profile); the copy is never offered to it again.
	// A refusal without a kind is permanent.
	RefusalPermanent = "permanent"
)

// Progress actions.
const (
	ActionContinue = "continue"
	ActionCancel   = "cancel"
)

// Materials accepted in an order.
var Materials = []string{"PLA", "PETG", "ABS", "TPU"}

// Order form field names of POST /v1/orders (multipart/form-data).
const (
	FieldModel       = "model"
	FieldQuantity    = "quantity"
	FieldMaterial    = "material"
	FieldColour      = "colour"
	FieldLayerHeight = "layer_height"
	FieldInfill      = "infill"
	FieldDeadline    = "deadline"
	FieldPickupNote  = "pickup_note"
	FieldCommunity   = "community"
	// FieldRequestID (optional, ≤ 64 characters) makes a submission
	// idempotent: a retry with the same request_id from the same
	// community answers with the order the first attempt created.
	FieldRequestID = "request_id"
)

// LeaderHeader is set on every answer the leader gives to a write (and to
// a leader-consistent read), forwarded ones included: the leader's URL, so
// a client that knows it among its coordinators sends the next request
// there directly instead of through a follower.
const LeaderHeader = "X-Fabgrid-Leader"

// Query parameters.
const (
	// ConsistentParam=ConsistentLeader asks for a leader-consistent read.
	ConsistentParam  = "consistent"
	ConsistentLeader = "leader"
	// WaitParam is the long-poll wait of GET .../assignment ("25s").
	WaitParam = "wait"
	// StaleParam=1 asks for a local read, which may miss recent writes
	// (by default a read sees every write acknowledged before it began).
	StaleParam = "stale"
)

// ReadIndex is GET /v1/cluster/read-index, answered by the leader: the
// index of the last entry it has applied, which covers every write it
// acknowledged. A follower serves a read once it has applied as far.
type ReadIndex struct {
	Index uint64 `json:"index"`
}

// Health is GET /v1/health. Node, Leader and Term are told only to a
// caller with a token of the cluster.
type Health struct {
	Status string `json:"status"`
	Node   string `json:"node,omitempty"`
	Role   string `json:"role"`
	Leader string `json:"leader,omitempty"`
	Term   uint64 `json:"term,omitempty"`
	// Warning is set when the node runs in a way its operator should
	// fix (without TLS beyond loopback).
	Warning string `json:"warning,omitempty"`
}

// Cluster is GET /v1/cluster and the answer of the cluster operations.
type Cluster struct {
	Leader       string        `json:"leader"`
	Term         uint64        `json:"term"`
	CommitIndex  uint64        `json:"commit_index"`
	AppliedIndex uint64        `json:"applied_index"`
	Nodes        []ClusterNode `json:"nodes"`
}

// ClusterNode is one coordinator.
type ClusterNode struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
	Suffrage string `json:"suffrage"`
	Leader   bool   `json:"leader"`
}

// JoinRequest is POST /v1/cluster/join.
type JoinRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
}

// RemoveRequest is POST /v1/cluster/remove.
type RemoveRequest struct {
	ID string `json:"id"`
}

// TransferRequest is POST /v1/cluster/transfer-leader; ID may be empty.
type TransferRequest struct {
	ID string `json:"id,omitempty"`
}

// CommunityRequest is POST /v1/communities.
type CommunityRequest struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight,omitempty"`
}

// CommunityCreated is the 201 answer of POST /v1/communities.
type CommunityCreated struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	Token  string  `json:"token"`
}

// Community is one entry of GET /v1/communities.
type Community struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	Orders int     `json:"orders"`
}

// Communities is GET /v1/communities.
type Communities struct {
	Communities []Community `json:"communities"`
}

// WorkerTokenRequest is POST /v1/worker-tokens.
type WorkerTokenRequest struct {
	Name string `json:"name"`
	// MaxWorkers is how many workers (printers) the token may register;
	// 0 is the default, 8.
	MaxWorkers int `json:"max_workers,omitempty"`
}

// WorkerTokenLimitRequest is POST /v1/worker-tokens/max-workers: the
// token, and how many workers it may register from now on.
type WorkerTokenLimitRequest struct {
	Token      string `json:"token"`
	MaxWorkers int    `json:"max_workers"`
}

// WorkerTokenCreated is the 201 answer of POST /v1/worker-tokens.
type WorkerTokenCreated struct {
	Token string `json:"token"`
}

// Order is one order, with its jobs in GET /v1/orders/{id}.
type Order struct {
	ID          string    `json:"id"`
	Community   string    `json:"community"`
	ModelSHA256 string    `json:"model_sha256"`
	ModelName   string    `json:"model_name"`
	ModelSize   int64     `json:"model_size"`
	Quantity    int       `json:"quantity"`
	Material    string    `json:"material"`
	Colour      string    `json:"colour,omitempty"`
	LayerHeight float64   `json:"layer_height"`
	Infill      float64   `json:"infill"`
	Deadline    string    `json:"deadline,omitempty"`
	PickupNote  string    `json:"pickup_note,omitempty"`
	State       string    `json:"state"`
	Created     time.Time `json:"created"`
	JobsDone    int       `json:"jobs_done"`
	Jobs        []Job     `json:"jobs,omitempty"`
}

// Orders is GET /v1/orders: one page (see Page).
type Orders struct {
	Orders []Order `json:"orders"`
	// NextCursor, when set, fetches the next page (cursor=…).
	NextCursor string `json:"next_cursor,omitempty"`
}

// Jobs is GET /v1/jobs: one page (see Page).
type Jobs struct {
	Jobs       []Job  `json:"jobs"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Page parameters of every list (GET /v1/orders, /v1/jobs, /v1/workers):
// limit=N items (default DefaultPageLimit, at most MaxPageLimit), in
// ascending id order; cursor=the previous page's next_cursor; state=s
// keeps the items in state s (several: state=a,b or state=a&state=b).
const (
	LimitParam       = "limit"
	CursorParam      = "cursor"
	StateParam       = "state"
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// Job is one copy of an order.
type Job struct {
	ID         string    `json:"id"`
	OrderID    string    `json:"order_id"`
	Copy       int       `json:"copy"`
	State      string    `json:"state"`
	Printer    string    `json:"printer,omitempty"`
	Attempts   int       `json:"attempts"`
	Epoch      uint64    `json:"epoch"`
	Reason     string    `json:"reason,omitempty"`
	Progress   *Progress `json:"progress,omitempty"`
	Failures   []Failure `json:"failures,omitempty"`
	EstSeconds float64   `json:"est_seconds,omitempty"`
	Pickup     string    `json:"pickup,omitempty"`
}

// Progress is the last progress a job's worker reported.
type Progress struct {
	Percent float64 `json:"percent"`
	Layer   int     `json:"layer"`
	Layers  int     `json:"layers"`
	HotendC float64 `json:"hotend_c"`
	BedC    float64 `json:"bed_c"`
	ETAS    float64 `json:"eta_s"`
	// Stalled: the worker's printer has stopped acknowledging commands.
	Stalled bool `json:"stalled,omitempty"`
}

// Failure is one failed attempt of a job.
type Failure struct {
	Printer string `json:"printer"`
	Reason  string `json:"reason"`
}

// Worker is one printer as GET /v1/workers shows it.
type Worker struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Profile       string     `json:"profile"`
	Material      string     `json:"material"`
	Colour        string     `json:"colour,omitempty"`
	NozzleMM      float64    `json:"nozzle_mm"`
	BuildMM       [3]float64 `json:"build_mm"`
	State         string     `json:"state"`
	Gossip        string     `json:"gossip"`
	LastHeartbeat time.Time  `json:"last_heartbeat"`
	Job           string     `json:"job,omitempty"`
	Successes     int        `json:"successes"`
	Failures      int        `json:"failures"`
}

// Workers is GET /v1/workers: one page (see Page).
type Workers struct {
	Workers    []Worker `json:"workers"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// RegisterRequest is POST /v1/workers/register.
type RegisterRequest struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Profile  string     `json:"profile"`
	BuildMM  [3]float64 `json:"build_mm"`
	NozzleMM float64    `json:"nozzle_mm"`
	Material string     `json:"material"`
	Colour   string     `json:"colour,omitempty"`
	Hours    string     `json:"hours,omitempty"`
	// Timezone is the IANA zone Hours is read in ("Europe/Madrid"); ""
	// means UTC, as for workers that predate it.
	Timezone      string  `json:"timezone,omitempty"`
	MaxJobHours   float64 `json:"max_job_hours,omitempty"`
	GossipAddr    string  `json:"gossip_addr,omitempty"`
	Neighbourhood string  `json:"neighbourhood,omitempty"`
	State         string  `json:"state,omitempty"`
}

// RegisterResponse is the answer of POST /v1/workers/register.
type RegisterResponse struct {
	WorkerID            string `json:"worker_id"`
	HeartbeatIntervalMS int64  `json:"heartbeat_interval_ms"`
	LostAfterMS         int64  `json:"lost_after_ms"`
	Leader              string `json:"leader"`
}

// HeartbeatRequest is POST /v1/workers/{id}/heartbeat.
type HeartbeatRequest struct {
	State string `json:"state"`
}

// OK is the {"ok":true} answer; Duplicate marks a reconciled late result.
type OK struct {
	OK        bool `json:"ok"`
	Duplicate bool `json:"duplicate,omitempty"`
}

// Assignment is the 200 answer of GET /v1/workers/{id}/assignment.
type Assignment struct {
	JobID       string  `json:"job_id"`
	OrderID     string  `json:"order_id"`
	Epoch       uint64  `json:"epoch"`
	ModelSHA256 string  `json:"model_sha256"`
	ModelSize   int64   `json:"model_size"`
	Material    string  `json:"material"`
	Colour      string  `json:"colour,omitempty"`
	LayerHeight float64 `json:"layer_height"`
	Infill      float64 `json:"infill"`
	LeaseMS     int64   `json:"lease_ms"`
}

// ProgressRequest is POST /v1/jobs/{id}/progress.
type ProgressRequest struct {
	Epoch      uint64  `json:"epoch"`
	WorkerID   string  `json:"worker_id"`
	State      string  `json:"state"`
	Percent    float64 `json:"percent"`
	Layer      int     `json:"layer"`
	Layers     int     `json:"layers"`
	HotendC    float64 `json:"hotend_c"`
	BedC       float64 `json:"bed_c"`
	ETAS       float64 `json:"eta_s"`
	EstSeconds float64 `json:"est_seconds"`
	FilamentMM float64 `json:"filament_mm"`
	// Stalled: the printer has not acknowledged a command for the
	// worker's stall time. A stalled report does not renew the lease.
	Stalled bool `json:"stalled,omitempty"`
	// PrintedS is how long the printer has been printing the job so far,
	// in seconds, as the worker measured it.
	PrintedS float64 `json:"printed_s,omitempty"`
}

// ProgressResponse is the answer of a progress report.
type ProgressResponse struct {
	Action string `json:"action"`
	// Reason says why the action is cancel.
	Reason string `json:"reason,omitempty"`
	// Superseded: the cancel is because the copy was done elsewhere or
	// its lease passed on; the worker reports OutcomeSuperseded.
	Superseded bool `json:"superseded,omitempty"`
}

// ResultRequest is POST /v1/jobs/{id}/result.
type ResultRequest struct {
	Epoch    uint64 `json:"epoch"`
	WorkerID string `json:"worker_id"`
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason,omitempty"`
	// Refusal is the kind of a refusal (RefusalTemporary or
	// RefusalPermanent); "" is permanent.
	Refusal string `json:"refusal,omitempty"`
	// PrintedS is how long the printer printed the job, in seconds, as
	// the worker measured it: what the job's community is charged.
	PrintedS float64 `json:"printed_s,omitempty"`
}

// BedClearRequest is POST /v1/workers/{id}/bed-clear (an empty object).
type BedClearRequest struct{}

// SnapshotInfo describes a state machine snapshot (fsm.ScanSnapshot).
type SnapshotInfo struct {
	// Version is the format of the encoded state (1 or 2).
	Version int    `json:"version"`
	Index   uint64 `json:"index"`
	// Size is the snapshot's length in bytes; StateSize that of its
	// state's JSON.
	Size      int64 `json:"size"`
	StateSize int64 `json:"state_size"`
	// Models counts every model; ModelBytes sums their sizes.
	// Referenced counts those whose bytes are not in the snapshot
	// (ReferencedBytes of them): it stands alone when that is 0.
	Models          int   `json:"models"`
	ModelBytes      int64 `json:"model_bytes"`
	Referenced      int   `json:"referenced"`
	ReferencedBytes int64 `json:"referenced_bytes"`
	Uploads         int   `json:"uploads"`
	UploadBytes     int64 `json:"upload_bytes"`

	Communities int `json:"communities"`
	Orders      int `json:"orders"`
	Jobs        int `json:"jobs"`
	Workers     int `json:"workers"`
	Nodes       int `json:"nodes"`
}

// BackupInfo describes a backup file (fabgrid cluster snapshot
// inspect; the answer of POST /v1/cluster/snapshot).
type BackupInfo struct {
	// Index and Term of the last entry the snapshot holds, and the
	// cluster configuration it was taken in.
	Index              uint64   `json:"index"`
	Term               uint64   `json:"term"`
	ConfigurationIndex uint64   `json:"configuration_index"`
	Servers            []string `json:"servers"`
	// Size is the file's length; Snapshot the state machine's snapshot.
	Size     int64        `json:"size"`
	Snapshot SnapshotInfo `json:"snapshot"`
}
