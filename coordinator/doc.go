// Package coordinator is the Raft-replicated heart of fabgrid: it accepts
// orders and their models, keeps the fleet's state, places jobs on
// printers and leases them to workers, behind the HTTP API of docs/api.md.
//
// The pieces, one concern per file:
//
//	HTTP (http*.go) ──► auth, strict decoding, model check: STL or 3MF (stl.go)
//	     │   follower? ──► forward.go proxies writes to the leader
//	     ▼
//	command (fsm/commands.go, versioned, IDs and times inside)
//	     │   raft.Apply (node.go: hashicorp/raft, TCP transport; the log
//	     │   in raft-wal, the stable state in boltdb: logstore.go;
//	     │   batch.go group-commits order submissions)
//	     ▼
//	FSM (fsm.go, raft's adapter) ──► package fsm: State and apply, pure
//	     │          and deterministic; models' bytes in the model store
//	     │          on disk (modelstore.go), snapshots refer to them and
//	     │          carry them when they leave the node (snapshotstore.go;
//	     │          backups: backup.go, http_snapshot.go)
//	     ▼
//	leader loop (leader.go): barrier, fresh lease grace, placement
//	(placement.go, via package scheduler) and lease expiry (leases.go),
//	all driven by an injected Clock (clock.go).
//
// Nothing is acknowledged before it is committed on a majority: an order's
// model travels inside the order's log entry, so the 201 for an order
// means the order and its model are both replicated.
package coordinator
