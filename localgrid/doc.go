// Package localgrid assembles a fabgrid grid inside one process: real
// coordinators (package coordinator) with their gossip nodes (package
// gossip), and real workers (package worker) on virtual printers (package
// printerdrv/vprinter). It is the one assembler: `fabgrid dev`, the
// simulation (package sim), coordinator/coordinatortest and the worker's
// end-to-end tests all build their grids with it, and differ only in the
// configs they hand it.
//
//	Start(ctx, n, Options) ──► *Cluster: coordinator.Node × n
//	      c1 bootstraps, the others join it over HTTP; raft over TCP
//	      (data dirs or memory), or over raft's in-memory transport with
//	      stores that outlive a crash (Options.Inmem; SetLink cuts links)
//	      ├─ a gossip.Coordinator per node (Options.Gossip), joined to the
//	      │  running coordinators' gossip nodes
//	      └─ Kill, Stop, Restart, Leader, Converged, Close, KillAll
//	StartPTYPrinter ──► *PTYPrinter: a vprinter.Virtual on a pseudo-terminal
//	StartWorker     ──► *Worker: a worker.Worker running until Stop or Kill
//	DirTLS: a CA and a coordinator certificate kept in a directory
//
// The package imports no testing: coordinatortest wraps it for a
// testing.TB.
package localgrid
