// Package worker is the fabgrid worker daemon: one per home printer. It
// registers the printer with the coordinators, long-polls for jobs, fetches
// and checks each model, applies the owner's policy, slices the model for
// this printer, streams it with printerdrv, reports progress (which renews
// the job's lease) and results, and waits for the owner to clear the bed.
// Every exchange with the coordinators is started by the worker, so it
// works from behind a home NAT; gossip membership is optional.
//
// The job loop is a pure state machine (Machine, machine.go): events in
// (assignment, model fetched, sliced, print progress, print finished,
// progress answer, owner command, tick), actions out (fetch, slice, print,
// cancel, report progress, report result, persist). Time is an argument.
// Worker (worker.go) is the thin driver that owns the Machine on one
// goroutine and runs the actions' I/O on goroutines it owns:
//
//	coordinators ◄──register/heartbeat── session.go ──assignment──┐
//	             ◄──progress/result──────┐                        ▼
//	owner ──control.go (loopback)──► Worker loop ──► Machine.Step → []Action
//	                                     │   ▲
//	              fetch / slice / print ─┘   └─ completion events
//	                                     │
//	state dir ◄── store.go (id, in-flight job, bed; atomic writes)
//	gossip pool ◄── gossip.go (optional; metadata follows the state)
//
// On start, a job the state file says was in flight is reported failed at
// once ("worker restarted mid-print"), or, if its outcome was known but not
// yet delivered, that outcome is delivered.
package worker
