package fsm

import (
	"sort"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// State is the replicated state. Only the FSM changes it, through the
// apply* methods; everything else reads copies under the FSM's lock.
type State struct {
	Communities  map[string]*Community `json:"communities"`
	AdminTokens  map[string]bool       `json:"admin_tokens"`
	WorkerTokens map[string]string     `json:"worker_tokens"`
	// WorkerTokenLimits are the worker tokens allowed more (or fewer)
	// workers than DefaultMaxWorkersPerToken, by hash.
	WorkerTokenLimits map[string]int       `json:"worker_token_limits,omitempty"`
	Models            map[string]*Model    `json:"models"`
	Orders            map[string]*Order    `json:"orders"`
	Jobs              map[string]*Job      `json:"jobs"`
	Workers           map[string]*Worker   `json:"workers"`
	Nodes             map[string]*NodeInfo `json:"nodes"`
	// Requests maps community + "/" + request_id to the order it made.
	Requests map[string]string `json:"requests"`
	// Uploads are large models arriving in chunks, by hash.
	Uploads map[string]*Upload `json:"uploads"`
	// Epoch is the last fencing token handed out.
	Epoch uint64 `json:"epoch"`

	// models holds the bytes of the models in Models.
	models ModelStore
}

// Community is an ordering community.
type Community struct {
	Name      string  `json:"name"`
	Weight    float64 `json:"weight"`
	TokenHash string  `json:"token_hash"`
	Created   int64   `json:"created"`
	// UsedSeconds is the printer time given to the community so far.
	UsedSeconds float64 `json:"used_seconds"`
}

// Model is a stored model, content-addressed by SHA256. Its bytes are in
// the state's ModelStore.
type Model struct {
	SHA256     string     `json:"sha256"`
	Size       int64      `json:"size"`
	Name       string     `json:"name"`
	SizeMM     [3]float64 `json:"size_mm"`
	VolumeMM3  float64    `json:"volume_mm3"`
	SurfaceMM2 float64    `json:"surface_mm2"`
}

// Upload is a large model partly received; Bytes holds the Received
// bytes so far (in the snapshot, not in the model store: they are not a
// model yet).
type Upload struct {
	Model    Model  `json:"model"`
	Received int64  `json:"received"`
	Started  int64  `json:"started"`
	Bytes    []byte `json:"-"`
}

// Order is one order of Quantity copies of a model.
type Order struct {
	ID           string   `json:"id"`
	Community    string   `json:"community"`
	ModelSHA256  string   `json:"model_sha256"`
	ModelName    string   `json:"model_name"`
	Quantity     int      `json:"quantity"`
	Material     string   `json:"material"`
	Colour       string   `json:"colour,omitempty"`
	LayerHeight  float64  `json:"layer_height"`
	Infill       float64  `json:"infill"`
	Deadline     string   `json:"deadline,omitempty"`
	DeadlineUnix int64    `json:"deadline_unix,omitempty"`
	PickupNote   string   `json:"pickup_note,omitempty"`
	RequestID    string   `json:"request_id,omitempty"`
	State        string   `json:"state"`
	Created      int64    `json:"created"`
	JobIDs       []string `json:"job_ids"`
}

// Job is one copy of an order.
type Job struct {
	ID      string `json:"id"`
	OrderID string `json:"order_id"`
	Copy    int    `json:"copy"`
	State   string `json:"state"`
	// WorkerID is the worker whose printer holds or last held the job
	// (the JSON name is the log's and snapshots' since version 1).
	WorkerID string `json:"printer,omitempty"`
	Attempts int    `json:"attempts"`
	Epoch    uint64 `json:"epoch"`
	// CancelRequested: the order was cancelled while the job was with a
	// worker; the next progress answer says "cancel".
	CancelRequested bool          `json:"cancel_requested,omitempty"`
	Failures        []api.Failure `json:"failures,omitempty"`
	Excluded        []string      `json:"excluded,omitempty"`
	// Assignments lists every (worker, epoch) the job was given, so a
	// late report can be checked against a real past assignment.
	Assignments []Assignment  `json:"assignments,omitempty"`
	EstSeconds  float64       `json:"est_seconds,omitempty"`
	Progress    *api.Progress `json:"progress,omitempty"`
	Pickup      string        `json:"pickup,omitempty"`
	Updated     int64         `json:"updated"`

	// The fields below are set only by commands under RulesLifecycle
	// (rules.go), so states built from older logs encode as they did.

	// Skips are printers that refused the copy for a passing reason,
	// each until a time (unix ns): the copy is not placed there before.
	Skips []Skip `json:"skips,omitempty"`
	// Waiting says what a pending copy last waited for (a temporary
	// refusal's reason).
	Waiting string `json:"waiting,omitempty"`
	// PrintStarted is the command time of the present lease's first
	// printing report; Charged is what the lease has charged its
	// community so far, in printer seconds.
	PrintStarted int64   `json:"print_started,omitempty"`
	Charged      float64 `json:"charged,omitempty"`
	// FailedTokens are the worker tokens (hashes) whose printers failed
	// the copy: one token's printers together fail a copy at most once,
	// and none of them is offered it again.
	FailedTokens []string `json:"failed_tokens,omitempty"`
}

// Skip keeps a copy off one printer until a time (unix ns).
type Skip struct {
	WorkerID string `json:"printer"`
	Until    int64  `json:"until"`
}

// Active reports whether the job is with a worker.
func (j *Job) Active() bool {
	return j.State == api.JobAssigned || j.State == api.JobSlicing || j.State == api.JobPrinting
}

// Terminal reports whether the job will not change any more.
func (j *Job) Terminal() bool {
	return j.State == api.JobDone || j.State == api.JobFailed || j.State == api.JobCancelled
}

// Assignment is one past or present lease of a job: the worker it was
// leased to and the lease's epoch.
type Assignment struct {
	WorkerID string `json:"printer"`
	Epoch    uint64 `json:"epoch"`
	// Outcome is what the holder reported for this lease (RulesLifecycle):
	// once recorded, no other result or progress for it is taken.
	Outcome string `json:"outcome,omitempty"`
	// Printed: the holder reported printing under this lease (its bed is
	// not clear when the lease ends).
	Printed bool `json:"printed,omitempty"`
}

// Worker is a registered printer and its worker.
type Worker struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Profile       string     `json:"profile"`
	BuildMM       [3]float64 `json:"build_mm"`
	NozzleMM      float64    `json:"nozzle_mm"`
	Material      string     `json:"material"`
	Colour        string     `json:"colour,omitempty"`
	Hours         string     `json:"hours,omitempty"`
	Timezone      string     `json:"timezone,omitempty"` // IANA zone of Hours; "" = UTC
	MaxJobHours   float64    `json:"max_job_hours,omitempty"`
	GossipAddr    string     `json:"gossip_addr,omitempty"`
	Neighbourhood string     `json:"neighbourhood,omitempty"`
	State         string     `json:"state"`
	Job           string     `json:"job,omitempty"`
	Successes     int        `json:"successes"`
	Failures      int        `json:"failures"`
	Registered    int64      `json:"registered"`
	// TokenHash is the hash of the worker token that registered the
	// worker first: only that token may register it again or act for it
	// (heartbeat, assignment, progress, result, bed clear) until an admin
	// releases it. Empty for a worker registered before workers were
	// bound to tokens (an older snapshot or log) or released: its next
	// registration binds it. omitempty keeps such a worker's snapshot
	// encoding as it was.
	TokenHash string `json:"token_hash,omitempty"`
}

