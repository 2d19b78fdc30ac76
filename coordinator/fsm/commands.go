package fsm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// CommandVersion is the version every command carries. Apply rejects
// commands of another version, changing nothing.
const CommandVersion = 1

// Command types.
const (
	CmdAddAdminToken   = "add_admin_token"
	CmdAddWorkerToken  = "add_worker_token"
	CmdCreateCommunity = "create_community"
	CmdSubmitOrder     = "submit_order"
	CmdCancelOrder     = "cancel_order"
	CmdRegisterWorker  = "register_worker"
	CmdWorkerState     = "worker_state"
	CmdPlace           = "place"
	CmdProgress        = "progress"
	CmdResult          = "result"
	CmdLeaseExpired    = "lease_expired"
	CmdBedClear        = "bed_clear"
	CmdModelChunk      = "model_chunk"
	CmdSetNode         = "set_node"
	CmdRemoveNode      = "remove_node"
	CmdReleaseWorker   = "release_worker"
	// CmdWorkerTokenLimit sets how many workers a worker token may
	// register (Token.Hash, Token.MaxWorkers).
	CmdWorkerTokenLimit = "worker_token_limit"
)

// Command is one entry of the replicated log. Everything Apply needs —
// IDs, the time, limits — travels inside it, so every node applies it the
// same way. Exactly one payload field matches Type.
type Command struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	// Time is the leader's clock when it proposed the command, unix ns.
	Time int64 `json:"time"`
	// Rules names the job lifecycle rules the command applies with
	// (rules.go). Entries written before there were two carry none and
	// apply as they always did.
	Rules int `json:"rules,omitempty"`

	Token       *TokenCmd       `json:"token,omitempty"`
	Community   *CommunityCmd   `json:"community,omitempty"`
	Order       *OrderCmd       `json:"order,omitempty"`
	Cancel      *CancelCmd      `json:"cancel,omitempty"`
	Worker      *WorkerCmd      `json:"worker,omitempty"`
	WorkerState *WorkerStateCmd `json:"worker_state,omitempty"`
	Place       *PlaceCmd       `json:"place,omitempty"`
	Progress    *ProgressCmd    `json:"progress,omitempty"`
	Result      *ResultCmd      `json:"result,omitempty"`
	Lease       *LeaseCmd       `json:"lease,omitempty"`
	BedClear    *BedClearCmd    `json:"bed_clear,omitempty"`
	Node        *NodeInfo       `json:"node,omitempty"`
	Chunk       *ChunkCmd       `json:"chunk,omitempty"`
	Release     *ReleaseCmd     `json:"release,omitempty"`

	// ModelBytes carries the bytes of a new model with CmdSubmitOrder, or
	// a piece of one with CmdModelChunk. It is framed after the JSON in
	// the log entry, not base64 inside it.
	ModelBytes []byte `json:"-"`
}

// TokenCmd adds a token by its hash.
type TokenCmd struct {
	Hash string `json:"hash"`
	Name string `json:"name,omitempty"`
	// MaxWorkers, for a worker token, is how many workers it may
	// register (0: DefaultMaxWorkersPerToken).
	MaxWorkers int `json:"max_workers,omitempty"`
}

// CommunityCmd creates a community.
type CommunityCmd struct {
	Name      string  `json:"name"`
	Weight    float64 `json:"weight"`
	TokenHash string  `json:"token_hash"`
}

// OrderCmd submits an order; Model describes its model, whose bytes ride
// along unless the model is already stored.
type OrderCmd struct {
	Order Order `json:"order"`
	Model Model `json:"model"`
	// HasBytes says the entry carries the model's bytes.
	HasBytes bool `json:"has_bytes"`
}

// ChunkCmd carries one piece of a large model, at Offset; the bytes are
// framed after the JSON like an order's model. Chunks arrive in order;
// Offset 0 (re)starts the upload. The last chunk stores the model if the
// whole matches its hash. Large models travel this way so no single log
// entry is large enough to stall raft's heartbeats.
type ChunkCmd struct {
	Model  Model `json:"model"`
	Offset int64 `json:"offset"`
}

// CancelCmd cancels an order.
type CancelCmd struct {
	OrderID string `json:"order_id"`
}

// Worker token binding. A command a worker's HTTP call makes carries the
// hash of the caller's worker token in TokenHash; Apply refuses it with
// ErrWorkerToken when the worker is bound to another token
// (Worker.TokenHash). The leader's own commands (marking a silent worker
// offline) and entries written before workers were bound carry none and
// are not checked, so old logs apply as they did.

// WorkerCmd registers (or re-registers) a worker. The first registration
// with a TokenHash binds the worker to it; a TokenHash inside Worker is
// ignored.
type WorkerCmd struct {
	Worker    Worker `json:"worker"`
	TokenHash string `json:"token_hash,omitempty"`
}

// WorkerStateCmd sets a worker's state (heartbeat with a new state, or the
// leader marking a silent worker offline).
type WorkerStateCmd struct {
	WorkerID  string `json:"worker_id"`
	State     string `json:"state"`
	TokenHash string `json:"token_hash,omitempty"`
}

// PlaceCmd commits a plan's placements; Apply re-checks each.
type PlaceCmd struct {
	Placements []PlaceItem `json:"placements"`
}

