// Package fsm is the coordinator's replicated state machine: the State
// every coordinator holds (state.go), the commands of the raft log and
// their codec (commands.go, ordercodec.go, batch.go), how each command
// changes the state (apply*.go), and snapshots (snapshot.go). Machine
// (fsm.go) holds a State and applies entries to it under a lock.
//
//	log entry bytes ──► DecodeCommand / decodeBatch
//	                         │
//	                         ▼
//	                    State.apply: validates fully, then mutates;
//	                         │       a refused command changes nothing
//	                         ▼
//	                    ApplyResult (or BatchResult) to the proposer
//
// It is deterministic and pure: everything a command needs — IDs, the
// leader's time, limits — travels inside it, so every coordinator that
// applies the same log holds the same state, byte for byte. It imports
// no network, reads no clock and opens no files (imports_test.go
// checks): the models' bytes go to a ModelStore it is given (models.go;
// MemModels keeps them in memory, the coordinator's store keeps them on
// disk), and the state holds only their metadata; its snapshots refer
// to the models in the store, and ExpandSnapshot brings their bytes in
// for a snapshot that leaves the node (snapshot.go, snapshot_expand.go).
// Apply reads nothing from outside the log, not even the time zone
// database: the owner's hours are the leader's to check before it
// proposes a placement (placeable, SchedPrinter). Each command names the
// lifecycle rules it applies with, so old logs replay as they did
// (rules.go, lifecycle.go). The raft adapter, the HTTP API and the leader's loops
// live in package coordinator.
package fsm