// NodeInfo is one coordinator's addresses, recorded when it joins.
type NodeInfo struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
}

// NewState returns an empty state whose models are kept in memory.
func NewState() *State {
	return &State{
		models:            NewMemModels(),
		Communities:       map[string]*Community{},
		AdminTokens:       map[string]bool{},
		WorkerTokens:      map[string]string{},
		WorkerTokenLimits: map[string]int{},
		Models:            map[string]*Model{},
		Orders:            map[string]*Order{},
		Jobs:              map[string]*Job{},
		Workers:           map[string]*Worker{},
		Nodes:             map[string]*NodeInfo{},
		Uploads:           map[string]*Upload{},
		Requests:          map[string]string{},
	}
}

// SortedKeys returns a map's keys in order, for deterministic iteration.
func SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// OrderJobs returns an order's jobs in copy order.
func (s *State) OrderJobs(o *Order) []*Job {
	js := make([]*Job, 0, len(o.JobIDs))
	for _, id := range o.JobIDs {
		if j := s.Jobs[id]; j != nil {
			js = append(js, j)
		}
	}
	return js
}

// refreshOrder recomputes an order's state from its jobs: open while any
// job can still print; else done if every job is done, failed if any
// failed, cancelled otherwise.
func (s *State) refreshOrder(o *Order) {
	done, failed, cancelled, total := 0, 0, 0, 0
	for _, j := range s.OrderJobs(o) {
		total++
		switch j.State {
		case api.JobDone:
			done++
		case api.JobFailed:
			failed++
		case api.JobCancelled:
			cancelled++
		}
	}
	switch {
	case done+failed+cancelled < total:
		o.State = api.OrderOpen
	case done == total:
		o.State = api.OrderDone
	case failed > 0:
		o.State = api.OrderFailed
	default:
		o.State = api.OrderCancelled
	}
}

