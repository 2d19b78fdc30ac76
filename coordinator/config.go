package coordinator

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// Defaults.
const (
	DefaultLostAfter         = 60 * time.Second
	DefaultMaxModelSize      = 64 << 20
	DefaultHeartbeatInterval = 5 * time.Second
)

// Config configures a Node. Zero values take the defaults named beside
// each field; the stores and the transport may be injected (tests and the
// fleet simulation use raft's in-memory ones).
type Config struct {
	// NodeID is this coordinator's raft server ID (required).
	NodeID string
	// DataDir holds the raft log (wal/), the stable state (raft.db),
	// the snapshots (snapshots/) and the models (models/, one file per
	// sha256). Empty: everything in memory (then nothing survives a
	// restart).
	DataDir string
	// HTTPAddr is where the API listens ("127.0.0.1:8740"; port 0 picks
	// one, see Node.HTTPAddr).
	HTTPAddr string
	// RaftAddr is where the raft TCP transport listens (port 0 picks one).
	RaftAddr string
	// Bootstrap starts a new one-node cluster if there is no state yet.
	Bootstrap bool
	// Join lists coordinator URLs to ask for membership when there is no
	// state yet ("http://127.0.0.1:8740").
	Join []string
	// AdminToken and WorkerToken, when set, are added (hashed) once this
	// node leads. Needed for Join: the join call uses the admin token.
	AdminToken  string
	WorkerToken string

	// LostAfter: a job whose worker has been silent this long is requeued
	// (default 60 s).
	LostAfter time.Duration
	// MaxModelSize bounds an uploaded model (default 64 MiB).
	MaxModelSize int64
	// ModelChunkSize: a model larger than this is committed in chunks of
	// this size before its order (default 512 KiB), so that no log entry
	// is large enough to stall raft's heartbeats.
	ModelChunkSize int
	// MaxAttempts: printers a copy may fail on before it fails (default 3).
	MaxAttempts int
	// HeartbeatInterval is what workers are told to use (default 5 s).
	HeartbeatInterval time.Duration
	// TickInterval paces the leader's placement and lease checks
	// (default 250 ms). Placement also runs on every relevant change.
	TickInterval time.Duration

	// Raft timings, LAN defaults: heartbeat, election and leader lease
	// 300 ms, commit 5 ms.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// ApplyTimeout bounds one proposal (default 5 s).
	ApplyTimeout time.Duration
	// SnapshotThreshold and SnapshotInterval as in raft.Config (defaults
	// 8192 entries, 2 min); TrailingLogs default 10240. A snapshot holds
	// the state, not the models, so it is cheap; the log on disk is
	// about TrailingLogs entries (docs/benchmarks.md, "Log store").
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	// MaxAppendEntries bounds entries per AppendEntries RPC (default 32).
	// Entries that carry models can be up to MaxModelSize, so this also
	// bounds one RPC's size.
	MaxAppendEntries int

	// Clock supplies lease time and command timestamps (default system).
	Clock Clock
	// Logger for the node (default: discard). RaftLogOutput receives
	// raft's own warnings (default: discard).
	Logger        *slog.Logger
	RaftLogOutput io.Writer

	// Optional injections. When LogStore is set, StableStore and
	// SnapshotStore must be too. When Transport is set, RaftAddr is
	// ignored and the transport's LocalAddr is used.
	LogStore      raft.LogStore
	StableStore   raft.StableStore
	SnapshotStore raft.SnapshotStore
	Transport     raft.Transport
	// Placer plans placements (default: package scheduler).
	Placer Placer
	// HTTPClient is used for joining (default: 5 s timeout).
	HTTPClient *http.Client
	// ForwardTransport carries the requests a follower forwards to the
	// leader (default: a pooled transport keeping up to 128 idle
	// connections to it).
	ForwardTransport http.RoundTripper

	// TLS, when set, runs raft, forwarding and joins over mutual TLS and
	// the API over HTTPS (tls.go). Every coordinator of a cluster uses
	// TLS or none does.
	TLS *TLS
	// Insecure allows an HTTP or raft address beyond loopback without
	// TLS; the node then warns in its log and in /v1/health.
	Insecure bool
	// MetricsToken, when set, is required (as a bearer token; an admin
	// token also does) to read /metrics (health.go).
	MetricsToken string

	// HTTP server limits (limits.go, docs/api.md "Limits"). Zero takes
	// the default beside each field.
	// ReadHeaderTimeout bounds reading a request's headers (10 s);
	// IdleTimeout closes a keep-alive connection idle this long (60 s);
	// WriteTimeout bounds a whole request and its response (15 min).
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	WriteTimeout      time.Duration
	// A request body must arrive at MinBodyRate bytes/s (4 KiB/s) after
	// BodyGrace (10 s), or its connection is closed.
	BodyGrace   time.Duration
	MinBodyRate int64
	// MaxConns caps open API connections (1024); MaxUploads caps order
	// uploads over 1 MiB (or of unknown length) being read at once (16),
	// beyond which the answer is 429.
	MaxConns   int
	MaxUploads int
	// RateLimit is each token's request rate (requests/s) and RateBurst
	// its bucket; beyond, the answer is 429 with Retry-After. Zero
	// RateLimit: no per-token limit.
	RateLimit float64
	RateBurst int
}

func (c *Config) setDefaults() {
	c.setLimitDefaults()
	if c.LostAfter <= 0 {
		c.LostAfter = DefaultLostAfter
	}
	if c.MaxModelSize <= 0 {
		c.MaxModelSize = DefaultMaxModelSize
	}
	if c.ModelChunkSize <= 0 {
		c.ModelChunkSize = 512 << 10
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = fsm.DefaultMaxAttempts
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.TickInterval <= 0 {
		c.TickInterval = 250 * time.Millisecond
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 300 * time.Millisecond
	}
	if c.ElectionTimeout <= 0 {
		c.ElectionTimeout = 300 * time.Millisecond
	}
	if c.LeaderLeaseTimeout <= 0 {
		// As long as raft allows: a loaded leader that misses a beat
		// should not step down and stall every write.
		c.LeaderLeaseTimeout = c.HeartbeatTimeout
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = 5 * time.Millisecond
	}
	if c.ApplyTimeout <= 0 {
		c.ApplyTimeout = 5 * time.Second
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.SnapshotInterval <= 0 {
		c.SnapshotInterval = 2 * time.Minute
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.MaxAppendEntries <= 0 {
		c.MaxAppendEntries = 32
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RaftLogOutput == nil {
		c.RaftLogOutput = io.Discard
	}
	if c.Placer == nil {
		c.Placer = DefaultPlacer
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: c.TLS.peerHTTPTransport()}
	}
}
