package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/fabgrid/fabgrid/worker"
)

// Options configure a simulated neighbourhood.
type Options struct {
	Seed         uint64
	Coordinators int
	Printers     int
	// OwnerHours spreads the owners over several time zones with daily
	// windows around the present (PlanOwnerHours), a tenth of them
	// closed for now.
	OwnerHours bool
	// SpeedUp: simulated printing runs this many times faster than real
	// time (default 300).
	SpeedUp float64
	// PETGFraction of printers load PETG (default 0.2); ManualClear of the
	// owners clear beds by hand (default 0.2).
	PETGFraction float64
	ManualClear  float64
	// HandClearing: beds of hand-clearing printers wait for ClearBed
	// instead of a simulated owner.
	HandClearing bool
	// VirtualPrinters: this many of the printers (the first ones) are
	// printerdrv Marlin emulators fed real slicer output over an in-memory
	// serial link; the others are SimPrinters.
	VirtualPrinters int
	// Communities (default DefaultCommunities).
	Communities []Community
	// LostAfter for the coordinators (default 3 s of real time, at least
	// 10 × HeartbeatInterval); HeartbeatInterval is also how often workers
	// report progress (default 300 ms; raise it for hundreds of printers
	// on a small machine).
	LostAfter         time.Duration
	HeartbeatInterval time.Duration
	// Dir for the workers' state dirs (default: a temporary dir, removed
	// by Close).
	Dir    string
	Logger *slog.Logger
	// SubmitPatience: how long a neighbour keeps retrying one order
	// (default 15 s).
	SubmitPatience time.Duration
	// Gossip gives every coordinator and worker a real gossip node
	// (package gossip, memberlist) on an in-memory network whose links
	// follow the simulation's: partitions and crashes cut gossip as they
	// cut raft and HTTP.
	Gossip bool
}

// Sim is a running neighbourhood with its fault API. Create it with Start;
// Close it.
type Sim struct {
	opts    Options
	net     *faultNet
	gossip  *simGossip // nil without Options.Gossip
	Cluster *Cluster
	Fleet   *Fleet
	admin   *client.Client
	tokens  map[string]string // community → token
	clients map[string]*client.Client
	tmpDir  string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	acked   map[string]AckedOrder // order id → what was acknowledged
	started time.Time
	events  []Event
	mon     monitor
	// tamper, when set, changes the state copies Check reads (tests
	// that show each invariant fires).
	tamper func(states []stateCopy)
}

// AckedOrder is an order a client got a 201 (or an idempotent 200) for.
type AckedOrder struct {
	ID        string    `json:"id"`
	Community string    `json:"community"`
	Quantity  int       `json:"quantity"`
	At        time.Time `json:"at"`
}

// Event is one injected fault or notable happening, for the report.
type Event struct {
	At     time.Duration `json:"at"`
	Kind   string        `json:"kind"`
	Target string        `json:"target,omitempty"`
}