// JobsDone counts an order's finished copies.
func (s *State) JobsDone(o *Order) int {
	n := 0
	for _, j := range s.OrderJobs(o) {
		if j.State == api.JobDone {
			n++
		}
	}
	return n
}

// fillNil replaces nil maps (from a snapshot) with empty ones.
func (s *State) fillNil() {
	e := NewState()
	if s.Communities == nil {
		s.Communities = e.Communities
	}
	if s.AdminTokens == nil {
		s.AdminTokens = e.AdminTokens
	}
	if s.WorkerTokens == nil {
		s.WorkerTokens = e.WorkerTokens
	}
	if s.WorkerTokenLimits == nil {
		s.WorkerTokenLimits = e.WorkerTokenLimits
	}
	if s.Models == nil {
		s.Models = e.Models
	}
	if s.Orders == nil {
		s.Orders = e.Orders
	}
	if s.Jobs == nil {
		s.Jobs = e.Jobs
	}
	if s.Workers == nil {
		s.Workers = e.Workers
	}
	if s.Nodes == nil {
		s.Nodes = e.Nodes
	}
	if s.Uploads == nil {
		s.Uploads = e.Uploads
	}
	if s.Requests == nil {
		s.Requests = e.Requests
	}
}

// clone copies the state for a snapshot: every map and record is copied;
// slices and byte buffers are shared, which is safe because Apply only
// appends to them (beyond the copy's length) or replaces them, never
// changes an element in place. The model store is shared too: it only
// ever gains models, and never changes one.
func (s *State) clone() *State {
	c := NewState()
	c.Epoch, c.models = s.Epoch, s.models
	for k, v := range s.Communities {
		x := *v
		c.Communities[k] = &x
	}
	for k, v := range s.AdminTokens {
		c.AdminTokens[k] = v
	}
	for k, v := range s.WorkerTokens {
		c.WorkerTokens[k] = v
	}
	for k, v := range s.WorkerTokenLimits {
		c.WorkerTokenLimits[k] = v
	}
	for k, v := range s.Models {
		x := *v
		c.Models[k] = &x
	}
	for k, v := range s.Orders {
		x := *v
		c.Orders[k] = &x
	}
	for k, v := range s.Jobs {
		x := *v
		c.Jobs[k] = &x
	}
	for k, v := range s.Workers {
		x := *v
		c.Workers[k] = &x
	}
	for k, v := range s.Nodes {
		x := *v
		c.Nodes[k] = &x
	}
	for k, v := range s.Requests {
		c.Requests[k] = v
	}
	for k, v := range s.Uploads {
		x := *v
		c.Uploads[k] = &x
	}
	return c
}
