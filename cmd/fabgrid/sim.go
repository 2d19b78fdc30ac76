//go:build !slicer

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/fabgrid/fabgrid/sim"
)

func init() {
	register(command{name: "sim", summary: "simulate a neighbourhood: coordinators, printers, orders and faults, with invariant checks", run: runSim})
}

const simHelp = `Runs real coordinators (raft, HTTP API, leases, placement) and real worker
daemons with simulated printers in this process, feeds them a seeded workload
of orders from weighted communities, injects faults, waits until every order
finished, then checks the invariants: no acknowledged order lost, no copy
counted done twice, every job done, cancelled or failed with reasons, no
printer given two jobs at once, printers' records agree with the
coordinators, and the coordinators agree with each other.

Printing is simulated at --speed-up times real time; raft, HTTP and the
workers run on real time, so fault periods given in simulated time are
divided by --speed-up (at least 1 s of real time each).

--faults takes a comma-separated list:
  leader-crash=every:10m   kill the raft leader this often (back 1 s later)
  partition=every:30m      cut a coordinator (the leader every other time)
                           and a tenth of the printers off for 1.5 s
  worker-churn=5%          this share of workers crash once, back later
  printer-faults=2%        this share of printers: thermal runaway,
                           disconnect or a noisy line
  owner-pauses=1%          this share of printers paused for a while

The same --seed gives the same workload, fleet and fault schedule. Figures
that depend on real timing (makespan, utilisation, fairness, failovers,
requeues) can differ between runs; the invariant results must not.
Exit status 3 when an invariant broke (the seed is printed to replay it).`

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim", "sim [--coordinators 3] [--printers 500] [--orders 2000] [--faults SPEC] [--seed N] [--json]", simHelp, stderr)
	coords := fs.Int("coordinators", 3, "coordinators (raft voters)")
	printers := fs.Int("printers", 50, "printers, each with its own worker")
	orders := fs.Int("orders", 300, "orders to submit")
	faults := fs.String("faults", "", "fault load, e.g. leader-crash=every:10m,partition=every:30m,worker-churn=5%")
	seed := fs.Uint64("seed", 1, "seed of the workload, fleet and fault schedule")
	ownerHours := fs.Bool("owner-hours", true, "spread the owners over several time zones with daily windows around now (a tenth closed for now); false: every owner in UTC, printing at any time")
	speed := fs.Float64("speed-up", 600, "simulated printing runs this many times faster than real time")
	hours := fs.Float64("hours", 4, "orders arrive over this many simulated hours")
	petg := fs.Float64("petg", 0.15, "share of orders (and of printers) using PETG rather than PLA")
	maxQty := fs.Int("max-qty", 2, "copies per order are 1..max-qty")
	cancels := fs.Float64("cancel", 0.02, "share of orders cancelled by their community soon after submission")
	deadlines := fs.Float64("deadlines", 0.3, "share of orders with a deadline")
	bursts := fs.Float64("bursts", 0.2, "share of orders arriving in bursts")
	virtual := fs.Int("virtual", 0, "this many printers are Marlin emulators (printerdrv) fed by the real slicer over in-memory serial links")
	withGossip := fs.Bool("gossip", false, "give every coordinator and worker a real gossip node on an in-memory network that partitions and crashes cut too (costs CPU: on 2 cores about 100 printers run comfortably, 200 saturate the machine, 500 do not get going)")
	period := fs.Duration("heartbeat", 0, "worker heartbeat and progress period, real time (default 300ms, 1s above 100 printers)")
	settle := fs.Duration("settle-timeout", 10*time.Minute, "how long to wait for every order to finish after the faults (real time)")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	verbose := fs.Bool("v", false, "log the coordinators and workers to stderr (warnings and up)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("sim: unexpected argument %q (see fabgrid sim --help)", fs.Arg(0))}
	}
	switch {
	case *coords < 1:
		return &exitError{2, errors.New("sim: --coordinators must be at least 1")}
	case *printers < 1:
		return &exitError{2, errors.New("sim: --printers must be at least 1")}
	case *orders < 0 || *speed <= 0 || *hours <= 0 || *maxQty < 1:
		return &exitError{2, errors.New("sim: --orders, --speed-up, --hours and --max-qty must be positive")}
	}
	fl, err := sim.ParseFaults(*faults, *speed)
	if err != nil {
		return &exitError{2, err}
	}
	hb := *period
	if hb <= 0 {
		hb = 300 * time.Millisecond
		if *printers > 100 {
			hb = time.Second
		}
	}
	window := time.Duration(*hours * float64(time.Hour) / *speed)
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	progress := func(s string) { fmt.Fprintln(stderr, "sim:", s) }
	if *quiet {
		progress = nil
	}
	sc := sim.Scenario{
		Options: sim.Options{
			Seed: *seed, Coordinators: *coords, Printers: *printers, SpeedUp: *speed,
			PETGFraction: *petg, ManualClear: 0.2, HeartbeatInterval: hb, Logger: logger, VirtualPrinters: *virtual,
			Gossip: *withGossip, OwnerHours: *ownerHours,
		},
		Workload: sim.WorkloadConfig{
			Orders: *orders, Window: window, BurstFraction: *bursts, MaxQuantity: *maxQty,
			PETGFraction: *petg, DeadlineFraction: *deadlines, CancelFraction: *cancels,
		},
		Faults: fl, SettleTimeout: *settle, Progress: progress, ProgressEvery: 5 * time.Second,
	}
	rep, err := sim.Run(ctx, sc)
	if err != nil {
		return fmt.Errorf("sim (seed %d): %w", *seed, err)
	}
	if *jsonOut {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		return &exitError{3, fmt.Errorf("sim: an invariant broke; replay with --seed %d", *seed)}
	}
	return nil
}
