// Package e2e holds the worker's end-to-end acceptance tests: real
// in-process coordinators (raft over loopback TCP, coordinatortest over
// package localgrid), real workers (package worker) slicing with package
// slicer, virtual printers (printerdrv/vprinter) on real
// pseudo-terminals at accelerated time, and real memberlist gossip on
// 127.0.0.1. Nothing is faked: the virtual printers' records prove what
// was printed.
package e2e