// PlaceItem is one placement: a job onto a worker's printer.
type PlaceItem struct {
	JobID      string  `json:"job_id"`
	WorkerID   string  `json:"printer_id"`
	EstSeconds float64 `json:"est_seconds,omitempty"`
}

// ProgressCmd records a progress report.
type ProgressCmd struct {
	Report    api.ProgressRequest `json:"report"`
	JobID     string              `json:"job_id"`
	TokenHash string              `json:"token_hash,omitempty"`
}

// ResultCmd records a job's outcome.
type ResultCmd struct {
	Result      api.ResultRequest `json:"result"`
	JobID       string            `json:"job_id"`
	MaxAttempts int               `json:"max_attempts"`
	TokenHash   string            `json:"token_hash,omitempty"`
	// BackoffNS is how long a temporary refusal keeps the copy off the
	// refusing printer (RulesLifecycle; 0: DefaultRefusalBackoff).
	BackoffNS int64 `json:"backoff_ns,omitempty"`
}

// LeaseCmd expires a lease: the job's worker went silent.
type LeaseCmd struct {
	JobID       string `json:"job_id"`
	Epoch       uint64 `json:"epoch"`
	Reason      string `json:"reason"`
	MaxAttempts int    `json:"max_attempts"`
	// WorkerID, when set (RulesLifecycle), names a superseded holder of
	// the job at Epoch gone silent: its printer is freed, the copy is
	// left as it is.
	WorkerID string `json:"worker_id,omitempty"`
}

// BedClearCmd tells that a printer's bed was cleared.
type BedClearCmd struct {
	WorkerID  string `json:"worker_id"`
	TokenHash string `json:"token_hash,omitempty"`
}

// ReleaseCmd unbinds a worker from its token (an admin's call): the next
// registration, with any worker token, binds it again.
type ReleaseCmd struct {
	WorkerID string `json:"worker_id"`
}

// framedMagic starts a log entry that carries model bytes after its JSON:
// magic, uint32 big-endian JSON length, JSON, model bytes.
const framedMagic = 0x01

// EncodeCommand serialises a command for the log: an order submission
// in its binary form (ordercodec.go), every other command as JSON.
func EncodeCommand(c *Command) ([]byte, error) {
	if c.Type == CmdSubmitOrder && c.Order != nil {
		return encodeOrder(c)
	}
	return encodeJSON(c)
}

// encodeJSON serialises a command as JSON, framed with its model bytes
// when it carries some.
func encodeJSON(c *Command) ([]byte, error) {
	js, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	if c.ModelBytes == nil {
		return js, nil
	}
	buf := make([]byte, 5, 5+len(js)+len(c.ModelBytes))
	buf[0] = framedMagic
	binary.BigEndian.PutUint32(buf[1:5], uint32(len(js)))
	buf = append(buf, js...)
	return append(buf, c.ModelBytes...), nil
}

// DecodeCommand parses a log entry: an order in the binary form, or any
// command as JSON (as every entry was written before the binary form).
// Unknown fields, trailing data, other versions and a missing payload
// are rejected with ErrBadCommand.
func DecodeCommand(data []byte) (*Command, error) {
	if len(data) > 0 && data[0] == orderMagic {
		return decodeOrder(data)
	}
	var model []byte
	if len(data) > 0 && data[0] == framedMagic {
		if len(data) < 5 {
			return nil, fmt.Errorf("%w: short frame", ErrBadCommand)
		}
		n := binary.BigEndian.Uint32(data[1:5])
		if uint64(n) > uint64(len(data)-5) {
			return nil, fmt.Errorf("%w: frame length %d beyond entry", ErrBadCommand, n)
		}
		model = data[5+n:]
		data = data[5 : 5+n]
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Command
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrBadCommand)
	}
	if c.V != CommandVersion {
		return nil, fmt.Errorf("%w: version %d", ErrBadCommand, c.V)
	}
	if !c.hasPayload() {
		return nil, fmt.Errorf("%w: %q without its payload", ErrBadCommand, c.Type)
	}
	switch {
	case c.Type == CmdSubmitOrder && c.Order.HasBytes != (model != nil),
		c.Type == CmdModelChunk && len(model) == 0,
		c.Type != CmdSubmitOrder && c.Type != CmdModelChunk && model != nil:
		return nil, fmt.Errorf("%w: model bytes framing mismatch", ErrBadCommand)
	}
	if model != nil {
		c.ModelBytes = model
	}
	return &c, nil
}

func (c *Command) hasPayload() bool {
	switch c.Type {
	case CmdAddAdminToken, CmdAddWorkerToken, CmdWorkerTokenLimit:
		return c.Token != nil
	case CmdCreateCommunity:
		return c.Community != nil
	case CmdSubmitOrder:
		return c.Order != nil
	case CmdCancelOrder:
		return c.Cancel != nil
	case CmdRegisterWorker:
		return c.Worker != nil
	case CmdWorkerState:
		return c.WorkerState != nil
	case CmdPlace:
		return c.Place != nil
	case CmdProgress:
		return c.Progress != nil
	case CmdResult:
		return c.Result != nil
	case CmdLeaseExpired:
		return c.Lease != nil
	case CmdBedClear:
		return c.BedClear != nil
	case CmdModelChunk:
		return c.Chunk != nil
	case CmdSetNode, CmdRemoveNode:
		return c.Node != nil
	case CmdReleaseWorker:
		return c.Release != nil
	}
	return false
}
