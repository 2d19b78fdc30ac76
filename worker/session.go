package worker

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
)

// session keeps the worker known to the coordinators: it registers,
// heartbeats, re-registers after a failover or an unknown_worker answer,
// and long-polls for assignments while the machine wants work.
type session struct {
	w          *Worker
	registered atomic.Bool
	regErr     atomic.Pointer[string] // why the last registration failed; nil once one succeeds
	regKick    chan struct{}          // register again now
	regDone    chan struct{}          // a registration succeeded
	hbEvery    atomic.Int64           // ns
}

func newSession(w *Worker) *session {
	s := &session{w: w, regKick: make(chan struct{}, 1), regDone: make(chan struct{}, 1)}
	s.hbEvery.Store(int64(5 * time.Second))
	return s
}

// registerError is why the worker is not registered, or "" when its last
// registration succeeded (or none has failed yet).
func (s *session) registerError() string {
	if p := s.regErr.Load(); p != nil {
		return *p
	}
	return ""
}

// backoff returns the k-th pause (0-based): 250 ms doubling to 10 s,
// jittered to 50–100 %.
func backoff(k int) time.Duration {
	d := 250 * time.Millisecond << min(k, 6)
	d = min(d, 10*time.Second)
	return time.Duration(float64(d) * (0.5 + 0.5*rand.Float64()))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *session) registerRequest() api.RegisterRequest {
	c := s.w.cfg
	st, _ := s.w.state.Load().(string)
	if st == api.WorkerBusy {
		// Registration takes idle|awaiting-bed-clear|paused; a worker the
		// log gives a job stays busy there, and the heartbeat says busy.
		st = ""
	}
	r := api.RegisterRequest{
		ID: s.w.id, Name: c.Name, Profile: c.Printer.ID,
		BuildMM:  [3]float64{c.Printer.BuildVolume.X, c.Printer.BuildVolume.Y, c.Printer.BuildVolume.Z},
		NozzleMM: c.Printer.NozzleMM, Material: c.Material.ID, Colour: c.Colour,
		Hours: c.Hours.String(), MaxJobHours: c.MaxJobHours, Neighbourhood: c.Neighbourhood, State: st,
	}
	if !c.Hours.Always() {
		r.Timezone = c.Hours.ZoneName()
	}
	if g := s.w.gossip; g != nil {
		r.GossipAddr = g.node.Addr()
	}
	return r
}

func (s *session) register(ctx context.Context) error {
	req := s.registerRequest()
	resp, err := s.w.coord.Register(ctx, req)
	if err != nil && req.State == api.WorkerBusy && client.StatusOf(err) == 400 {
		// A coordinator that only takes idle|awaiting-bed-clear|paused at
		// registration: register without a state; the heartbeat says busy.
		req.State = ""
		resp, err = s.w.coord.Register(ctx, req)
	}
	if err != nil {
		msg := err.Error()
		s.regErr.Store(&msg)
		return err
	}
	s.regErr.Store(nil)
	if iv := time.Duration(resp.HeartbeatIntervalMS) * time.Millisecond; iv > 0 {
		s.hbEvery.Store(int64(iv))
	}
	if s.w.cfg.HeartbeatEvery > 0 {
		s.hbEvery.Store(int64(s.w.cfg.HeartbeatEvery))
	}
	s.registered.Store(true)
	kick(s.regDone)
	s.w.log.Info("registered", "leader", resp.Leader, "heartbeat", time.Duration(s.hbEvery.Load()), "lost_after_ms", resp.LostAfterMS)
	return nil
}

// heartbeats registers, then heartbeats every interval and whenever the
// state changes. Any failed heartbeat makes the next contact a fresh
// registration: after a failover the new leader learns the worker's
// current capabilities and state at once.
func (s *session) heartbeats(ctx context.Context) {
	fails := 0
	for ctx.Err() == nil {
		if !s.registered.Load() {
			if err := s.register(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.w.log.Warn("cannot register with the coordinators; retrying", "err", err)
				sleepCtx(ctx, backoff(fails))
				fails++
				continue
			}
			fails = 0
		}
		t := time.NewTimer(time.Duration(s.hbEvery.Load()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.regKick:
			t.Stop()
			s.registered.Store(false)
			continue
		case <-s.w.stateKick:
		case <-t.C:
		}
		t.Stop()
		st, _ := s.w.state.Load().(string)
		if err := s.w.coord.Heartbeat(ctx, s.w.id, st); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.registered.Store(false)
			if client.IsCode(err, api.CodeUnknownWorker) {
				s.w.log.Info("coordinator does not know this worker; registering again")
			} else {
				s.w.log.Warn("heartbeat failed; will register again", "err", err)
				sleepCtx(ctx, backoff(fails))
				fails++
			}
		}
	}
}

// poll long-polls for assignments whenever the machine wants work and the
// worker is registered.
func (s *session) poll(ctx context.Context) {
	fails := 0
	for ctx.Err() == nil {
		if !s.registered.Load() {
			select {
			case <-ctx.Done():
				return
			case <-s.regDone:
			}
			continue
		}
		if !s.w.wantWork.Load() {
			select {
			case <-ctx.Done():
				return
			case <-s.w.workKick:
			}
			continue
		}
		a, err := s.w.coord.GetAssignment(ctx, s.w.id, s.w.cfg.PollWait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if client.IsCode(err, api.CodeUnknownWorker) || client.StatusOf(err) == 404 {
				kick(s.regKick)
				s.registered.Store(false)
			} else {
				s.w.log.Warn("waiting for work failed; retrying", "err", err)
			}
			sleepCtx(ctx, backoff(fails))
			fails++
			continue
		}
		fails = 0
		if a == nil {
			continue
		}
		// Hand it to the loop and wait, so wantWork is current again.
		a2 := *a
		_ = s.w.call(ctx, func() { s.w.apply(s.w.m.Assign(a2, s.w.now())) })
	}
}