// Start starts the coordinators, creates the communities and starts the
// printers' workers, and waits until every worker registered.
func Start(ctx context.Context, o Options) (*Sim, error) {
	if o.Coordinators <= 0 {
		o.Coordinators = 3
	}
	if o.SpeedUp <= 0 {
		o.SpeedUp = 300
	}
	if len(o.Communities) == 0 {
		o.Communities = DefaultCommunities()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 300 * time.Millisecond
	}
	if o.LostAfter <= 0 {
		o.LostAfter = max(3*time.Second, 10*o.HeartbeatInterval)
	}
	s := &Sim{opts: o, net: newFaultNet(), tokens: map[string]string{}, clients: map[string]*client.Client{},
		acked: map[string]AckedOrder{}, started: time.Now()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "fabgrid-sim-")
		if err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		o.Dir, s.tmpDir = d, d
	}
	if o.Gossip {
		s.gossip = newSimGossip(s.net)
	}
	c, err := startCluster(ctx, ClusterConfig{
		Coordinators: o.Coordinators, LostAfter: o.LostAfter, HeartbeatInterval: o.HeartbeatInterval, Logger: o.Logger,
		gossip: s.gossip,
	}, s.net)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Cluster = c
	s.admin, err = s.newClient("client", c.AdminToken)
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, cm := range o.Communities {
		var cr *api.CommunityCreated
		err := c.waitFor(ctx, 20*time.Second, "community "+cm.Name, func() bool {
			var err error
			cr, err = s.admin.CreateCommunity(ctx, cm.Name, cm.Weight)
			return err == nil || client.IsCode(err, api.CodeConflict)
		})
		if err == nil && cr == nil {
			err = errors.New("it exists already, its token is unknown")
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sim: create community %s: %w", cm.Name, err)
		}
		s.tokens[cm.Name] = cr.Token
		if s.clients[cm.Name], err = s.newClient("client", cr.Token); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.Fleet = newFleet(FleetConfig{SpeedUp: o.SpeedUp, Dir: o.Dir, Logger: o.Logger, Period: o.HeartbeatInterval,
		HandClearing: o.HandClearing, gossip: s.gossip}, s.net, c.URLs(), c.WorkerToken)
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	specs := PlanPrinters(rng, o.Printers, o.PETGFraction, o.ManualClear)
	if o.OwnerHours {
		PlanOwnerHours(rng, specs, time.Now(), 0.1)
	}
	for i, spec := range specs {
		spec.Virtual = i < o.VirtualPrinters
		if err := s.Fleet.add(spec); err != nil {
			s.Close()
			return nil, err
		}
	}
	if !o.HandClearing {
		s.goFunc(func() { s.Fleet.ownerLoop(s.ctx) })
	}
	s.goFunc(func() { s.mon.run(s.ctx, s) })
	if err := c.waitFor(ctx, 30*time.Second+time.Duration(o.Printers)*50*time.Millisecond, "every printer to register", func() bool {
		return s.registered() >= o.Printers
	}); err != nil {
		s.Close()
		return nil, err
	}
	s.started = time.Now()
	return s, nil
}

func (s *Sim) goFunc(f func()) {
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
}

func (s *Sim) newClient(src NodeID, token string) (*client.Client, error) {
	return client.New(s.Cluster.URLs(), client.Options{
		Token: token, HTTPClient: s.net.client(src), Timeout: 3 * time.Second,
		Attempts: 10, BackoffBase: 50 * time.Millisecond, BackoffMax: 500 * time.Millisecond,
		Logger: s.opts.Logger.With("client", string(src)),
	})
}

// registered counts the workers the leader knows.
func (s *Sim) registered() int {
	l := s.Cluster.leaderNode()
	if l == nil {
		return 0
	}
	n := 0
	l.FSM().View(func(st *fsm.State) { n = len(st.Workers) })
	return n
}

func (s *Sim) event(kind, target string) {
	s.mu.Lock()
	s.events = append(s.events, Event{At: time.Since(s.started), Kind: kind, Target: target})
	s.mu.Unlock()
}

// CrashCoordinator kills coordinator i (0-based) abruptly.
func (s *Sim) CrashCoordinator(i int) error {
	if err := s.Cluster.crash(i); err != nil {
		return err
	}
	s.Cluster.connectRaft()
	s.event("coordinator-crash", string(s.Cluster.ids[i]))
	return nil
}

// RestartCoordinator starts coordinator i again from its stores.
func (s *Sim) RestartCoordinator(i int) error {
	if err := s.Cluster.restart(i); err != nil {
		return err
	}
	s.event("coordinator-restart", string(s.Cluster.ids[i]))
	return nil
}

// Partition splits the nodes into groups that cannot reach each other
// over raft or HTTP; nodes in no group join the first group.
func (s *Sim) Partition(groups ...[]NodeID) {
	s.net.partition(groups)
	s.Cluster.connectRaft()
	s.event("partition", fmt.Sprint(groups))
}

// Heal ends every partition.
func (s *Sim) Heal() {
	s.net.heal()
	s.Cluster.connectRaft()
	s.event("heal", "")
}

// CrashWorker crashes printer id's worker (and the print it streams).
func (s *Sim) CrashWorker(id NodeID) error {
	if err := s.Fleet.crash(id); err != nil {
		return err
	}
	s.event("worker-crash", string(id))
	return nil
}

// RestartWorker restarts printer id's worker from its state dir.
func (s *Sim) RestartWorker(id NodeID) error {
	if err := s.Fleet.restart(id); err != nil {
		return err
	}
	s.event("worker-restart", string(id))
	return nil
}

// InjectPrinterFault applies a printer fault; it reports whether a print
// was running.
func (s *Sim) InjectPrinterFault(id NodeID, f PrinterFault) (bool, error) {
	p := s.Fleet.Printer(id)
	if p == nil {
		return false, fmt.Errorf("%w: no printer %s", ErrFleet, id)
	}
	s.event("printer-"+string(f), string(id))
	return p.Inject(f), nil
}

