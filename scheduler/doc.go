// Package scheduler decides which printer prints which job. It is pure:
// a Snapshot of pending jobs, printers and communities goes in, a Plan comes
// out; there is no clock (the caller supplies Snapshot.Now), no network, no
// globals and no goroutines. The same snapshot and seed always give the same
// plan. The coordinator re-checks a plan against its current state before
// committing it, so a plan is a proposal, never a command.
//
// One planning round:
//
//	Snapshot ──► feasibility (size, material, colour, nozzle, state,
//	             owner's hours, max job length, exclusions)
//	         ──► ranking (fair share between communities on printer-hours,
//	             earliest deadline among what is fair, earliest expected
//	             completion, reliability, locality, seeded tie-break)
//	         ──► Plan{Placements, Unplaced (each with a reason and code)}
//
// At most one job is placed on a printer per round, and only idle printers
// with a clear bed receive work.
package scheduler
