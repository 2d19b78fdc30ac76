// Package scheduler decides which printer prints which job. It is pure:
// a Snapshot of pending jobs, printers and communities goes in, a Plan comes
// out; there is no clock (the caller supplies Snapshot.Now), no network, no
// globals and no goroutines. The same snapshot and seed always give the same
// plan. The coordinator re-checks a plan against its current state before
// committing it (Feasible), so a plan is a proposal, never a command.
//
// One planning round (Place):
//
//	Snapshot
//	  │ index: printers → classes of interchangeable machines (filament,
//	  │        nozzle, bed, owner's limits, speed, neighbourhood) → groups
//	  │        (filament, nozzle, bed); idle members sorted best first
//	  ▼
//	fair queue: weighted fair queuing on printer-seconds between
//	  │ communities, earliest deadline first within a fair-share slack,
//	  │ then aged longest-first; scarce jobs (few printers can take them)
//	  │ go through it before the rest
//	  ▼
//	for each job: walk its material's groups → feasible classes (size,
//	  │ nozzle, owner's length and hours, exclusions) → the free printer
//	  │ with the earliest expected completion (time on it / reliability,
//	  │ neighbourhood bonus, big-bed penalty); seeded hash breaks ties
//	  ▼
//	Plan{Placements (≤ 1 per idle printer), Unplaced (code + reason from
//	     the groups' summaries: funnel in reason.go)}
//
// Cost is about linear in jobs: a job touches the groups carrying its
// material (not every printer), and reasons come from per-group running
// totals found by binary search. Files: types.go (the API), feasible.go
// (the checks; the bed fit is profile.Vec3.Fits and an owner's window is
// an hours.Window, read in the owner's zone at Snapshot.Now), estimate.go (pre-slicing estimates), index.go (classes,
// groups, the best-printer walk), queue.go (the fair queue), place.go
// (the round), reason.go (why a job waits).
package scheduler
