// Package printerdrv is the host side of the Marlin serial protocol and a
// Marlin-compatible firmware emulator (the virtual printer) to prove it.
//
// The pipeline, host side:
//
//	G-code file ──PrepareJob──▶ Job commands (comments stripped, limits checked)
//	     │
//	     ▼
//	Host (pure state machine: numbering, checksums, flow control,
//	      resends, timeouts, temperatures; no I/O, no clock)
//	     │ Next(now) bytes            ▲ Received(line, now) / Tick(now)
//	     ▼                            │
//	Conn (thin driver: one reader goroutine, one loop) ◀──▶ serial port / pty / Pipe
//
// The virtual printer is the mirror image: Virtual.Serve reads bytes into an
// emulated RX buffer of the profile's size, checks line numbers and
// checksums, queues commands, models heaters and (through package motion)
// motion time, injects seeded faults, and records every executed command so
// a test can assert that each command of a file ran exactly once, in order.
//
// Errors are sentinels (ErrHalted, ErrThermalRunaway, ErrReset,
// ErrDisconnected, ErrCommStuck, ErrTimeout, ErrOverLimit, ErrCancelled)
// wrapped with context; check them with errors.Is.
package printerdrv
