// Package e2e holds end-to-end tests and benchmarks of the coordinator
// cluster, driven through its HTTP API by package coordinator/client against
// real in-process three-node clusters (coordinator/coordinatortest):
//
//   - linearizability of the order API under faults (leader partitioned
//     away, a follower partitioned, the leader killed), checked with
//     porcupine on the recorded history;
//   - benchmarks: order intake through the API beside bare raft applies of
//     the same command size on the same cluster shape, and failover time.
//
// Everything is in the external test package; this file only documents it.
package e2e