// OwnerPause, OwnerResume and ClearBed are the owner's controls.
func (s *Sim) OwnerPause(id NodeID) error {
	s.event("owner-pause", string(id))
	return s.Fleet.command(s.ctx, id, worker.CmdPause)
}

// OwnerResume resumes a paused printer.
func (s *Sim) OwnerResume(id NodeID) error {
	s.event("owner-resume", string(id))
	return s.Fleet.command(s.ctx, id, worker.CmdResume)
}

// ClearBed confirms the finished part was taken off the bed.
func (s *Sim) ClearBed(id NodeID) error {
	s.event("bed-clear", string(id))
	return s.Fleet.command(s.ctx, id, worker.CmdClear)
}

// Submit submits a planned order; it returns the order's ID when the
// coordinators acknowledged it.
func (s *Sim) Submit(ctx context.Context, m Model, po PlannedOrder) (string, error) {
	cl := s.clients[po.Community]
	if cl == nil {
		return "", fmt.Errorf("sim: unknown community %q", po.Community)
	}
	req := client.OrderRequest{
		Community: po.Community, Quantity: po.Quantity, Material: po.Material,
		RequestID: fmt.Sprintf("sim-%d-%d", s.opts.Seed, po.Seq),
	}
	if po.Deadline > 0 {
		req.Deadline = time.Now().Add(po.Deadline).UTC().Format(time.RFC3339)
	}
	// A neighbour keeps trying for a while: the request id makes every
	// retry the same order, so a retry after an unanswered attempt cannot
	// create a second one. A refusal (4xx other than 409) is final.
	var (
		o   *api.Order
		err error
	)
	giveUp := time.Now().Add(s.submitPatience())
	for {
		o, err = cl.SubmitOrder(ctx, client.BytesModel(m.Name+".stl", m.STL), req)
		var ae *client.APIError
		final := errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusConflict
		if err == nil || final || ctx.Err() != nil || time.Now().After(giveUp) {
			break
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.acked[o.ID] = AckedOrder{ID: o.ID, Community: po.Community, Quantity: po.Quantity, At: time.Now()}
	s.mu.Unlock()
	return o.ID, nil
}

func (s *Sim) submitPatience() time.Duration {
	if s.opts.SubmitPatience > 0 {
		return s.opts.SubmitPatience
	}
	return 15 * time.Second
}

// Cancel cancels an order as its community.
func (s *Sim) Cancel(ctx context.Context, community, id string) error {
	_, err := s.clients[community].CancelOrder(ctx, id)
	return err
}

// Acked returns the acknowledged orders.
func (s *Sim) Acked() map[string]AckedOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]AckedOrder, len(s.acked))
	for k, v := range s.acked {
		out[k] = v
	}
	return out
}

// Settled reports whether every order the leader knows is finished and
// no printer is still busy with a job. It is false without a leader.
func (s *Sim) Settled() bool {
	l := s.Cluster.leaderNode()
	if l == nil {
		return false
	}
	ok := true
	l.FSM().View(func(st *fsm.State) {
		for _, o := range st.Orders {
			if o.State == api.OrderOpen {
				ok = false
				return
			}
		}
		for _, j := range st.Jobs {
			if !j.Terminal() {
				ok = false
				return
			}
		}
	})
	return ok
}

// RecoverAll heals partitions and restarts every crashed coordinator and
// worker, resuming paused printers.
func (s *Sim) RecoverAll() error {
	s.net.heal()
	s.Cluster.connectRaft()
	var errs []error
	for i := range s.Cluster.ids {
		if s.Cluster.Node(i) == nil {
			errs = append(errs, s.RestartCoordinator(i))
		}
	}
	for _, id := range s.Fleet.IDs() {
		if !s.Fleet.Running(id) {
			errs = append(errs, s.RestartWorker(id))
		}
	}
	return errors.Join(errs...)
}

// WaitSettled waits until Settled holds, or the timeout passes.
func (s *Sim) WaitSettled(ctx context.Context, timeout time.Duration) error {
	return s.Cluster.waitFor(ctx, timeout, "every order to finish", s.Settled)
}

// Close stops everything.
func (s *Sim) Close() {
	s.cancel()
	s.wg.Wait()
	if s.Fleet != nil {
		s.Fleet.stop()
	}
	if s.Cluster != nil {
		s.Cluster.close()
	}
	s.net.close()
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
}
