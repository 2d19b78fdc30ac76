// Package gossip is fabgrid's membership layer, shared by coordinators and
// workers: a hashicorp/memberlist pool with timings tuned so that a dead
// member is noticed in about two seconds on a LAN, optional AES encryption
// with a shared key, a compact node metadata record (role, id, HTTP address,
// printer capabilities and state) and an ordered event stream.
//
//	Start(Config) ──► *Node ──Join(addrs)──► pool
//	                    │
//	                    ├─ Members()            alive members with decoded Meta
//	                    ├─ UpdateMeta(Meta)      re-advertise (state changes)
//	                    ├─ Config.OnEvent ◄──── join / update / suspect / alive /
//	                    │                       leave / dead, in order, on one
//	                    │                       goroutine
//	                    └─ Leave(timeout), Close()
//
// Gossip is advisory: it spreads who is there and notices deaths fast, but a
// worker's HTTP heartbeats stay the authority for its leases, and a worker
// that cannot join the pool still works.
//
// Leave versus dead: memberlist reports both through NotifyLeave. A member
// that leaves gracefully first re-advertises its metadata with Leaving set,
// so the event is EventLeave; a member that vanishes (crash, kill, cut
// cable) is EventDead once probes and the suspicion timeout have run out.
//
// Suspicion: memberlist tells a node nothing of the members it suspects
// but its own failed probes (in its log) and successful ones, so a Node
// reports EventSuspect when its own probe of a member fails, and
// EventAlive when the member answers it again or outlives the longest
// suspicion memberlist would run (suspect.go). A suspicion other members
// raise shows here only once this node's probe fails too: in a pool of n
// members a dying member is often declared dead before that.
//
// Transports: a node binds UDP and TCP sockets unless Config.Transport
// gives it another memberlist transport. MemNetwork's in-memory transports
// let a test or simulation run many members in one process, crash one
// without a leave, and, inside a testing/synctest bubble, run memberlist's
// timers on the bubble's fake clock (Timing.Linger says how long to let a
// closed node's goroutines finish before the bubble ends).
//
// Node names must be unique in the pool. A worker that restarts quickly on a
// new port should use a fresh name (its stable identity is Meta.ID), so that
// its old incarnation simply dies and the new one joins without a name
// conflict; consumers key their view by Meta.ID and ignore a dead event for
// a name that is no longer the newest one of that ID.
package gossip
