// Package sim runs whole fabgrid neighbourhoods in one process: real
// coordinators (package coordinator: raft FSM, HTTP API, leases and
// placement) on raft's in-memory transport and stores, and real workers
// (package worker: the daemon's job loop, session and state file). A
// printer is either a SimPrinter (printing takes the job's estimate divided
// by the speed-up; the slicer is EstimateSlicer behind a cache, so hundreds
// of printers cost little) or a VirtualPrinter (the worker's own printer
// adapter, worker.MarlinPrinter, driving printerdrv/vprinter's Marlin
// emulator over an in-memory serial link, fed G-code from the real slicer,
// sliced once per model and printer kind).
//
//	Workload (workload.go) ──orders──► client.Client ──┐
//	                                                    │ faultNet (net.go):
//	Fleet (fleet.go): worker.Worker ──client.Client ────┤ per-source
//	      └─ SimPrinter | VirtualPrinter, CachedSlicer  │ RoundTripper that
//	                                                    ▼ drops cut links
//	Cluster (cluster.go): a localgrid.Cluster of coordinator.Node × N,
//	      raft.InmemTransport (SetLink = partition), stores kept for restarts
//	                     │
//	Scenario (scenario.go) drives faults on a seeded schedule, then
//	Check (invariants.go) and Report (report.go).
//
// Gossip (gossip.go, Options.Gossip): every coordinator and worker also
// runs a real gossip node (package gossip over memberlist) on a
// gossip.MemNetwork whose links follow the faultNet, so one Partition or
// crash cuts raft, HTTP (forwarded writes included) and gossip alike.
//
// Time. The coordinator always listens on a real loopback socket and the
// worker uses real tickers, so neither can run inside a testing/synctest
// bubble (a goroutine blocked in Accept is not durably blocked, the bubble's
// clock never advances). The harness therefore runs on real time and
// compresses printing: a job's simulated duration (its estimate) passes
// SpeedUp times faster. What the same seed fixes: the workload (orders,
// communities, models, deadlines), the fault schedule and its targets. What
// real timing makes vary between runs: which coordinator leads, failover
// durations, requeue counts, makespan, utilisation and fairness (slightly),
// and the exact interleaving. The invariant results must not vary.
//
// Scale (gossipscale.go): RunGossipScale starts N real memberlist members
// (package gossip) on loopback, or on gossip.MemNetwork, and measures
// forming, CPU, memory and the time for every survivor's view to converge
// after a fraction die. Membership, unlike the rest, does run in a
// testing/synctest bubble when it is on MemNetwork (no sockets):
// memberlist's timers then run on the bubble's fake clock, which stands
// still while the CPU works, so a thousand members on two cores are no
// longer falsely suspected for answering late. memberlist's own
// randomness (probe order, gossip targets, timer stagger, from math/rand
// seeded by the runtime) and the goroutine schedule still make runs
// differ, bubble or not.
package sim
